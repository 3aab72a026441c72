"""What sets a scene around its motifs: the ground they stand on (a meadow, snow, a table, the sea bed),
the weather (rain, snow, a storm with lightning and breaking waves, fog), a rainbow, a planet, and a
party's bunting and confetti.
"""

from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw, ImageFilter

from bot.providers.builtin.draw import gradient, soft_tint, tint
from bot.providers.builtin.palette import RGB, Palette, mix

_SNOW = (244, 247, 252)


def stage(img: Image.Image, rng: random.Random, p: Palette, top: float, *, snow: bool, sand: bool) -> None:
    """A gentle foreground rise from ``top`` (fraction of the height) down, for subjects to stand on.

    Only the rows it covers are drawn (at 2x, reduced)."""
    w, h = img.size
    colour = _SNOW if snow else (226, 206, 160) if sand else mix(p.land[1], p.land[0], 0.35)
    phase, amp = rng.uniform(0, math.tau), h * rng.uniform(0.008, 0.02)
    y0 = max(0, math.floor(top * h - amp - 2))
    k = 2
    outline = [(x, top * h + amp * math.sin(phase + 2.2 * x / w) - y0) for x in range(0, w + 8, 8)]
    mask = Image.new("L", (w * k, (h - y0) * k), 0)
    ImageDraw.Draw(mask).polygon(
        [*((x * k, y * k) for x, y in outline), (w * k, (h - y0) * k), (0, (h - y0) * k)], fill=255
    )
    mask = mask.reduce(k)
    lower = mix(colour, (0, 0, 0), 0.12) if not snow else (206, 218, 236)
    img.paste(gradient((w, h - y0), [(0.0, colour), (1.0, lower)], 0, h - y0), (0, y0), mask)
    if snow:  # a blue shadow line along the crest
        band = round(h * 0.06)
        crest = Image.new("L", (w, band), 0)
        ImageDraw.Draw(crest).line([(x, y + h * 0.01) for x, y in outline], fill=90, width=max(2, h // 90))
        tint(img, (190, 206, 232), crest.filter(ImageFilter.GaussianBlur(h * 0.004)), (0, y0))


def table(img: Image.Image, p: Palette, top: float) -> None:
    """A table with a checked cloth across the lower part of the picture."""
    w, h = img.size
    y0 = round(top * h)
    cloth = mix(p.accent2, (250, 250, 250), 0.3)
    check = mix(p.glow, (214, 60, 70), 0.6)
    img.paste(gradient((w, h - y0), [(0.0, cloth), (1.0, mix(cloth, (0, 0, 0), 0.12))], 0, h - y0), (0, y0))
    band = Image.new("L", (w, h - y0), 0)
    draw = ImageDraw.Draw(band)
    cell = max(4, h // 18)
    for i in range(0, w // cell + 2, 2):
        draw.rectangle((i * cell, 0, i * cell + cell - 1, h), fill=70)
    rows = 0
    y = 0.0
    while y < h - y0:
        draw.rectangle((0, y, w, y + cell * 0.6), fill=70 if rows % 2 else 0)
        y += cell * 0.6
        rows += 1
    tint(img, check, band, (0, y0))
    ImageDraw.Draw(img).rectangle((0, y0 - max(2, h // 200), w, y0), fill=mix(cloth, (0, 0, 0), 0.3))


def rain(img: Image.Image, rng: random.Random, heavy: bool) -> None:
    """Slanted streaks of rain over everything."""
    w, h = img.size
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    slant = rng.uniform(0.15, 0.3)
    for _ in range(int(w * h / (2500 if heavy else 5000))):
        x, y, length = rng.uniform(-0.1 * w, w), rng.uniform(0, h), h * rng.uniform(0.02, 0.05)
        draw.line(
            [(x, y), (x + length * slant, y + length)], fill=rng.randint(60, 150), width=max(1, h // 700)
        )
    tint(img, (214, 224, 240), mask)


def snowfall(img: Image.Image, rng: random.Random) -> None:
    """Soft snowflakes of several sizes."""
    w, h = img.size
    flakes = [
        (rng.uniform(0, w), rng.uniform(0, h), h * rng.uniform(0.002, 0.007))
        for _ in range(int(w * h / 3500))
    ]

    def draw_flakes(draw: ImageDraw.ImageDraw, s: float) -> None:
        for x, y, r in flakes:
            draw.ellipse(((x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s), fill=230)

    soft_tint(img, (255, 255, 255), 2, h * 0.0015, draw_flakes)


def lightning(img: Image.Image, rng: random.Random, horizon: float) -> None:
    """A forked bolt from the clouds with a glow."""
    w, h = img.size
    x, y = w * rng.uniform(0.15, 0.85), 0.0
    points = [(x, y)]
    while y < horizon * h * 0.9:
        y += h * rng.uniform(0.03, 0.07)
        x += w * rng.uniform(-0.04, 0.04)
        points.append((x, y))

    def draw_bolt(draw: ImageDraw.ImageDraw, s: float) -> None:
        draw.line([(px * s, py * s) for px, py in points], fill=200, width=max(1, round(h * 0.02 * s)))

    soft_tint(img, (200, 210, 255), 4, h * 0.02, draw_bolt)
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).line(points, fill=255, width=max(2, h // 250))
    fork = points[len(points) // 2]
    ImageDraw.Draw(mask).line(
        [fork, (fork[0] + w * 0.06, fork[1] + h * 0.08)], fill=230, width=max(1, h // 400)
    )
    tint(img, (250, 250, 255), mask)


def storm_clouds(img: Image.Image, rng: random.Random, horizon: float) -> None:
    """Heavy dark cloud banks along the top."""
    w, h = img.size
    puffs = [(rng.uniform(-0.1, 1.1) * w, rng.uniform(0.0, 0.25) * h * horizon * 1.4, rng.uniform(0.08,
        0.16) * w)
             for _ in range(18)]  # fmt: skip

    def draw_puffs(draw: ImageDraw.ImageDraw, s: float) -> None:
        for x, y, r in puffs:
            draw.ellipse(
                ((x - r * 1.4) * s, (y - r * 0.6) * s, (x + r * 1.4) * s, (y + r * 0.6) * s), fill=170
            )

    soft_tint(img, (50, 54, 66), 4, h * 0.02, draw_puffs)


def waves(img: Image.Image, rng: random.Random, p: Palette, top: float) -> None:
    """Big stylised breaking waves across the foreground: pointed crests, foam along them."""
    w, h = img.size
    draw = ImageDraw.Draw(img)
    for row in range(3):
        y = h * (top + (1 - top) * 0.32 * row)
        colour = mix((120, 150, 172), (34, 46, 66), 0.35 * row)
        amp, length = h * (0.045 + 0.012 * row), w * rng.uniform(0.16, 0.24)
        phase = rng.uniform(0, math.tau)
        pts = [
            (x, y - amp * (0.5 + 0.5 * math.sin(phase + math.tau * x / length)) ** 3)
            for x in range(0, w + 4, 4)
        ]
        draw.polygon([*pts, (w, h), (0, h)], fill=colour)
        draw.line(pts, fill=(240, 246, 252), width=max(2, h // 110))
        for x, yy in pts[::3]:
            if yy < y - amp * 0.8:
                r = h * 0.007
                draw.ellipse((x - r, yy - r * 1.6, x + r, yy + r * 0.4), fill=(246, 250, 255))


def fog(img: Image.Image, horizon: float) -> None:
    """A pale band of mist over the horizon and the lower ground."""
    w, h = img.size
    band = Image.linear_gradient("L").resize((w, h))
    centre = round(horizon * h)
    mask = band.point(lambda v: max(0, 150 - abs(v - 255 * centre / h) * 2.4))
    tint(img, (226, 230, 236), mask)


def rainbow(img: Image.Image, rng: random.Random, horizon: float) -> None:
    """A soft rainbow arc rising from behind the horizon."""
    w, h = img.size
    cx, cy, r = w * rng.uniform(0.35, 0.65), horizon * h, w * rng.uniform(0.32, 0.42)
    colours = ((230, 60, 60), (246, 150, 50), (246, 220, 70), (90, 190, 90), (70, 130, 230), (140, 90, 200))
    band = r * 0.035
    for i, colour in enumerate(colours):
        rr = r - i * band

        def draw_arc(draw: ImageDraw.ImageDraw, s: float, rr: float = rr) -> None:
            draw.arc(((cx - rr) * s, (cy - rr) * s, (cx + rr) * s, (cy + rr) * s), 180, 360, fill=120,
                     width=max(1, round(band * s)))  # fmt: skip

        soft_tint(img, colour, 2, h * 0.002, draw_arc)


def underwater(img: Image.Image, rng: random.Random, p: Palette) -> None:
    """Deep water over the whole picture: a blue-green gradient, light rays and rising bubbles."""
    w, h = img.size
    deep = gradient(img.size, [(0.0, (70, 170, 210)), (0.6, (30, 110, 160)), (1.0, (14, 60, 100))], 0, h)
    img.paste(deep)
    rays = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(rays)
    for _ in range(5):
        x = w * rng.uniform(0, 1)
        draw.polygon([(x, 0), (x + w * 0.06, 0), (x + w * 0.25, h), (x + w * 0.12, h)], fill=40)
    tint(img, (200, 240, 255), rays.filter(ImageFilter.GaussianBlur(w * 0.01)))
    stage(img, rng, p, 0.86, snow=False, sand=True)
    bubbles = [
        (rng.uniform(0, w), rng.uniform(0, h * 0.85), h * rng.uniform(0.004, 0.012)) for _ in range(40)
    ]
    ring = ImageDraw.Draw(img)
    for x, y, r in bubbles:
        ring.ellipse((x - r, y - r, x + r, y + r), outline=(210, 240, 255), width=max(1, h // 500))


def planet(img: Image.Image, rng: random.Random) -> None:
    """A ringed planet in the sky."""
    w, h = img.size
    cx, cy, r = w * rng.uniform(0.15, 0.85), h * rng.uniform(0.15, 0.35), min(w, h) * rng.uniform(0.06, 0.1)
    hue_colour: RGB = rng.choice(((226, 160, 110), (150, 180, 240), (220, 120, 160)))
    draw = ImageDraw.Draw(img)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=hue_colour)
    draw.ellipse(
        (cx - r * 0.7, cy - r * 0.9, cx + r * 0.9, cy + r * 0.6), fill=mix(hue_colour, (255, 255, 255), 0.2)
    )
    draw.ellipse(
        (cx - r * 2, cy - r * 0.35, cx + r * 2, cy + r * 0.35),
        outline=(240, 230, 210),
        width=max(2, h // 200),
    )


def bunting(img: Image.Image, rng: random.Random) -> None:
    """Strings of little triangular flags across the top corners."""
    w, h = img.size
    draw = ImageDraw.Draw(img)
    colours = ((240, 90, 110), (250, 200, 60), (90, 180, 230), (130, 210, 140), (190, 120, 220))
    for start, end, sag in (((0, h * 0.05), (w, h * 0.09), h * 0.1),):
        n = 13
        prev: tuple[float, float] = start
        for i in range(1, n + 1):
            t = i / n
            x = start[0] + (end[0] - start[0]) * t
            y = start[1] + (end[1] - start[1]) * t + sag * math.sin(math.pi * t)
            draw.line([prev, (x, y)], fill=(90, 80, 90), width=max(1, h // 400))
            mx, my = (prev[0] + x) / 2, (prev[1] + y) / 2
            size = w / n * 0.42
            draw.polygon(
                [(mx - size, my), (mx + size, my), (mx, my + size * 1.6)],
                fill=colours[(i + rng.randrange(2)) % 5],
            )
            prev = (x, y)


def confetti(img: Image.Image, rng: random.Random, top: float = 0.0) -> None:
    """Little bright rectangles and dots, scattered."""
    w, h = img.size
    draw = ImageDraw.Draw(img)
    colours = (
        (240, 90, 110),
        (250, 200, 60),
        (90, 180, 230),
        (130, 210, 140),
        (190, 120, 220),
        (255, 255, 255),
    )
    for _ in range(int(w * h / 5000)):
        x, y = rng.uniform(0, w), rng.uniform(top * h, h)
        s = h * rng.uniform(0.004, 0.009)
        a = rng.uniform(0, math.pi)
        dx, dy = math.cos(a) * s, math.sin(a) * s
        ex, ey = -dy * 0.5, dx * 0.5
        draw.polygon([(x - dx - ex, y - dy - ey), (x + dx - ex, y + dy - ey), (x + dx + ex, y + dy + ey),
                      (x - dx + ex, y - dy + ey)], fill=rng.choice(colours))  # fmt: skip
