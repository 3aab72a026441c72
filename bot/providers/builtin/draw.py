"""Pillow drawing primitives shared by the built-in renderer's scene and terrain code.

Shapes are drawn at 2x and reduced (anti-aliasing); soft things are drawn small, blurred and scaled up,
which is both smooth and fast. Nothing here is random: callers pass their own ``random.Random``.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence

from PIL import Image, ImageDraw, ImageFilter

from bot.providers.builtin.palette import RGB, mix

Profile = Callable[[float], float]
"""A curve over x in [0, 1] (fraction of the width)."""
Polygon = Sequence[tuple[float, float]]
DrawFn = Callable[[ImageDraw.ImageDraw, float], None]
"""Draws on a mask at the given scale (1/4 of the image, 2x, ...)."""

_RADIAL_EDGE = 181.0  # Image.radial_gradient's value at distance 128 (the square's edge) from the centre


def gradient(size: tuple[int, int], stops: Sequence[tuple[float, RGB]], y0: int, y1: int) -> Image.Image:
    """A vertical gradient: ``stops`` are (fraction of the way from y0 to y1, colour), eased between."""
    w, h = size
    span = max(1, y1 - y0)
    column: list[RGB] = []
    for y in range(h):
        t = min(1.0, max(0.0, (y - y0) / span))
        colour = stops[-1][1]
        for (ta, ca), (tb, cb) in itertools.pairwise(stops):
            if t <= tb:
                u = 0.0 if tb == ta else max(0.0, (t - ta) / (tb - ta))
                colour = mix(ca, cb, u * u * (3 - 2 * u))
                break
        column.append(colour)
    strip = Image.new("RGB", (1, h))
    strip.putdata(column)
    return strip.resize((w, h), Image.Resampling.NEAREST)


def radial_mask(size: tuple[int, int], falloff: Callable[[float], float]) -> Image.Image:
    """An L mask of ``255 * falloff(d)``, d = 0 at the centre and 1 on the inscribed ellipse."""
    lut = [round(255 * max(0.0, min(1.0, falloff(v / _RADIAL_EDGE)))) for v in range(256)]
    return Image.radial_gradient("L").resize(size, Image.Resampling.BILINEAR).point(lut)


def glow(img: Image.Image, centre: tuple[float, float], radius: float, colour: RGB, strength: float) -> None:
    """A soft round light, strongest at ``centre``."""
    r = max(2, round(radius))
    mask = radial_mask((2 * r, 2 * r), lambda d: strength * max(0.0, 1 - d) ** 2.4)
    img.paste(colour, (round(centre[0]) - r, round(centre[1]) - r), mask)


def soft_mask(size: tuple[int, int], factor: int, blur: float, draw_fn: DrawFn) -> Image.Image:
    """A mask drawn at 1/``factor`` scale, blurred (``blur`` in full-size pixels) and scaled up."""
    w, h = size
    small = Image.new("L", (max(1, w // factor), max(1, h // factor)), 0)
    draw_fn(ImageDraw.Draw(small), 1 / factor)
    if blur > 0:
        small = small.filter(ImageFilter.GaussianBlur(blur / factor))
    return small.resize(size, Image.Resampling.BICUBIC)


def shape_mask(size: tuple[int, int], top: Profile, extra: Sequence[Polygon] = ()) -> Image.Image:
    """An anti-aliased L mask: everything below ``y = top(x / width)``, plus ``extra`` polygons."""
    w, h = size
    step = max(2, w // 400)
    outline = [(x * 2, top(x / w) * 2) for x in range(0, w + step, step)]
    mask = Image.new("L", (w * 2, h * 2), 0)
    draw = ImageDraw.Draw(mask)
    draw.polygon([*outline, (w * 2 + 2, h * 2 + 2), (-2, h * 2 + 2)], fill=255)
    for polygon in extra:
        draw.polygon([(x * 2, y * 2) for x, y in polygon], fill=255)
    return mask.reduce(2)


def noise(size: tuple[int, int], rng: random.Random, factor: int, amplitude: int) -> Image.Image:
    """Noise around 128 (±``amplitude``) made at 1/``factor`` scale and smoothly enlarged."""
    w, h = size
    sw, sh = max(1, w // factor), max(1, h // factor)
    small = Image.frombytes("L", (sw, sh), rng.randbytes(sw * sh))
    lut = [round(128 + (v - 127.5) * amplitude / 127.5) for v in range(256)]
    return small.point(lut).resize(size, Image.Resampling.BICUBIC)


def tint(img: Image.Image, colour: RGB, mask: Image.Image) -> None:
    """Paint ``colour`` through ``mask`` (same size as ``img``), touching only the mask's bounding box."""
    box = mask.getbbox()
    if box is not None:
        img.paste(colour, box, mask.crop(box))
