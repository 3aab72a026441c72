"""Pillow drawing primitives shared by the built-in renderer's scene and terrain code.

Shapes are drawn at 2x and reduced (anti-aliasing); soft things are drawn small, blurred and scaled up,
which is both smooth and fast. Nothing here is random: callers pass their own ``random.Random``.

Work is kept to the pixels that can change, always with the pixels a whole-image version would give:
a terrain mask is drawn only over the rows holding its edge (:func:`shape_band`), a soft mask is
scaled up only where it holds something (:func:`soft_tint`), and the distance field of a size that
recurs is cached (:func:`radial_distance`).
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from bot.providers.builtin.palette import RGB, mix

Profile = Callable[[float], float]
"""A curve over x in [0, 1] (fraction of the width)."""
Polygon = Sequence[tuple[float, float]]
DrawFn = Callable[[ImageDraw.ImageDraw, float], None]
"""Draws on a mask at the given scale (1/4 of the image, 2x, ...)."""

TEXTURE_CACHE_SIZE = 6
"""Entries in each cache of per-size textures (see :func:`radial_distance`)."""
_RADIAL_EDGE = 181.0  # Image.radial_gradient's value at distance 128 (the square's edge) from the centre


def gradient(size: tuple[int, int], stops: Sequence[tuple[float, RGB]], y0: int, y1: int) -> Image.Image:
    """A vertical gradient: ``stops`` are (fraction of the way from y0 to y1, colour), eased between."""
    return gradient_rows(size, stops, y0, y1, 0, size[1])


def gradient_rows(
    size: tuple[int, int], stops: Sequence[tuple[float, RGB]], y0: int, y1: int, start: int, stop: int
) -> Image.Image:
    """Rows ``start`` to ``stop`` of ``gradient(size, stops, y0, y1)``, made without the others."""
    w, h = size
    start, stop = max(0, min(h, start)), max(0, min(h, stop))
    span = max(1, y1 - y0)
    # Rows at or above y0 are all the first colour, rows from y0 + span on all the last: only the rows
    # in between are worked out one by one.
    flat_end, ramp_end = max(start, min(stop, y0 + 1)), max(start, min(stop, y0 + span))
    column = bytearray(bytes(_eased(stops, 0.0)) * (flat_end - start))
    for y in range(flat_end, ramp_end):
        column += bytes(_eased(stops, min(1.0, max(0.0, (y - y0) / span))))
    column += bytes(_eased(stops, 1.0)) * (stop - ramp_end)
    if stop <= start:
        return Image.new("RGB", (w, 0))
    return Image.frombytes("RGB", (1, stop - start), bytes(column)).resize(
        (w, stop - start), Image.Resampling.NEAREST
    )


def _eased(stops: Sequence[tuple[float, RGB]], t: float) -> RGB:
    """The colour at ``t`` (0..1) of the gradient ``stops``, smoothstep-eased between two stops."""
    for (ta, ca), (tb, cb) in itertools.pairwise(stops):
        if t <= tb:
            u = 0.0 if tb == ta else max(0.0, (t - ta) / (tb - ta))
            return mix(ca, cb, u * u * (3 - 2 * u))
    return stops[-1][1]


def radial_mask(
    size: tuple[int, int], falloff: Callable[[float], float], *, cached: bool = False
) -> Image.Image:
    """An L mask of ``255 * falloff(d)``, d = 0 at the centre and 1 on the inscribed ellipse.

    ``cached``: the size recurs (the vignette, the wide glow), so keep its distance field for next time.
    """
    lut = [round(255 * max(0.0, min(1.0, falloff(v / _RADIAL_EDGE)))) for v in range(256)]
    distance = radial_distance(size) if cached else _radial_distance(size)
    return distance.point(lut)


@functools.lru_cache(maxsize=TEXTURE_CACHE_SIZE)
def radial_distance(size: tuple[int, int]) -> Image.Image:
    """The distance field :func:`radial_mask` starts from, kept for the last few sizes asked for.

    Shared between callers: never modify it. Bounded by entries, hence by memory whatever sizes come:
    one byte a pixel, at most ~2458² (the wide glow of a 2048-pixel image, 6 MB), so at most about
    ``TEXTURE_CACHE_SIZE`` x 6 MB; at 1024 pixels a size costs ~1 MB (vignette) + 1.5 MB (glow).
    """
    return _radial_distance(size)


def _radial_distance(size: tuple[int, int]) -> Image.Image:
    return Image.radial_gradient("L").resize(size, Image.Resampling.BILINEAR)


def glow(
    img: Image.Image,
    centre: tuple[float, float],
    radius: float,
    colour: RGB,
    strength: float,
    *,
    cached: bool = False,
) -> None:
    """A soft round light, strongest at ``centre`` (``cached``: the radius recurs, see radial_mask)."""
    r = max(2, round(radius))
    mask = radial_mask((2 * r, 2 * r), lambda d: strength * max(0.0, 1 - d) ** 2.4, cached=cached)
    # Pasting a plain image through the mask gives the pixels of filling through it, ~20% sooner.
    img.paste(Image.new(img.mode, mask.size, colour), (round(centre[0]) - r, round(centre[1]) - r), mask)


def soft_tint(img: Image.Image, colour: RGB, factor: int, blur: float, draw_fn: DrawFn) -> None:
    """Paint ``colour`` through a mask drawn at 1/``factor`` scale, blurred (``blur`` in full-size
    pixels) and scaled up (bicubic).

    Only the part of the small mask that holds something is scaled up, with a margin wider than the
    bicubic kernel (2 pixels), so the pixels are those of scaling up all of it; a size that is not a
    multiple of ``factor`` (a fractional scale) is scaled up whole.
    """
    w, h = img.size
    small = Image.new("L", (max(1, w // factor), max(1, h // factor)), 0)
    draw_fn(ImageDraw.Draw(small), 1 / factor)
    if blur > 0:
        small = small.filter(ImageFilter.GaussianBlur(blur / factor))
    box = small.getbbox()
    if box is None:
        return
    if (small.width * factor, small.height * factor) != (w, h):
        tint(img, colour, small.resize((w, h), Image.Resampling.BICUBIC))
        return
    source, kept = _grow(box, 6, small.size), _grow(box, 3, small.size)
    scaled = small.crop(source).resize(
        ((source[2] - source[0]) * factor, (source[3] - source[1]) * factor), Image.Resampling.BICUBIC
    )
    left, top = (kept[0] - source[0]) * factor, (kept[1] - source[1]) * factor
    part = scaled.crop((left, top, left + (kept[2] - kept[0]) * factor, top + (kept[3] - kept[1]) * factor))
    tint(img, colour, part, (kept[0] * factor, kept[1] * factor))


def _grow(box: tuple[int, int, int, int], by: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    return max(0, box[0] - by), max(0, box[1] - by), min(size[0], box[2] + by), min(size[1], box[3] + by)


def blur_reach(radius: float) -> int:
    """Rows (or columns) beyond the last drawn one that ``ImageFilter.GaussianBlur(radius)`` can reach,
    with room to spare: Pillow blurs with three box passes of at most ``radius + 1`` pixels each.

    A mask whose rows above ``y`` are 0 blurs the same drawn from ``y - blur_reach(radius)`` down as
    drawn whole (edges are extended, and that far up they are 0 either way).
    """
    return 3 * (math.ceil(radius) + 2) + 2


@dataclass(frozen=True, slots=True)
class Band:
    """The rows of a full-size L mask that hold its edge: rows ``y`` to ``y + mask.height`` of a mask
    ``height`` rows high whose rows above ``y`` are all 0 and whose rows below the band are all 255."""

    mask: Image.Image
    y: int
    height: int

    def first_row(self) -> int | None:
        """The first row of the full mask with a pixel above 0 (None: it is all 0)."""
        box = self.mask.getbbox()
        if box is not None:
            return self.y + box[1]
        end = self.y + self.mask.height
        return end if end < self.height else None

    def solid_end(self) -> int | None:
        """One past the last row of the full mask with a pixel below 255 (None: it is all 255)."""
        box = ImageOps.invert(self.mask).getbbox()
        if box is not None:
            return self.y + box[3]
        return self.y if self.y > 0 else None

    def rows(self, top: int, bottom: int) -> Image.Image:
        """Rows ``top`` to ``bottom`` of the full mask."""
        out = self.mask.crop((0, top - self.y, self.mask.width, bottom - self.y))  # 0 outside the band
        end = self.y + self.mask.height
        if bottom > end:
            out.paste(255, (0, max(top, end) - top, out.width, bottom - top))
        return out


def shape_band(size: tuple[int, int], top: Profile, extra: Sequence[Polygon] = ()) -> Band:
    """An anti-aliased mask of everything below ``y = top(x / width)`` plus ``extra`` polygons, as the
    :class:`Band` of rows between the highest point of all and the lowest point of the curve.

    Drawn at 2x and reduced; the polygons are moved up by an even number of pixels, which leaves
    their rasterisation (on whole-pixel vertices) and the 2x2 reduction exactly as on a full canvas.
    """
    w, h = size
    step = max(2, w // 400)
    outline = [(x * 2, top(x / w) * 2) for x in range(0, w + step, step)]
    polygons = [[(x * 2, y * 2) for x, y in polygon] for polygon in extra]
    highest = min([y for _, y in outline] + [y for polygon in polygons for _, y in polygon])
    lo = max(0, min(h - 1, math.floor(highest / 2) - 1))
    hi = max(lo + 1, min(h, math.ceil(max(y for _, y in outline) / 2) + 2))
    band = _shape_rows((w, h), lo, hi, outline, polygons)
    clear_above = lo == 0 or band.crop((0, 0, w, 1)).getextrema() == (0, 0)
    solid_below = hi == h or band.crop((0, hi - lo - 1, w, hi - lo)).getextrema() == (255, 255)
    if not (clear_above and solid_below):  # never seen; the whole mask is always right
        lo, hi = 0, h
        band = _shape_rows((w, h), lo, hi, outline, polygons)
    return Band(band, lo, h)


def _shape_rows(
    size: tuple[int, int],
    lo: int,
    hi: int,
    outline: Sequence[tuple[float, float]],
    polygons: Sequence[Polygon],
) -> Image.Image:
    """Rows ``lo`` to ``hi`` of the mask below ``outline`` (2x coordinates) plus ``polygons``."""
    w, h = size
    shift = 2 * lo
    mask = Image.new("L", (w * 2, (hi - lo) * 2), 0)
    draw = ImageDraw.Draw(mask)
    bottom = h * 2 + 2 - shift
    draw.polygon([*((x, y - shift) for x, y in outline), (w * 2 + 2, bottom), (-2, bottom)], fill=255)
    for polygon in polygons:
        draw.polygon([(x, y - shift) for x, y in polygon], fill=255)
    return mask.reduce(2)


def noise(size: tuple[int, int], rng: random.Random, factor: int, amplitude: int) -> Image.Image:
    """Noise around 128 (±``amplitude``) made at 1/``factor`` scale and smoothly enlarged."""
    w, h = size
    sw, sh = max(1, w // factor), max(1, h // factor)
    small = Image.frombytes("L", (sw, sh), rng.randbytes(sw * sh))
    lut = [round(128 + (v - 127.5) * amplitude / 127.5) for v in range(256)]
    return small.point(lut).resize(size, Image.Resampling.BICUBIC)


def tint(img: Image.Image, colour: RGB, mask: Image.Image, at: tuple[int, int] = (0, 0)) -> None:
    """Paint ``colour`` through ``mask`` placed at ``at`` (by default the same size as ``img``), touching
    only the mask's bounding box."""
    box = mask.getbbox()
    if box is not None:
        x, y = at
        region = (box[2] - box[0], box[3] - box[1])
        img.paste(Image.new(img.mode, region, colour), (box[0] + x, box[1] + y), mask.crop(box))
