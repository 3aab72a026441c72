"""The built-in renderer's picture: sky, sun or moon, clouds or stars, ground, the motifs the prompt
names (:mod:`~bot.providers.builtin.compose`), weather, style, light, texture; and the preview mark.

Everything random comes from ``random.Random`` seeded with a SHA-256 of the prompt and seed, so the same
prompt, seed and size always give the same pixels (no ``Image.effect_noise``, no salted ``hash()``).
Each part has its own generator (sky, clouds, terrain, ...), so an edit that switches one part on or
off redraws the others exactly as before.
What depends on the size alone (the distance fields of the vignette and the wide glow, the preview
pill) is kept in small bounded caches (:data:`~bot.providers.builtin.draw.TEXTURE_CACHE_SIZE` entries
each); the grain and paper textures are seeded by the prompt and seed, so they are made every time.
"""

from __future__ import annotations

import functools
import math
import random

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from bot.providers.builtin import scenery
from bot.providers.builtin.compose import Description, describe, rng_for
from bot.providers.builtin.draw import (
    TEXTURE_CACHE_SIZE,
    DrawFn,
    glow,
    gradient,
    noise,
    radial_distance,
    radial_mask,
    soft_tint,
)
from bot.providers.builtin.painter import paint
from bot.providers.builtin.palette import RGB, Palette, mix
from bot.providers.builtin.recipe import Recipe
from bot.providers.builtin.styles import finish, low_poly
from bot.providers.builtin.terrain import draw_ground

__all__ = ["MAX_LONG_SIDE", "render_description", "render_scene", "rng_for", "stamp_preview"]

MAX_LONG_SIDE = 2048
PREVIEW_TEXT = "Easel preview"
_PAPER = (250, 246, 236)


def render_scene(prompt: str, seed: int, size: tuple[int, int], negative: str | None = None) -> Image.Image:
    """An RGB picture of ``size`` for ``prompt`` (without the preview mark)."""
    return render_description(describe(Recipe(prompt, seed, size, negative)), size)


def render_description(desc: Description, size: tuple[int, int]) -> Image.Image:
    """An RGB picture of ``size`` drawing ``desc`` (without the preview mark)."""
    w, h = size
    prompt, seed = desc.recipe.prompt, desc.recipe.seed
    rng = rng_for(prompt, seed, "sky")
    scene = desc.scene
    p = scene.palette
    neon = scene.style == "neon"
    horizon = round(h * desc.horizon)
    img = gradient(size, [(0.0, p.sky[0]), (0.55, p.sky[1]), (1.0, p.sky[2])], 0, horizon)
    radius = min(w, h) * (rng.uniform(0.13, 0.17) if neon else rng.uniform(0.055, 0.09))
    sun = (w * rng.uniform(0.25, 0.75), horizon - radius * rng.uniform(0.2, 2.2))
    if neon:
        sun = (w * rng.uniform(0.4, 0.6), horizon - radius * 0.75)
    glow(img, sun, max(w, h) * 0.6, p.glow, 0.55 if scene.disc != "none" else 0.3, cached=True)
    if scene.stars or "stars" in desc.sky:
        _stars(img, rng_for(prompt, seed, "stars"), horizon, p.accent)
    if desc.setting == "space":
        scenery.planet(img, rng_for(prompt, seed, "planet"))
    if scene.clouds:
        _clouds(img, rng_for(prompt, seed, "clouds"), horizon, p)
    if "storm" in desc.weather:
        scenery.storm_clouds(img, rng_for(prompt, seed, "storm"), desc.horizon)
    if scene.disc != "none":
        glow(img, sun, radius * 2.6, p.glow, 0.5)
        _disc(img, sun, radius, p, moon=scene.disc == "moon", neon=neon, rng=rng)
    if "rainbow" in desc.sky:
        scenery.rainbow(img, rng_for(prompt, seed, "rainbow"), desc.horizon)
    _ground(img, desc, horizon, sun[0])
    if desc.style == "lowpoly":  # facets for the land and sky; the motifs stay crisp on top
        img = low_poly(img, rng_for(prompt, seed, "facets"))
    back = [e for e in desc.elements if e.depth == 0]
    front = [e for e in desc.elements if e.depth > 0]
    paint(img, desc, back)
    _stage(img, desc)
    paint(img, desc, front)
    _weather(img, desc)
    if scene.bokeh and desc.setting not in ("underwater",):
        _bokeh(img, rng_for(prompt, seed, "bokeh"), p, horizon if neon else h)
    if scene.style == "watercolor":
        img = Image.blend(img, Image.new("RGB", size, _PAPER), 0.14)
        img = _add_noise(img, noise(size, rng_for(prompt, seed, "paper"), 32, 6))
    img = finish(img, desc.style, rng_for(prompt, seed, "style"))
    img = _vignette(img, 0.3 if scene.night else 0.22)
    return _add_noise(img, noise(size, rng_for(prompt, seed, "grain"), 2, 4))


def _ground(img: Image.Image, desc: Description, horizon: int, sun_x: float) -> None:
    rng = rng_for(desc.recipe.prompt, desc.recipe.seed, "terrain")
    if desc.setting == "underwater":
        scenery.underwater(img, rng, desc.scene.palette)
        return
    if desc.setting == "table":
        draw_ground(img, rng, desc.scene, horizon, sun_x)
        scenery.table(img, desc.scene.palette, 0.74)
        return
    draw_ground(img, rng, desc.scene, horizon, sun_x)


def _stage(img: Image.Image, desc: Description) -> None:
    """The ground the main row stands on (none at sea, on a table or under water)."""
    if desc.setting in ("underwater", "table") or not desc.elements:
        return
    grounded = [e for e in desc.elements if e.motif.place in ("ground", "building", "table") and e.depth >= 1]
    if not grounded:
        return
    top = min(e.y for e in grounded) - 0.035
    snow = desc.setting == "snow" or "snow" in desc.weather
    sand = desc.scene.terrain == "dunes" or desc.setting == "water"  # on the sea: a beach
    scenery.stage(
        img,
        rng_for(desc.recipe.prompt, desc.recipe.seed, "stage"),
        desc.scene.palette,
        top,
        snow=snow,
        sand=sand,
    )


def _weather(img: Image.Image, desc: Description) -> None:
    prompt, seed = desc.recipe.prompt, desc.recipe.seed
    weather = desc.weather
    if "storm" in weather and desc.setting == "water":
        scenery.waves(img, rng_for(prompt, seed, "waves"), desc.scene.palette, 0.84)
    if "fog" in weather:
        scenery.fog(img, desc.horizon)
    if "snow" in weather:
        scenery.snowfall(img, rng_for(prompt, seed, "snowfall"))
    if "rain" in weather or "storm" in weather:
        scenery.rain(img, rng_for(prompt, seed, "rain"), heavy="storm" in weather)
    if "storm" in weather:
        scenery.lightning(img, rng_for(prompt, seed, "lightning"), desc.horizon)
    if desc.festive is not None:
        party = rng_for(prompt, seed, "confetti")
        if desc.festive == "bunting":
            scenery.bunting(img, party)
        scenery.confetti(img, party)


# ------------------------------------------------------------------------------------------- sky


def _disc(
    img: Image.Image,
    centre: tuple[float, float],
    radius: float,
    p: Palette,
    *,
    moon: bool,
    neon: bool,
    rng: random.Random,
) -> None:
    """Sun, crescent moon or striped synthwave sun, drawn at 4x on a small patch and reduced."""
    k, r = 4, max(2, round(radius))
    size = 2 * r + 4
    c, rk = size * k / 2, r * k
    mask = Image.new("L", (size * k, size * k), 0)
    ImageDraw.Draw(mask).ellipse((c - rk, c - rk, c + rk, c + rk), fill=255)
    fill: Image.Image | RGB = p.disc
    if moon:
        shadow = Image.new("L", mask.size, 0)
        off = rk * rng.uniform(0.35, 0.6)
        ImageDraw.Draw(shadow).ellipse(
            (c - rk + off, c - rk - off * 0.4, c + rk + off, c + rk - off * 0.4), fill=225
        )
        mask = ImageChops.subtract(mask, shadow)
    if neon:
        draw = ImageDraw.Draw(mask)
        for i in range(7):
            y = c + rk * (-0.3 + 0.15 * i)
            draw.rectangle((0, y, size * k, y + rk * (0.03 + 0.018 * i)), fill=0)
        fill = gradient((size, size), [(0.0, p.disc), (1.0, p.accent2)], 2, size - 2)
    img.paste(fill, (round(centre[0]) - size // 2, round(centre[1]) - size // 2), mask.reduce(k))


def _stars(img: Image.Image, rng: random.Random, horizon: int, colour: RGB) -> None:
    """Many faint stars and a few bright ones, thinning toward the horizon."""
    w, h = img.size
    mask = Image.new("L", (w, max(1, horizon)), 0)
    draw = ImageDraw.Draw(mask)
    scale = math.sqrt(w * h) / 1024
    for _ in range(int(w * h / 2600)):
        y = horizon * rng.random() ** 1.6
        x = rng.random() * w
        level = round(255 * rng.random() ** 2.2 * (1 - 0.6 * y / horizon))
        r = scale * (1.8 if rng.random() < 0.06 else 0.7)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=level)
    img.paste(colour, (0, 0, w, mask.height), mask.filter(ImageFilter.GaussianBlur(0.5 * scale)))


def _clouds(img: Image.Image, rng: random.Random, horizon: int, p: Palette) -> None:
    """A few long soft streaks of cloud, lit by the glow."""
    w, h = img.size
    puffs: list[tuple[float, float, float, float, int]] = []
    for _ in range(rng.randint(2, 5)):
        x, y, width = w * rng.random(), horizon * rng.uniform(0.12, 0.8), w * rng.uniform(0.18, 0.42)
        for _ in range(rng.randint(3, 6)):
            half = width * rng.uniform(0.3, 0.6)
            cx, cy = x + rng.uniform(-0.5, 0.5) * width, y + rng.uniform(-1, 1) * h * 0.012
            puffs.append((cx, cy, half, half * rng.uniform(0.05, 0.12), rng.randint(70, 130)))

    def draw_puffs(draw: ImageDraw.ImageDraw, s: float) -> None:
        for x, y, half, th, alpha in puffs:
            draw.ellipse(((x - half) * s, (y - th) * s, (x + half) * s, (y + th) * s), fill=alpha)

    colour = mix(mix(p.sky[2], p.glow, 0.5), (255, 255, 255), 0.3)
    soft_tint(img, colour, 4, h * 0.012, draw_puffs)


def _bokeh(img: Image.Image, rng: random.Random, p: Palette, lowest: int) -> None:
    """Soft out-of-focus circles of light in the two accent colours."""
    w, h = img.size
    short = min(w, h)
    for colour in (p.accent, p.accent2):
        circles = [
            (w * rng.random(), lowest * rng.uniform(0.05, 0.95), short * rng.uniform(0.008, 0.045))
            for _ in range(rng.randint(6, 14))
        ]
        alphas = [rng.randint(25, 70) for _ in circles]
        soft_tint(img, colour, 2, short * 0.004, _circles(circles, alphas))


def _circles(circles: list[tuple[float, float, float]], alphas: list[int]) -> DrawFn:
    def draw_circles(draw: ImageDraw.ImageDraw, s: float) -> None:
        for (x, y, r), alpha in zip(circles, alphas, strict=True):
            draw.ellipse(((x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s), fill=alpha)

    return draw_circles


# ------------------------------------------------------------------------------------- finishing


def _vignette(img: Image.Image, strength: float) -> Image.Image:
    """``img`` darkened toward the corners (a new image)."""
    mask = radial_mask(
        img.size, lambda d: 1 - strength * max(0.0, min(1.0, (d - 0.55) / 0.85)) ** 1.6, cached=True
    )
    return ImageChops.multiply(img, Image.merge("RGB", (mask, mask, mask)))


def _add_noise(img: Image.Image, grain: Image.Image) -> Image.Image:
    """Add monochrome noise centred on 128: film grain that also hides 8-bit banding."""
    return ImageChops.add(img, Image.merge("RGB", (grain, grain, grain)), 1.0, -128)


def clear_caches() -> None:
    """Forget the cached per-size textures (the radial distance fields and the preview pills)."""
    radial_distance.cache_clear()
    _pill.cache_clear()


# ------------------------------------------------------------------------------------ preview mark


def stamp_preview(img: Image.Image) -> Image.Image:
    """A new image with a small neutral-grey "Easel preview" pill in the bottom-right corner.

    RGBA stays RGBA; any other mode comes back RGB. Only the pill's corner is composited.
    """
    if img.mode not in ("RGB", "RGBA"):
        img = img.convert("RGBA").convert("RGB")
    w, h = img.size
    scale = math.sqrt(w * h)
    patch = _pill(max(9, round(scale * 0.018)))
    margin = max(4, round(scale * 0.018))
    x, y = max(0, w - patch.width - margin), max(0, h - patch.height - margin)
    box = (x, y, min(w, x + patch.width), min(h, y + patch.height))
    corner = img.crop(box).convert("RGBA")
    corner.alpha_composite(patch.crop((0, 0, box[2] - x, box[3] - y)))
    out = img.copy()
    out.paste(corner if img.mode == "RGBA" else corner.convert("RGB"), box[:2])
    return out


@functools.lru_cache(maxsize=TEXTURE_CACHE_SIZE)
def _pill(size: int) -> Image.Image:
    """The RGBA pill for text ``size`` px high, drawn at 3x and reduced (shared: never modify it)."""
    k = 3
    font = _font(size * k)
    left, _, right, _ = font.getbbox(PREVIEW_TEXT)
    pill_w, pill_h = round((right - left) / k + 1.6 * size), round(size * 1.9)
    patch = Image.new("RGBA", (pill_w * k, pill_h * k), (0, 0, 0, 0))
    draw = ImageDraw.Draw(patch)
    draw.rounded_rectangle((0, 0, pill_w * k - 1, pill_h * k - 1), pill_h * k // 2, fill=(22, 22, 22, 200))
    draw.text((pill_w * k / 2, pill_h * k / 2), PREVIEW_TEXT, (246, 246, 246, 255), font, anchor="mm")
    return patch.resize((pill_w, pill_h), Image.Resampling.LANCZOS)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError):  # Pillow without FreeType: the small fixed bitmap font
        return ImageFont.load_default()
