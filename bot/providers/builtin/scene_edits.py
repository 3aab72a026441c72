"""Edits that change what is in the picture: "add a hat", "add snow", "make it night", "remove the sun".

:func:`parse_scene_edits` reads an instruction into :class:`SceneEdit` operations (and what it could not
place); :func:`apply_scene_edits` checks them against the :class:`~bot.providers.builtin.compose.Description`
of the picture and gives the new :class:`~bot.providers.builtin.recipe.Recipe` to redraw, with a note
for each thing it could not do. Pure text and data: no Pillow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from bot.providers.builtin.compose import Description
from bot.providers.builtin.motifs_people import ACCESSORIES
from bot.providers.builtin.recipe import MAX_ITEMS, Recipe
from bot.providers.builtin.vocab import SKY_WORDS, SUBJECT_WORDS, WEATHER_WORDS, lemma, subjects_in, words

Kind = Literal["add", "remove", "time", "wear"]

_TIME = {
    "night": "night", "nighttime": "night", "midnight": "night", "dark": "night",
    "day": "day", "daytime": "day", "daylight": "day", "noon": "day", "midday": "day",
    "dawn": "dawn", "sunrise": "dawn", "morning": "dawn", "daybreak": "dawn",
    "sunset": "sunset", "dusk": "sunset", "evening": "sunset", "twilight": "sunset",
}  # fmt: skip
_WEAR = {
    "hat": "hat", "top hat": "hat", "tophat": "hat", "cap": "hat", "party hat": "party hat",
    "crown": "crown", "tiara": "crown", "glasses": "glasses", "sunglasses": "glasses",
        "spectacles": "glasses",
    "scarf": "scarf", "bow": "bow", "ribbon": "bow",
}  # fmt: skip
_ADD = re.compile(
    r"\b(?:add(?:\s+in)?|put|place|include|insert|draw|paint|give\s+(?:it|him|her|them|the\s+\w+)|"
    r"let\s+there\s+be|with(?:\s+some)?|plus)\s+(?P<what>[a-z' -]+)"
)
_REMOVE = re.compile(
    r"\b(?:remove|delete|erase|take\s+(?:away|out|off)|get\s+rid\s+of|without|no\s+more|lose|drop|no)\s+"
    r"(?P<what>[a-z' -]+)"
)
_MAKE_TIME = re.compile(
    r"\b(?:(?:make|turn|change|set|show|switch)\s+(?:it|this|the\s+\w+)?\s*(?:in)?(?:to|into)?\s*(?:at|by)?\s*|at\s+|by\s+)"
    r"(?:the\s+|a\s+)?(?P<time>" + "|".join(_TIME) + r")\b"
)
_MAKE_WEATHER = re.compile(
    r"\b(?:make\s+it|let\s+it|turn\s+it|it\s+should|it's|it\s+is)\s+(?:be\s+|more\s+)?(?P<what>snow(?:y|ing)?|"
    r"rain(?:y|ing)?|storm(?:y|ing)?|fogg?y|misty|wintry|winter)\b"
)
_ARTICLES = {
    "a",
    "an",
    "the",
    "some",
    "few",
    "more",
    "of",
    "his",
    "her",
    "its",
    "their",
    "little",
    "big",
    "small",
}
_ENDS = re.compile(r"\b(?:and|to|on|in|onto|into|for|at|by|over|under|near|please|but|then|so)\b|[,.;!?]")
_VERB = re.compile(
    r"\s*(?:add|put|place|include|insert|draw|paint|give|remove|delete|erase|take|get|make|turn|change|set|"
    r"show|switch|let|lose|drop|without|no|with|more|less|much|a\s+bit|slightly)\b"
)
_FILLERS = {"it", "this", "that", "there", "them", "him", "her", "one"}


@dataclass(frozen=True, slots=True)
class SceneEdit:
    kind: Kind
    word: str

    def describe(self) -> str:
        match self.kind:
            case "time":
                return f"made it {self.word}"
            case "wear":
                return f"added a {self.word}"
            case "add":
                return f"added {_noun(self.word)}"
            case "remove":
                return f"removed {_noun(self.word, definite=True)}"


@dataclass(frozen=True, slots=True)
class Parsed:
    edits: tuple[SceneEdit, ...]
    unknown: tuple[str, ...]
    """Things asked for by name that the renderer does not know ("add a sofa")."""
    rest: str
    """The instruction with the scene edits blanked out, for the colour and tone parser."""


def parse_scene_edits(text: str) -> Parsed:
    """The scene edits in ``text``, in the order mentioned.

    >>> [e.describe() for e in parse_scene_edits("add a hat and make it night").edits]
    ['added a hat', 'made it night']
    """
    s = " " + text.lower().replace("-", " ") + " "
    found: list[tuple[int, SceneEdit]] = []
    unknown: list[str] = []

    def blank(start: int, end: int) -> None:
        nonlocal s
        s = s[:start] + " " * (end - start) + s[end:]

    for m in list(_MAKE_TIME.finditer(s)):
        found.append((m.start(), SceneEdit("time", _TIME[m.group("time")])))
        blank(m.start(), m.end())
    for m in list(_MAKE_WEATHER.finditer(s)):
        found.append(
            (m.start(), SceneEdit("add", WEATHER_WORDS.get(m.group("what"), _weather(m.group("what")))))
        )
        blank(m.start(), m.end())
    for pattern, kind in ((_REMOVE, "remove"), (_ADD, "add")):
        for m in list(pattern.finditer(s)):
            what = m.group("what")
            items, end = _items(what)
            if not items and kind == "remove" and m.group(0).startswith("no "):
                continue  # "no" in passing ("no, warmer")
            for item in items:
                edit = _edit_for(item, "remove" if kind == "remove" else "add")
                if edit is None:
                    unknown.append(item)
                else:
                    found.append((m.start(), edit))
            blank(m.start(), m.start("what") + end)
    edits = tuple(dict.fromkeys(edit for _, edit in sorted(found, key=lambda f: f[0])))
    return Parsed(edits, tuple(unknown), s.strip())


def _weather(word: str) -> str:
    return {"foggy": "fog", "fogy": "fog", "misty": "fog", "stormy": "storm"}.get(word, lemma(word))


def _items(what: str) -> tuple[list[str], int]:
    """The things named at the start of ``what`` ("a hat and a scarf on the fox" -> hat, scarf)."""
    items: list[str] = []
    position = 0
    for _ in range(6):
        rest = what[position:]
        if items and _VERB.match(rest):
            break  # "... and make it warmer": another instruction begins
        stop = _ENDS.search(rest)
        chunk = rest[: stop.start()] if stop else rest
        kept = [w for w in words(chunk) if w not in _ARTICLES and w not in _FILLERS]
        if kept:
            items.append(" ".join(kept))
        position += stop.end() if stop else len(rest)
        if stop is None or stop.group(0).strip() != "and":
            break
    return items, position


def _edit_for(item: str, kind: Kind) -> SceneEdit | None:
    """What an item names: something to wear, weather, a sky thing, a subject; None if none of them."""
    for phrase, wear in _WEAR.items():
        if item == phrase or item.endswith(" " + phrase):
            return SceneEdit("wear" if kind == "add" else "remove", wear)
    last = item.split()[-1]
    if last in WEATHER_WORDS or lemma(last) in WEATHER_WORDS:
        return SceneEdit(kind, WEATHER_WORDS.get(last) or WEATHER_WORDS[lemma(last)])
    if last in SKY_WORDS or lemma(last) in SKY_WORDS or last == "stars":
        return SceneEdit(kind, SKY_WORDS.get(last) or SKY_WORDS.get(lemma(last), "stars"))
    found = subjects_in(item)
    if found:
        return SceneEdit(kind, lemma(words(item)[found[-1][0]]))
    return None


def _noun(word: str, *, definite: bool = False) -> str:
    if word in ("snow", "rain", "fog", "clouds", "stars"):
        return f"the {word}" if definite else word
    if word == "storm":
        return "the storm" if definite else "a storm"
    return f"the {word}" if definite else f"a {word}"


# ------------------------------------------------------------------------------------- applying


def apply_scene_edits(
    recipe: Recipe, before: Description, edits: tuple[SceneEdit, ...]
) -> tuple[Recipe, list[SceneEdit], list[str]]:
    """The recipe with ``edits`` made, the edits made, and a sentence for each one it could not make."""
    done: list[SceneEdit] = []
    problems: list[str] = []
    present = _present(before)
    for edit in edits:
        change = _one(recipe, before, present, edit)
        if isinstance(change, str):
            problems.append(change)
            continue
        if len(change.added) + len(change.removed) + len(change.accessories) > MAX_ITEMS:
            problems.append("that is as many changes as one picture can keep")
            break
        recipe = change
        done.append(edit)
    return recipe, done, problems


def _present(desc: Description) -> set[str]:
    names = {lemma(w) for name in desc.subjects for w in name.split()}
    names |= set(desc.weather) | set(desc.sky)
    if desc.scene.disc != "none":
        names.add(desc.scene.disc)
    if desc.scene.clouds:
        names.add("clouds")
    if desc.scene.stars:
        names.add("stars")
    return names


def _one(recipe: Recipe, before: Description, present: set[str], edit: SceneEdit) -> Recipe | str:
    word = edit.word
    match edit.kind:
        case "time":
            return replace(recipe, time=word)
        case "wear":
            if not any(e.motif.head is not None for e in before.elements):
                return f"there is no one here to wear a {word}"
            if word in recipe.accessories:
                return f"it already has a {word}"
            return replace(recipe, accessories=(*recipe.accessories, word))
        case "remove":
            if word in ACCESSORIES and word in recipe.accessories:
                return replace(recipe, accessories=tuple(a for a in recipe.accessories if a != word))
            if word not in present and not _named(before, word):
                return f"I don't see {_noun(word)} in this picture"
            removed = (*recipe.removed, word)
            return replace(recipe, removed=removed, added=tuple(a for a in recipe.added if a != word))
        case "add":
            if word in ("sun", "moon") and before.scene.disc == word:
                return f"there is already a {word}"
            removed = tuple(r for r in recipe.removed if r != word and not (word == "sun" and r == "moon"))
            change = replace(recipe, removed=removed, added=(*recipe.added, word))
            if word == "sun" and before.scene.night:
                change = replace(change, time="day")
            if word == "moon" and not before.scene.night:
                change = replace(change, time="night")
            return change


def _named(desc: Description, word: str) -> bool:
    name = SUBJECT_WORDS.get(word) or SUBJECT_WORDS.get(lemma(word))
    return name is not None and name in desc.subjects
