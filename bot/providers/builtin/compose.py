"""From a :class:`~bot.providers.builtin.recipe.Recipe` to a :class:`Description`: the palette and
terrain (:func:`~bot.providers.builtin.palette.read_scene`), the setting, the weather, and the motifs
with their places, sizes, colours and poses.

Pure and deterministic: every choice comes from a ``random.Random`` seeded by the *original* prompt,
the seed and a purpose, so an edit that adds a word redraws everything else exactly as before.
"""

from __future__ import annotations

import colorsys
import hashlib
import random
import re
from dataclasses import dataclass, replace

from bot.providers.builtin.motifs import MOTIFS, Place
from bot.providers.builtin.palette import (
    _PLACE_WORDS,
    _TIME_WORDS,
    _TIMES,
    COLOURS,
    RGB,
    Scene,
    festive_palette,
    mix,
    read_scene,
)
from bot.providers.builtin.placement import Element, festive_elements, place_elements
from bot.providers.builtin.recipe import Recipe
from bot.providers.builtin.vocab import (
    SETTING_WORDS,
    SKY_WORDS,
    STYLE_WORDS,
    SUBJECT_WORDS,
    WEATHER_WORDS,
    lemma,
    subjects_in,
    words,
)

_COASTAL = {"lighthouse"}
_WINTRY = {"snowman", "penguin", "polar bear"}
_FESTIVE_LAYOUTS = ("bunting", "balloons", "cake")
_STYLE_PHRASES = (
    (r"low[\s-]*poly", "lowpoly"), (r"pixel[\s-]*art|\d+[\s-]*bit", "pixel"), (r"oil\s+paint", "oil"),
    (r"line\s+art|pen\s+and\s+ink", "sketch"),
)  # fmt: skip


def rng_for(prompt: str, seed: int, salt: str = "") -> random.Random:
    """A generator seeded from a stable hash of the prompt, the seed and a purpose."""
    digest = hashlib.sha256(f"easel-builtin\x00{prompt}\x00{seed}\x00{salt}".encode()).digest()
    return random.Random(int.from_bytes(digest, "big"))


@dataclass(frozen=True, slots=True)
class Description:
    recipe: Recipe
    scene: Scene
    style: str
    """plain, watercolor, neon, pixel, sketch, oil or lowpoly."""
    setting: str
    """land, snow, water, underwater, space, table or festive."""
    weather: frozenset[str]
    sky: frozenset[str]
    horizon: float
    elements: tuple[Element, ...]
    festive: str | None = None

    @property
    def subjects(self) -> list[str]:
        """The subjects drawn, main subject first (each named once)."""
        return list(dict.fromkeys(e.subject for e in self.elements))

    @property
    def families(self) -> list[str]:
        return list(dict.fromkeys(e.motif.family for e in self.elements))

    def summary(self) -> str:
        parts = [", ".join(self.subjects) or "a landscape", self.setting, self.style]
        parts += sorted(self.weather) + sorted(self.sky)
        if self.scene.night:
            parts.append("night")
        if self.scene.disc != "none":
            parts.append(self.scene.disc)
        return "; ".join(parts)


def scene_text(recipe: Recipe, skip: frozenset[int] = frozenset()) -> str:
    """The words the palette reads: the prompt without the colour words that dye a subject (``skip``:
    their word indices), with an edit's time of day in place of the prompt's."""
    text = recipe.prompt
    gone = set(recipe.removed)
    if skip or gone:
        text = " ".join(
            w for i, w in enumerate(words(text)) if i not in skip and WEATHER_WORDS.get(w, "") not in gone
        )
    if recipe.time is not None:
        text = " ".join(w for w in words(text) if w not in _TIME_WORDS and w not in ("day", "daytime"))
        text += {"night": " at night", "day": " in the day", "dawn": " at dawn", "sunset": " at sunset"}[
            recipe.time
        ]
    extra = [w for w in recipe.added if w in WEATHER_WORDS or w in SKY_WORDS]
    return " ".join([text, *extra])


def describe(recipe: Recipe) -> Description:
    """Everything to draw for ``recipe``."""
    prompt, seed = recipe.prompt, recipe.seed
    negative = " ".join([recipe.negative or "", *recipe.removed]).strip() or None
    banned = {lemma(w) for w in words(negative)}
    banned |= {SUBJECT_WORDS[w] for w in list(banned) if w in SUBJECT_WORDS}
    found = [
        (i, name, plural) for i, name, plural in subjects_in(prompt) if not banned & {name, *_words_of(name)}
    ]
    found = _merge_features(found)
    prompt_words = words(prompt)
    colours, attached = _colours_for(prompt_words, found)
    text = scene_text(recipe, skip=attached)
    said = words(text)
    style = _style(text)
    scene = read_scene(text, negative, rng_for(prompt, seed))
    if style not in ("watercolor", "neon") and scene.style != "neon":
        scene = replace(scene, style="plain")
    added = [(10_000 + k, name, False) for k, w in enumerate(recipe.added) for _, name, _ in subjects_in(w)]
    found += [item for item in added if item[1] not in banned]
    weather = {WEATHER_WORDS[w] for w in said if w in WEATHER_WORDS} - banned
    sky = {SKY_WORDS[w] for w in said if w in SKY_WORDS and SKY_WORDS[w] in ("rainbow", "stars")} - banned
    settings = [SETTING_WORDS[w] for w in said if w in SETTING_WORDS]
    places: set[Place] = {MOTIFS[name].place for _, name, _ in found}
    names = {name for _, name, _ in found}
    if names & _COASTAL:
        places.add("water")
    if names & _WINTRY and not weather and "snow" not in banned:
        weather.add("snow")
    sea_words = any(_PLACE_WORDS.get(w) == "ocean" for w in said)
    if (
        places & {"ground", "building"}
        and "water" not in places
        and not sea_words
        and scene.terrain == "water"
    ):
        scene = replace(scene, terrain="hills")
    setting = _setting(settings, places, weather, scene)
    scene = _adjust(scene, setting, weather, said, rng_for(prompt, seed, "festive-palette"))
    rng = rng_for(prompt, seed, "layout")
    horizon = rng.uniform(0.56, 0.68) if setting not in ("underwater", "table") else rng.uniform(0.5, 0.6)
    if setting == "underwater" and not any(MOTIFS[name].family == "fish" for _, name, _ in found):
        found.append((20_000, "fish", True))
    elements = place_elements(
        found, colours, rng_for(prompt, seed, "compose"), setting, horizon, prompt_words
    )
    festive = None
    if setting == "festive":
        festive = rng_for(prompt, seed, "festive").choice(_FESTIVE_LAYOUTS)
        elements = festive_elements(elements, festive, rng_for(prompt, seed, "party"), banned)
    if recipe.accessories and elements:
        wearer = next((e for e in elements if e.motif.head is not None), None)
        if wearer is not None:
            i = elements.index(wearer)
            elements = (*elements[:i], replace(wearer, accessories=recipe.accessories), *elements[i + 1 :])
    return Description(
        recipe, scene, style, setting, frozenset(weather), frozenset(sky), horizon, elements, festive
    )


def _words_of(name: str) -> list[str]:
    return name.split()


def _style(text: str) -> str:
    lowered = text.lower()
    for pattern, style in _STYLE_PHRASES:
        if re.search(pattern, lowered):
            return style
    for w in words(text):
        if w in STYLE_WORDS:
            return STYLE_WORDS[w]
    return "watercolor" if {"painting", "painted"} & set(words(text)) else "plain"


def _setting(settings: list[str], places: set[Place], weather: set[str], scene: Scene) -> str:
    if settings and settings[0] in ("underwater", "space", "festive"):
        return settings[0]
    if "under" in places:
        return "underwater"
    if settings:
        return settings[0]
    if "table" in places and not places & {"ground", "building", "water"}:
        return "table"
    if "water" in places or scene.terrain == "water" or ("storm" in weather and "building" in places):
        return "water"
    if "snow" in weather:
        return "snow"
    return "land"


def _adjust(scene: Scene, setting: str, weather: set[str], said: list[str], rng: random.Random) -> Scene:
    """The palette and terrain the setting and weather need (a storm is grey, water needs a sea)."""
    p = scene.palette
    if setting == "water":
        scene = replace(scene, terrain="water")
    if setting == "festive" and not set(said) & set(_TIME_WORDS):
        scene = replace(
            scene,
            palette=festive_palette(rng),
            night=False,
            stars=False,
            clouds=False,
            bokeh=True,
            disc="sun",
        )
        p = scene.palette
    if setting == "space":
        night = _TIMES["night"]
        moon_ground = ((120, 120, 134), (60, 60, 72))
        scene = replace(
            scene, palette=replace(night, land=moon_ground), night=True, stars=True, clouds=False,
                disc="none",
            terrain="hills", bokeh=False,
        )  # fmt: skip
    if "storm" in weather:
        grey = ((52, 58, 72), (92, 100, 116), (140, 146, 156))
        scene = replace(
            scene,
            palette=replace(
                p, sky=grey, glow=(170, 176, 190), water=(mix(p.water[0], (70, 80, 96), 0.7), (20, 26, 40))
            ),
            disc="none",
            clouds=True,
            stars=False,
        )
    elif "rain" in weather or "fog" in weather:
        sky = tuple(mix(c, (150, 156, 166), 0.45) for c in p.sky)
        scene = replace(scene, palette=replace(scene.palette, sky=(sky[0], sky[1], sky[2])), disc="none")
    return scene


def _colours_for(
    said: list[str], found: list[tuple[int, str, bool]]
) -> tuple[dict[int, RGB], frozenset[int]]:
    """A colour word just before a subject (within three words) dyes that subject, unless it names the
    subject's own colour ("a red fox" stays fox-coloured); and the indices of those colour words."""
    out: dict[int, RGB] = {}
    attached: set[int] = set()
    subject_at = {index for index, _, _ in found}
    for index, name, _ in found:
        for back in (1, 2, 3):
            j = index - back
            if j < 0 or j >= len(said) or j in subject_at:
                break
            if said[j] in COLOURS:
                attached.add(j)
                if not _near(COLOURS[said[j]], MOTIFS[name].colour):
                    out[index] = COLOURS[said[j]]
                break
    return out, frozenset(attached)


def _near(a: RGB, b: RGB) -> bool:
    ha, la, sa = colorsys.rgb_to_hls(*(v / 255 for v in a))
    hb, lb, sb = colorsys.rgb_to_hls(*(v / 255 for v in b))
    if sa < 0.15 or sb < 0.15:
        return abs(la - lb) < 0.2 and sa < 0.3 and sb < 0.3
    return min(abs(ha - hb), 1 - abs(ha - hb)) < 0.09


def _merge_features(found: list[tuple[int, str, bool]]) -> list[tuple[int, str, bool]]:
    """Things that are part of another subject ("a cake with candles") are drawn by it."""
    names = {name for _, name, _ in found}
    parts = {"candle": {"cake", "cupcake"}, "star": {"rocket"}}
    return [item for item in found if not parts.get(item[1], set()) & names]
