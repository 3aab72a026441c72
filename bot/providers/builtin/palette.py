"""Reading a prompt for the built-in renderer: colour words, mood words, terrain, style, negatives.

Pure functions of the text and a ``random.Random``: no Pillow, no I/O. The result, a :class:`Scene`, is
everything the drawing code needs to know about the prompt.
"""

from __future__ import annotations

import colorsys
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

RGB = tuple[int, int, int]
Terrain = Literal["mountains", "hills", "trees", "water", "dunes", "city"]
Disc = Literal["sun", "moon", "none"]
Style = Literal["plain", "watercolor", "neon"]

COLOURS: dict[str, RGB] = {
    "red": (214, 40, 48), "crimson": (180, 20, 60), "scarlet": (230, 40, 30), "maroon": (120, 20, 40),
    "orange": (242, 128, 36), "amber": (245, 170, 40), "gold": (236, 180, 56), "golden": (236, 180, 56),
    "yellow": (246, 214, 64), "lime": (170, 220, 60), "green": (56, 160, 80), "emerald": (20, 150, 100),
    "olive": (120, 130, 50), "mint": (150, 230, 190), "teal": (28, 140, 140), "turquoise": (40, 200, 200),
    "aqua": (40, 200, 210), "cyan": (40, 210, 230), "blue": (44, 92, 204), "azure": (60, 140, 230),
    "navy": (24, 34, 100), "indigo": (70, 50, 160), "violet": (140, 80, 200), "purple": (128, 60, 172),
    "lavender": (180, 160, 224), "magenta": (220, 50, 160), "fuchsia": (220, 50, 160),
    "pink": (240, 140, 180), "rose": (230, 110, 140), "coral": (250, 120, 100), "peach": (255, 190, 150),
    "white": (246, 246, 246), "cream": (245, 235, 210), "beige": (220, 200, 170), "silver": (192, 198, 208),
    "grey": (128, 128, 134), "gray": (128, 128, 134), "black": (18, 18, 24), "brown": (120, 78, 48),
    "bronze": (180, 120, 60), "copper": (186, 100, 58),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Palette:
    sky: tuple[RGB, RGB, RGB]
    """Top of the sky, middle, horizon."""
    disc: RGB
    glow: RGB
    land: tuple[RGB, RGB]
    """Farthest and nearest ground layer."""
    water: tuple[RGB, RGB]
    accent: RGB
    accent2: RGB


@dataclass(frozen=True, slots=True)
class Scene:
    palette: Palette
    terrain: Terrain
    disc: Disc
    style: Style
    night: bool
    stars: bool
    clouds: bool
    bokeh: bool


_BASE = Palette(
    sky=((70, 112, 180), (150, 190, 222), (236, 232, 214)), disc=(255, 246, 222), glow=(255, 224, 170),
    land=((130, 150, 170), (34, 48, 66)), water=((70, 140, 190), (16, 50, 96)),
    accent=(255, 236, 200), accent2=(255, 255, 255),
)  # fmt: skip

# Times of day set the sky; places set the ground. A word may be both (e.g. "cyberpunk": neon + city).
_TIMES: dict[str, Palette] = {
    "dawn": replace(
        _BASE, sky=((88, 104, 170), (236, 164, 170), (255, 214, 160)), disc=(255, 242, 214),
        glow=(255, 200, 150), land=((170, 140, 176), (56, 46, 84)), accent=(255, 220, 200),
    ),
    "sunset": replace(
        _BASE, sky=((44, 38, 98), (214, 96, 104), (255, 176, 90)), disc=(255, 216, 140),
        glow=(255, 150, 80), land=((150, 90, 122), (36, 22, 48)), water=((180, 100, 110), (40, 28, 70)),
        accent=(255, 190, 120),
    ),
    "night": replace(
        _BASE, sky=((6, 10, 30), (18, 30, 72), (50, 64, 116)), disc=(238, 238, 224), glow=(120, 140, 200),
        land=((44, 56, 96), (6, 9, 22)), water=((30, 44, 86), (4, 8, 24)), accent=(200, 214, 255),
    ),
    "day": _BASE,
    "neon": replace(
        _BASE, sky=((14, 6, 38), (92, 22, 120), (255, 70, 150)), disc=(255, 214, 90), glow=(255, 60, 160),
        land=((70, 24, 104), (14, 6, 30)), water=((60, 20, 90), (10, 4, 26)), accent=(40, 230, 255),
        accent2=(255, 60, 200),
    ),
}  # fmt: skip
_PLACES: dict[str, Palette] = {
    "forest": replace(
        _BASE, sky=((112, 164, 190), (176, 212, 200), (232, 236, 206)), land=((112, 150, 124), (16, 50, 34)),
        accent=(240, 240, 200),
    ),
    "ocean": replace(
        _BASE, sky=((52, 120, 196), (132, 190, 228), (226, 238, 242)), land=((120, 150, 180), (40, 70, 100)),
        water=((64, 140, 190), (12, 46, 94)),
    ),
    "desert": replace(
        _BASE, sky=((70, 130, 200), (150, 190, 225), (250, 222, 180)), land=((232, 180, 120), (164, 92, 52)),
    ),
    "snow": replace(
        _BASE, sky=((120, 156, 206), (186, 208, 232), (238, 242, 250)),
        land=((214, 226, 244), (110, 136, 180)), accent=(255, 255, 255),
    ),
    "autumn": replace(
        _BASE, sky=((96, 120, 170), (232, 170, 120), (252, 214, 150)), land=((206, 124, 70), (84, 34, 22)),
        accent=(255, 180, 80),
    ),
    "spring": replace(
        _BASE, sky=((130, 180, 230), (200, 224, 240), (248, 236, 240)), land=((150, 200, 130), (46, 116, 66)),
        accent=(255, 180, 210),
    ),
}  # fmt: skip

_TIME_WORDS = {
    "dawn": "dawn", "sunrise": "dawn", "morning": "dawn", "daybreak": "dawn",
    "sunset": "sunset", "dusk": "sunset", "evening": "sunset", "twilight": "sunset",
    "night": "night", "midnight": "night", "nighttime": "night", "starry": "night", "moonlit": "night",
    "day": "day", "daytime": "day", "noon": "day", "midday": "day", "daylight": "day",
    "neon": "neon", "cyberpunk": "neon", "synthwave": "neon", "vaporwave": "neon", "retrowave": "neon",
}  # fmt: skip
_PLACE_WORDS = {
    "forest": "forest", "woods": "forest", "woodland": "forest", "trees": "forest", "jungle": "forest",
    "pine": "forest", "pines": "forest",
    "ocean": "ocean", "sea": "ocean", "beach": "ocean", "coast": "ocean", "waves": "ocean", "lake": "ocean",
    "seaside": "ocean", "bay": "ocean", "harbor": "ocean", "harbour": "ocean", "island": "ocean",
    "desert": "desert", "dunes": "desert", "dune": "desert", "sand": "desert", "sahara": "desert",
    "canyon": "desert",
    "snow": "snow", "snowy": "snow", "winter": "snow", "ice": "snow", "icy": "snow", "frozen": "snow",
    "arctic": "snow", "glacier": "snow",
    "autumn": "autumn", "fall": "autumn", "harvest": "autumn", "october": "autumn",
    "spring": "spring", "blossom": "spring", "blossoms": "spring", "cherry": "spring", "meadow": "spring",
    "flowers": "spring", "garden": "spring",
}  # fmt: skip
_PLACE_TERRAIN: dict[str, Terrain] = {
    "forest": "trees", "ocean": "water", "desert": "dunes", "snow": "mountains", "autumn": "trees",
    "spring": "hills",
}  # fmt: skip
_TERRAIN_WORDS: dict[str, Terrain] = {
    "mountain": "mountains", "mountains": "mountains", "peaks": "mountains", "alps": "mountains",
    "hills": "hills", "hill": "hills", "valley": "hills", "countryside": "hills", "fields": "hills",
    "city": "city", "skyline": "city", "town": "city", "downtown": "city", "buildings": "city",
    "street": "city", "cyberpunk": "city", "metropolis": "city",
}  # fmt: skip
_WATERCOLOR_WORDS = {"watercolor", "watercolour", "aquarelle", "painting", "painted", "gouache"}
_PASTEL_WORDS = {"pastel", "dreamy", "pale", "soft"}


def words(text: str | None) -> list[str]:
    """Lower-case words of ``text``, in order."""
    return re.findall(r"[a-z]+", (text or "").lower())


def read_scene(prompt: str, negative: str | None, rng: random.Random) -> Scene:
    """Decide palette, terrain, style and elements for ``prompt``; ``negative`` words are left out."""
    said, banned = words(prompt), set(words(negative))
    times = [_TIME_WORDS[w] for w in said if w in _TIME_WORDS]
    places = [_PLACE_WORDS[w] for w in said if w in _PLACE_WORDS]
    terrains = [_TERRAIN_WORDS[w] for w in said if w in _TERRAIN_WORDS]
    time = times[0] if times else None
    place = places[0] if places else None

    palette = _harmonious(rng)
    guessed_night = rng.random() < 0.22
    if place is not None:
        palette = _PLACES[place]
    if time is not None:
        palette = replace(_TIMES[time], land=_mix_pair(_TIMES[time].land, palette.land, 0.35))
        if place == "ocean":
            palette = replace(palette, water=_mix_pair(palette.water, _PLACES["ocean"].water, 0.3))
    night = time in ("night", "neon") or (time is None and place is None and guessed_night)
    if night and time is None:
        palette = replace(_TIMES["night"], land=_mix_pair(_TIMES["night"].land, palette.land, 0.25))

    for index, name in enumerate(w for w in said if w in COLOURS and w not in banned):
        palette = _tint(palette, COLOURS[name], first=index == 0)
    if _PASTEL_WORDS & set(said):
        palette = _map(palette, lambda c: mix(c, (250, 246, 250), 0.38))
    for name in banned & COLOURS.keys():
        palette = _suppress(palette, COLOURS[name])

    terrain: Terrain = (
        terrains[0]
        if terrains
        else _PLACE_TERRAIN[place]
        if place is not None
        else "mountains"
        if time == "neon"
        else rng.choice(["mountains", "mountains", "hills", "water", "dunes"])
    )
    style: Style = "watercolor" if _WATERCOLOR_WORDS & set(said) else "neon" if time == "neon" else "plain"
    disc: Disc = "moon" if (night and style != "neon") or "moon" in said else "sun"
    if disc in banned or (disc == "sun" and "moon" in banned and "sun" not in said):
        disc = "none"
    return Scene(
        palette=palette,
        terrain=terrain,
        disc=disc,
        style=style,
        night=night,
        stars=night and "stars" not in banned,
        clouds=not night and style != "neon" and "clouds" not in banned,
        bokeh=(place == "spring" or style == "neon" or terrain == "city" or (night and rng.random() < 0.5))
        and not ({"bokeh", "circles", "bubbles"} & banned),
    )


def festive_palette(rng: random.Random) -> Palette:
    """A bright party-day palette around one seeded hue (a birthday card is never a night scene)."""
    hue = rng.random()
    return Palette(
        sky=(_hsv(hue, 0.38, 0.92), _hsv(hue + 0.05, 0.2, 0.98), _hsv(hue + 0.1, 0.1, 1.0)),
        disc=(255, 248, 226),
        glow=(255, 236, 200),
        land=(_hsv(hue + 0.45, 0.22, 0.9), _hsv(hue + 0.45, 0.45, 0.62)),
        water=(_hsv(hue, 0.35, 0.85), _hsv(hue, 0.55, 0.5)),
        accent=(255, 240, 200),
        accent2=(255, 255, 255),
    )


def _harmonious(rng: random.Random) -> Palette:
    """A palette from one hue and a related ground hue: calm, never garish."""
    hue = rng.random()
    ground = hue + rng.choice([0.06, -0.06, 0.5, 0.42, 0.58])
    warmth = rng.uniform(0.03, 0.1)
    return Palette(
        sky=(_hsv(hue, 0.5, 0.55), _hsv(hue + warmth, 0.32, 0.84), _hsv(hue + 2 * warmth, 0.2, 0.98)),
        disc=_hsv(hue + 0.5, 0.08, 1.0),
        glow=_hsv(hue + 0.5, 0.3, 1.0),
        land=(_hsv(ground, 0.24, 0.7), _hsv(ground, 0.5, 0.2)),
        water=(_hsv(hue, 0.4, 0.7), _hsv(hue, 0.6, 0.3)),
        accent=_hsv(hue + 0.5, 0.25, 1.0),
        accent2=_hsv(hue + 0.15, 0.2, 1.0),
    )


def _tint(p: Palette, colour: RGB, *, first: bool) -> Palette:
    """The first colour word dyes the sky; later ones (or the first, more weakly) dye the ground."""
    light, dark = mix(colour, (255, 255, 255), 0.35), mix(colour, (0, 0, 0), 0.55)
    sky = p.sky
    if first:
        sky = (mix(sky[0], dark, 0.6), mix(sky[1], colour, 0.6), mix(sky[2], light, 0.5))
    weight = 0.4 if first else 0.6
    return replace(
        p,
        sky=sky,
        glow=mix(p.glow, light, 0.5) if first else p.glow,
        land=(mix(p.land[0], colour, weight), mix(p.land[1], dark, weight)),
        water=(mix(p.water[0], colour, weight), mix(p.water[1], dark, weight)),
        accent=mix(p.accent, light, 0.5),
    )


def _suppress(p: Palette, banned: RGB) -> Palette:
    """Turn every clearly coloured entry near ``banned``'s hue away from it (``--no red``)."""
    bh, bl, bs = colorsys.rgb_to_hls(*(c / 255 for c in banned))
    if bs < 0.2 or bl < 0.1 or bl > 0.92:
        return p  # white, black, grey: nothing hue-like to remove

    def away(c: RGB) -> RGB:
        h, s, v = colorsys.rgb_to_hsv(*(x / 255 for x in c))
        delta = (h - bh + 0.5) % 1.0 - 0.5
        if s < 0.12 or abs(delta) >= 0.16:
            return c
        return _hsv(bh + (0.2 if delta >= 0 else -0.2), s * 0.8, v)

    return _map(p, away)


def _map(p: Palette, fn: Callable[[RGB], RGB]) -> Palette:
    return Palette(
        sky=(fn(p.sky[0]), fn(p.sky[1]), fn(p.sky[2])),
        disc=fn(p.disc),
        glow=fn(p.glow),
        land=(fn(p.land[0]), fn(p.land[1])),
        water=(fn(p.water[0]), fn(p.water[1])),
        accent=fn(p.accent),
        accent2=fn(p.accent2),
    )


def _mix_pair(a: tuple[RGB, RGB], b: tuple[RGB, RGB], t: float) -> tuple[RGB, RGB]:
    return mix(a[0], b[0], t), mix(a[1], b[1], t)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """``a`` moved a fraction ``t`` of the way to ``b``."""
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, max(0.0, min(1.0, s)), max(0.0, min(1.0, v)))
    return round(r * 255), round(g * 255), round(b * 255)
