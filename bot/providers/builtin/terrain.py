"""The ground of a built-in scene: ridges fading into haze, trees, a skyline, the sea, a neon floor."""

from __future__ import annotations

import math
import random

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from bot.providers.builtin.draw import (
    Band,
    Polygon,
    Profile,
    blur_reach,
    gradient,
    gradient_rows,
    shape_band,
    soft_tint,
    tint,
)
from bot.providers.builtin.palette import RGB, Palette, Scene, mix

Rect = tuple[float, float, float, float]
_AMPLITUDE = {"mountains": 0.16, "hills": 0.07, "dunes": 0.06}


def draw_ground(img: Image.Image, rng: random.Random, scene: Scene, horizon: int, sun_x: float) -> None:
    """Draw the scene's terrain over the sky, farthest layer first."""
    w, h = img.size
    p, terrain = scene.palette, scene.terrain
    flat = terrain == "water" or scene.style == "neon"
    layers = 2 if flat else rng.randint(4, 5)
    kind = terrain if terrain in _AMPLITUDE else "hills"
    for i in range(layers):
        t = i / (layers - 1)
        colour = mix(mix(p.land[0], p.land[1], t), p.sky[2], 0.55 * (1 - t) ** 1.3)
        if scene.night:
            colour = mix(colour, p.sky[0], 0.2 * (1 - t))
        if flat:
            base, amp = horizon + h * 0.003, h * (0.04 if terrain == "water" else 0.13 - 0.05 * i)
        else:
            base = horizon + (h - horizon) * 0.9 * (i / layers) ** 1.25
            amp = h * _AMPLITUDE[kind] * (1 - 0.45 * t)
        prof = _profile(rng, kind)
        if terrain == "water":
            prof = _islands(prof, rng.uniform(0.45, 0.6))
        top = _curve(prof, base, amp)
        extra: list[Polygon] = []
        buildings: list[Rect] = []
        if terrain == "trees" and i >= 1:
            extra = _trees(rng, top, w, h * (0.035 + 0.06 * t))
        if terrain == "city":
            tallest = h * (0.12 + 0.2 * (1 - t)) * (1.5 if scene.style == "neon" else 1.0)
            buildings = _skyline(rng, base - amp * 0.5, tallest, w, h)
            extra = [_rect_polygon(b) for b in buildings]
        band = shape_band(img.size, top, extra)
        haze = mix(colour, p.sky[2], 0.45) if i < layers - 1 else colour
        _paste_layer(img, band, colour, haze, watercolor=scene.style == "watercolor")
        if scene.style == "neon" and terrain != "city":
            _rim(img, top, p.accent2 if i == 0 else p.accent)
        if buildings:
            _windows(img, rng, buildings, p, night=scene.night)
    if terrain == "water":
        _sea(img, rng, horizon, sun_x, p)
    if scene.style == "neon":
        _grid(img, horizon, p)


def _paste_layer(img: Image.Image, mask: Band, colour: RGB, haze: RGB, *, watercolor: bool) -> None:
    """Fill ``mask`` with ``colour`` fading to ``haze`` lower down (mist between the layers).

    Only the band holding the layer's edge needs the mask; below it the fill is pasted as is.
    """
    w, h = img.size
    first, solid_end = mask.first_row(), mask.solid_end()
    if first is None:
        return
    pad = round(h * 0.02) if watercolor else 0
    top = max(0, first - pad)
    bottom = min(h, (solid_end if solid_end is not None else top) + pad)
    stops, size, ramp_end = [(0.0, colour), (1.0, haze)], (w, h - top), (h - top) // 2
    img.paste(gradient_rows(size, stops, 0, ramp_end, bottom - top, h - top), (0, bottom))
    fill = gradient_rows(size, stops, 0, ramp_end, 0, bottom - top)
    band = mask.rows(top, bottom)
    if watercolor:  # soft washes with pigment pooling along the top edge
        band = band.filter(ImageFilter.GaussianBlur(h * 0.002))
        edge = ImageChops.subtract(band, band.filter(ImageFilter.GaussianBlur(h * 0.006)))
        img.paste(fill, (0, top), band)
        img.paste(mix(colour, (0, 0, 0), 0.25), (0, top, w, bottom), edge.point(lambda v: min(255, v * 2)))
    else:
        img.paste(fill, (0, top), band)


def _profile(rng: random.Random, kind: str) -> Profile:
    """A height curve on [0, 1] normalised to [0, 1]: ridged for mountains, smooth for hills and dunes."""
    octaves = []
    freq = rng.uniform(0.6, 1.1) if kind == "dunes" else rng.uniform(1.0, 2.0)
    amp = 1.0
    for _ in range({"mountains": 6, "hills": 3, "dunes": 2}.get(kind, 3)):
        octaves.append((freq, amp, rng.uniform(0, math.tau)))
        freq *= rng.uniform(1.9, 2.3)
        amp *= 0.48 if kind == "mountains" else 0.35

    def raw(x: float) -> float:
        v = 0.0
        for i, (f, a, phase) in enumerate(octaves):
            angle = math.pi * f * x + phase
            if kind == "mountains" and i < 2:
                v += a * (1 - 2 * abs(math.sin(angle)))
            elif kind == "dunes":
                v += a * (math.sin(angle) + 0.35 * math.sin(2 * angle))
            else:
                v += a * math.sin(angle)
        return v

    samples = [raw(i / 255) for i in range(256)]
    low, span = min(samples), max(1e-9, max(samples) - min(samples))
    return lambda x: (raw(x) - low) / span


def _curve(prof: Profile, base: float, amp: float) -> Profile:
    return lambda x: base - amp * prof(x)


def _islands(prof: Profile, cut: float) -> Profile:
    return lambda x: max(0.0, prof(x) - cut) / (1 - cut)


def _trees(rng: random.Random, ground: Profile, w: int, size: float) -> list[Polygon]:
    """Conifers (three stacked triangles each) standing on ``ground``."""
    trees: list[Polygon] = []
    x = rng.uniform(-size, 0)
    while x < w + size:
        th = size * rng.uniform(0.6, 1.25)
        gy = ground(min(1.0, max(0.0, x / w))) + th * 0.15
        for tier in range(3):
            tw, ty = th * (0.42 - 0.1 * tier), gy - th * 0.3 * tier
            trees.append([(x - tw / 2, ty), (x, ty - th * 0.5), (x + tw / 2, ty)])
        x += th * rng.uniform(0.18, 0.55)
    return trees


def _skyline(rng: random.Random, base: float, tallest: float, w: int, h: int) -> list[Rect]:
    """Buildings (with the odd stepped top or mast) standing on ``base``."""
    rects: list[Rect] = []
    x = rng.uniform(-h * 0.05, 0)
    while x < w:
        bw = h * rng.uniform(0.035, 0.09)
        top = base - tallest * rng.uniform(0.25, 1.0)
        rects.append((x, top, x + bw, h))
        if rng.random() < 0.3:
            rects.append((x + bw * 0.2, top - bw * 0.35, x + bw * 0.8, top))
        if rng.random() < 0.2:
            rects.append((x + bw * 0.47, top - bw * 0.9, x + bw * 0.53, top))
        x += bw + h * rng.uniform(0.0, 0.012)
    return rects


def _rect_polygon(r: Rect) -> Polygon:
    return [(r[0], r[1]), (r[2], r[1]), (r[2], r[3]), (r[0], r[3])]


def _windows(img: Image.Image, rng: random.Random, buildings: list[Rect], p: Palette, *, night: bool) -> None:
    h = img.size[1]
    draw = ImageDraw.Draw(img)
    cell = max(3.0, h * 0.011)
    warm = (255, 214, 140)
    colours = [p.accent, p.accent2, warm] if night else [mix(warm, (255, 255, 255), 0.4)]
    for x0, y0, x1, y1 in buildings:
        if x1 - x0 < cell * 1.5:
            continue  # a mast or a stepped top
        y = y0 + cell
        while y < min(y1, h) - cell:
            x = x0 + cell * 0.6
            while x < x1 - cell:
                if rng.random() < (0.35 if night else 0.12):
                    draw.rectangle((x, y, x + cell * 0.5, y + cell * 0.6), fill=rng.choice(colours))
                x += cell
            y += cell * 1.3


def _rim(img: Image.Image, top: Profile, colour: RGB) -> None:
    """A neon line along a ridge, with a soft glow."""
    w, h = img.size
    line = [(x, top(x / w)) for x in range(0, w + 4, 4)]
    width = max(1, round(h * 0.003))

    def draw_glow(draw: ImageDraw.ImageDraw, s: float) -> None:
        draw.line([(x * s, y * s) for x, y in line], fill=150, width=max(1, round(width * 4 * s)))

    soft_tint(img, colour, 4, h * 0.012, draw_glow)
    crisp = Image.new("L", (w * 2, h * 2), 0)
    ImageDraw.Draw(crisp).line([(x * 2, y * 2) for x, y in line], fill=230, width=width * 2)
    tint(img, mix(colour, (255, 255, 255), 0.4), crisp.reduce(2))


def _grid(img: Image.Image, horizon: int, p: Palette) -> None:
    """The synthwave floor: a dark plane with glowing lines converging on the horizon.

    The lines lie below the horizon, so their mask is drawn (at 2x), blurred and painted only from
    a little above it: an even shift at 2x and :func:`blur_reach` keep the pixels those of a whole mask.
    """
    w, h = img.size
    depth = h - horizon
    img.paste(gradient((w, depth), [(0.0, p.land[0]), (1.0, p.land[1])], 0, depth), (0, horizon))
    width = max(2, round(h * 0.005))
    blur = h * 0.006
    top = max(0, horizon - width - blur_reach(blur))
    shift = 2 * top
    mask = Image.new("L", (w * 2, (h - top) * 2), 0)
    draw = ImageDraw.Draw(mask)
    for k in range(1, 14):
        y = 2 * (horizon + depth * (k / 13) ** 2.2)
        draw.line([(0, y - shift), (2 * w, y - shift)], fill=round(120 + 100 * k / 13), width=width)
    for k in range(-16, 17):
        draw.line(
            [(w + 2 * k * w * 0.012, 2 * horizon - shift), (w + 2 * k * w * 0.14, 2 * h - shift)],
            fill=190,
            width=width,
        )
    mask = mask.reduce(2)
    halo = mask.filter(ImageFilter.GaussianBlur(blur)).point(lambda v: min(255, v * 3))
    tint(img, p.accent2, halo, (0, top))
    tint(img, mix(p.accent2, (255, 255, 255), 0.35), mask, (0, top))
    band = max(1, round(depth * 0.35))
    fade = gradient((w, band), [(0.0, p.sky[2]), (1.0, p.land[0])], 0, band)
    img.paste(
        fade, (0, horizon), Image.linear_gradient("L").rotate(180).resize(fade.size).point(lambda v: v * 0.6)
    )


def _sea(img: Image.Image, rng: random.Random, horizon: int, sun_x: float, p: Palette) -> None:
    """Water below the horizon: sky-tinted near it, a broken reflection of the sun, faint wave lines.

    Glints and waves lie below the horizon (a wave line reaches up by half its width), so their masks
    are drawn, blurred and painted only from a little above it, as in :func:`_grid`.
    """
    w, h = img.size
    depth = h - horizon
    stops = [(0.0, mix(p.water[0], p.sky[2], 0.45)), (0.4, p.water[0]), (1.0, p.water[1])]
    img.paste(gradient((w, depth), stops, 0, depth), (0, horizon))
    glint_blur, wave_blur = h * 0.0015, h * 0.001
    top = max(0, horizon - round(h * 0.006) - 2 - blur_reach(max(glint_blur, wave_blur)))
    glints = Image.new("L", (w, h - top), 0)
    draw = ImageDraw.Draw(glints)
    y = float(horizon + 1)
    while y < h:
        d = (y - horizon) / depth
        half = w * (0.015 + 0.07 * d) * rng.uniform(0.3, 1.2)
        x = sun_x + rng.uniform(-1, 1) * w * 0.02 * (1 + d)
        thick = max(1.0, h * 0.003 * (1 + 3 * d))
        draw.ellipse(
            (x - half, y - top, x + half, y + thick - top),
            fill=round(200 * (1 - 0.7 * d) * rng.uniform(0.4, 1)),
        )
        y += thick * rng.uniform(1.6, 3.2)
    tint(
        img, mix(p.glow, (255, 255, 255), 0.5), glints.filter(ImageFilter.GaussianBlur(glint_blur)), (0, top)
    )
    waves = Image.new("L", (w, h - top), 0)
    draw = ImageDraw.Draw(waves)
    for k in range(1, 60):
        y = horizon + depth * (k / 60) ** 1.7
        width = max(1, round(h * 0.002 * (1 + 2 * k / 60)))
        for _ in range(rng.randint(2, 6)):
            x, length = rng.uniform(-0.1, 1.0) * w, w * rng.uniform(0.03, 0.2)
            draw.line([(x, y - top), (x + length, y - top)], fill=rng.randint(20, 80), width=width)
    tint(
        img,
        mix(p.water[0], (255, 255, 255), 0.5),
        waves.filter(ImageFilter.GaussianBlur(wave_blur)),
        (0, top),
    )
