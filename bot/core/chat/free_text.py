"""How free text is read: small word tables (not a model) that tell a change to the last image ("make
it warmer", "now at night", "add a hat") from a new prompt ("a red fox in the snow", "draw me a castle"),
and the politeness and request words around either. See :mod:`bot.core.chat.router` for the order in
which they are applied."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "BARE_ACK",
    "BARE_CANCEL",
    "BARE_HELP",
    "BARE_REROLL",
    "BARE_VARY",
    "key",
    "looks_like_edit",
    "strip_politeness",
    "strip_request",
]


def _phrases(spec: str) -> frozenset[str]:
    """``"again|one more"`` → ``{"again", "one more"}`` (lowercased, as ``_key`` leaves words)."""
    return frozenset(p.strip() for p in spec.split("|"))


def _sequences(spec: str) -> tuple[tuple[str, ...], ...]:
    """``"can you|please"`` → ``(("can", "you"), ("please",))``: word sequences to match at a start."""
    return tuple(tuple(p.split()) for p in spec.split("|"))


POLITE_PREFIXES = _sequences(
    "please|pls|plz|kindly|ok|okay|alright|hey|hmm|now|and|also|can you|could you|would you|will you"
    "|can u|could u|i want you to"
)
POLITE_SUFFIXES = _sequences("please|pls|plz|thanks|thank you")
BARE_REROLL = _phrases(
    "reroll|re-roll|again|another|another one|one more|once more|retry|try again|redo|do it again|new seed"
)
BARE_VARY = _phrases("vary|variation|variations|variants|some variations|more variations|make variations")
BARE_HELP = _phrases("help|hi|hello|hey|start")
BARE_CANCEL = _phrases("cancel|stop")
BARE_ACK = _phrases("thanks|thank you|thx|ty|ok|okay|cool|nice|great|perfect")

# Verbs that start a request for a new picture ("draw a castle"). With an object pronoun right after
# them ("paint it blue") they edit instead. "make" is special: "make it warmer" / "make the sky purple"
# edit, while "make me a logo" / "make a picture of a cat" ask for something new.
CREATION_VERBS = _phrases(
    "draw|paint|imagine|generate|create|render|sketch|illustrate|design|make|color|colour"
)
NEW_AFTER_MAKE = _phrases("me|us|a|an|some|another|one|two|three|four|picture|pictures|image|images|pic|art")
REFERENCE_WORDS = _phrases("it|this|that|them|these|those|her|him|everything")
ARTICLES = _phrases("a|an|the|some|my|our|me|us")
REQUEST_LEADS = _sequences("i want|i'd like|i would like|show me|give me|give us")
FILLER_OBJECTS = _sequences("a picture of|an image of|a pic of")

EDIT_VERBS = _phrases(
    "add|remove|delete|erase|change|turn|replace|swap|put|move|shift|zoom|crop|rotate|flip|tilt|brighten"
    "|darken|lighten|sharpen|soften|blur|unblur|recolor|recolour|colorize|colourize|fix|increase|decrease"
    "|reduce|boost|enhance|adjust|tweak|try|keep|use|convert|extend|expand|upscale|saturate|desaturate"
    "|invert|shrink|enlarge|widen|stretch|redo|undo|retouch|apply|fill|give|show"
)
MODIFIERS = _phrases(
    "more|less|fewer|warmer|cooler|colder|hotter|brighter|darker|lighter|dimmer|bigger|larger|smaller|wider"
    "|narrower|taller|shorter|softer|sharper|crisper|clearer|cleaner|simpler|busier|happier|sadder|scarier"
    "|creepier|cuter|calmer|moodier|richer|bolder|subtler|stronger|weaker|thicker|thinner|redder|bluer"
    "|greener|pinker|grayer|greyer|nicer|prettier"
)
CONTINUATIONS = _phrases("same|but|again|instead|otherwise|except")
PREPOSITIONS = _phrases("in|at|on|with|without|as|during|under|inside|into")
MAX_PREPOSITION_EDIT_WORDS = 6  # "at night", "with a red scarf"; longer ones read as scene descriptions
STYLE_ONLY = _phrases(
    "black and white|black & white|b&w|bw|grayscale|greyscale|monochrome|sepia|blurry|blurred|pixelated"
    "|inverted|mirrored|flipped|zoomed out|zoomed in|cropped|upscaled|square|widescreen"
)
INTENSIFIERS = _sequences(
    "a bit|a little|a lot|a tad|slightly|much|even|way|far|somewhat|just|bit|lot|little|really|very|quite"
)
_ASPECT_WORD = re.compile(r"[0-9]{1,3}[:x][0-9]{1,3}")


def key(word: str) -> str:
    return word.lower().strip(".,;:!?\"'()[]…")


def _drop_prefixes(keys: Sequence[str], prefixes: Sequence[tuple[str, ...]]) -> int:
    """How many leading words of ``keys`` are made of ``prefixes`` (repeatedly)."""
    start, found = 0, True
    while found:
        found = False
        for prefix in prefixes:
            if tuple(keys[start : start + len(prefix)]) == prefix:
                start, found = start + len(prefix), True
                break
    return start


def looks_like_edit(words: Sequence[str]) -> bool:
    """Whether free text (politeness already stripped) reads as a change to the last image."""
    keys = [key(w) for w in words]
    keys = keys[_drop_prefixes(keys, INTENSIFIERS) :] or keys
    first, second = keys[0], keys[1] if len(keys) > 1 else ""
    if first in CREATION_VERBS:
        if first == "make":
            return bool(second) and second not in NEW_AFTER_MAKE
        return second in REFERENCE_WORDS
    if first in {"give", "show"} and second in {"me", "us"}:
        return False
    if first in EDIT_VERBS or first in MODIFIERS or first in CONTINUATIONS:
        return True
    if first in PREPOSITIONS and len(keys) <= MAX_PREPOSITION_EDIT_WORDS:
        return True
    if " ".join(keys) in STYLE_ONLY or (len(keys) == 1 and _ASPECT_WORD.fullmatch(first)):
        return True
    pairs = list(zip(keys, [*keys[1:], ""], strict=True))
    return (
        "instead" in keys
        or "too" in keys[:3]  # "too dark", "it's too busy"
        or ("this", "time") in pairs
        or ("same", "but") in pairs
        or any(a == "version" and b != "of" for a, b in pairs)
        or any(a in {"it", "this", "that"} and b in MODIFIERS for a, b in pairs)
    )


def strip_politeness(words: Sequence[str]) -> list[str]:
    """Drop "please", "can you", "now," ... around the request, and a trailing "?" or comma."""
    out = list(words[_drop_prefixes([key(w) for w in words], POLITE_PREFIXES) :])
    for suffix in POLITE_SUFFIXES:
        if len(out) > len(suffix) and tuple(key(w) for w in out[-len(suffix) :]) == suffix:
            del out[-len(suffix) :]
            break
    if out:
        out[-1] = out[-1].rstrip(",;?!")
        if not out[-1]:
            out.pop()
    return out


def strip_request(words: Sequence[str]) -> list[str]:
    """ "draw me a castle" → "a castle"; "make a picture of a cat" → "a cat"; "paint splatter" stays."""
    keys = [key(w) for w in words]
    start = _drop_prefixes(keys, REQUEST_LEADS)
    if start == 0 and len(keys) > 1 and keys[0] in CREATION_VERBS and keys[1] in ARTICLES:
        start = 1
    if start and start < len(keys) and keys[start] in {"me", "us"}:
        start += 1
    if start:
        start += _drop_prefixes(keys[start:], FILLER_OBJECTS)
    return list(words[start:])
