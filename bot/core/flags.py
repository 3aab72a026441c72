"""Midjourney-style flags in a prompt: ``a fox --ar 16:9 --n 2 --seed 7 --no text, watermark``.

``parse_flags`` splits a message into its prompt words and a ``GenerationOptions``. It is one linear
pass over whitespace-separated tokens (no backtracking regex over the whole text), so a 100,000
character message costs microseconds, not seconds.

Rules:
- a flag is a token ``--name`` (or ``--name=value``); phones autocorrect ``--`` to an em or en dash,
  so ``—ar`` counts too (em or en dash), but only for known names: ``a fox —sleeping`` stays prose;
- most flags take exactly one value token; ``--no``/``--negative`` take every word up to the next flag;
- words that are not flags or flag values are the prompt, wherever they stand;
- a repeated flag: the last one wins.
Every problem is an ``InvalidInput`` whose ``user_message`` names the flag and shows an example.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.errors import InvalidInput
from bot.core.i18n import N_, _
from bot.core.messages import GenerationOptions
from bot.core.types import Aspect

__all__ = [
    "ASPECT_WORDS",
    "FLAGS",
    "QUALITIES",
    "FlagLimits",
    "FlagSpec",
    "ParsedText",
    "check_storable",
    "clip",
    "parse_aspect",
    "parse_flags",
    "typed_options",
]

ASPECT_WORDS: dict[str, Aspect] = {
    "square": Aspect(1, 1),
    "portrait": Aspect(2, 3),
    "landscape": Aspect(3, 2),
    "wide": Aspect(16, 9),
    "tall": Aspect(9, 16),
}
ASPECT_HELP = N_(
    "Aspect ratio must look like 16:9 (each side 1-100, between 1:4 and 4:1), "
    "or one of: square, portrait, landscape, wide, tall."
)
QUALITIES = ("low", "medium", "high", "auto", "standard", "hd")
MAX_SEED = 2**32 - 1

NUL_REFUSED = N_("Your message contains a NUL character (\\0), which I can't keep; please remove it.")


def check_storable(text: str) -> str:
    """``text`` unchanged, or ``InvalidInput`` when it holds a NUL character (PostgreSQL refuses them in
    text columns, so a prompt with one could never be saved)."""
    if "\x00" in text:
        raise InvalidInput("NUL character in text", user_message=_(NUL_REFUSED))
    return text


_ASPECT = re.compile(r"([0-9]{1,3})\s*[:x\u00d7/]\s*([0-9]{1,3})")
_FLAG_TOKEN = re.compile(r"(--|\u2014|\u2013)([A-Za-z][A-Za-z0-9_-]*)(?:=(.*))?", re.DOTALL)
_FLAG_STARTS = ("-", "\u2014", "\u2013")
_SLUG = re.compile(r"[a-z0-9._:/-]{1,100}")
_MODEL = re.compile(r"[A-Za-z0-9._:/-]{1,100}")
_TRAILING_PUNCT = ".,;!?"


def clip(text: str, limit: int = 30) -> str:
    """``text`` shortened for an error message, so a huge input is never echoed back."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class FlagLimits:
    max_images: int = 4
    max_negative_chars: int = 1500


@dataclass(frozen=True, slots=True)
class FlagSpec:
    """One flag: the ``GenerationOptions`` field it sets, its names (the first is canonical)."""

    field: str
    names: tuple[str, ...]
    example: str
    parse: Callable[[str, str, FlagLimits], Any]
    """``(value, flag as typed, limits) -> field value``; raises ``InvalidInput``."""
    greedy: bool = False
    """Takes every word up to the next flag (``--no text, watermark``) instead of one."""


@dataclass(frozen=True, slots=True)
class ParsedText:
    words: tuple[str, ...]
    """The message without its flags, split on whitespace."""
    options: GenerationOptions

    @property
    def text(self) -> str:
        return " ".join(self.words)


def parse_aspect(value: str) -> Aspect:
    """``16:9``, ``16x9`` or a word (``square``, ``portrait``...) → ``Aspect``; kept as given, not reduced."""
    word = value.strip().lower()
    if word in ASPECT_WORDS:
        return ASPECT_WORDS[word]
    match = _ASPECT.fullmatch(word)
    if match:
        width, height = int(match[1]), int(match[2])
        if 1 <= width <= 100 and 1 <= height <= 100 and width <= 4 * height and height <= 4 * width:
            return Aspect(width, height)
    raise InvalidInput(f"bad aspect ratio {clip(value)!r}", user_message=_(ASPECT_HELP))


def _aspect(value: str, flag: str, limits: FlagLimits) -> Aspect:
    return parse_aspect(value)


def _count(value: str, flag: str, limits: FlagLimits) -> int:
    top = limits.max_images
    if re.fullmatch(r"[0-9]{1,3}", value) and 1 <= int(value) <= top:
        return int(value)
    rule = _("{flag} can only be 1 here.") if top == 1 else _("{flag} must be between 1 and {top}.")
    raise InvalidInput(f"bad {flag} {clip(value)!r}", user_message=rule.format(flag=flag, top=top))


def _seed(value: str, flag: str, limits: FlagLimits) -> int:
    if re.fullmatch(r"[0-9]{1,10}", value) and int(value) <= MAX_SEED:
        return int(value)
    raise InvalidInput(
        f"bad {flag} {clip(value)!r}",
        user_message=_("{flag} must be a whole number from 0 to {top}.").format(flag=flag, top=MAX_SEED),
    )


def _negative(value: str, flag: str, limits: FlagLimits) -> str:
    if len(value) > limits.max_negative_chars:
        raise InvalidInput(
            f"{flag} text too long ({len(value)})",
            user_message=_("Your {flag} text is {length} characters; the limit is {limit}.").format(
                flag=flag, length=f"{len(value):,}", limit=f"{limits.max_negative_chars:,}"
            ),
        )
    return value


def _provider(value: str, flag: str, limits: FlagLimits) -> str:
    slug = value.lower()
    if _SLUG.fullmatch(slug):
        return slug
    raise InvalidInput(
        f"bad {flag} {clip(value)!r}",
        user_message=_("{flag} must be a name like 'openai' (letters, digits and . _ : / -).").format(
            flag=flag
        ),
    )


def _model(value: str, flag: str, limits: FlagLimits) -> str:
    # Case is kept: some servers (Hugging Face ids, OpenAI-compatible proxies) are case-sensitive.
    if _MODEL.fullmatch(value):
        return value
    raise InvalidInput(
        f"bad {flag} {clip(value)!r}",
        user_message=_(
            "{flag} must be a name like 'sdxl' or 'gpt-image-1' (letters, digits and . _ : / -)."
        ).format(flag=flag),
    )


def _quality(value: str, flag: str, limits: FlagLimits) -> str:
    if value.lower() in QUALITIES:
        return value.lower()
    raise InvalidInput(
        f"bad {flag} {clip(value)!r}",
        user_message=_("{flag} must be one of: {choices}.").format(flag=flag, choices=", ".join(QUALITIES)),
    )


FLAGS: tuple[FlagSpec, ...] = (
    FlagSpec("aspect", ("ar", "aspect"), "--ar 16:9", _aspect),
    FlagSpec("n", ("n", "count", "number"), "--n 2", _count),
    FlagSpec("seed", ("seed",), "--seed 42", _seed),
    FlagSpec("negative", ("no", "negative"), "--no text, watermark", _negative, greedy=True),
    FlagSpec("model", ("model",), "--model sdxl", _model),
    FlagSpec("provider", ("provider",), "--provider openai", _provider),
    FlagSpec("quality", ("quality",), "--quality high", _quality),
)
_BY_NAME: dict[str, FlagSpec] = {name: spec for spec in FLAGS for name in spec.names}
_KNOWN = ", ".join(f"--{spec.names[0]}" for spec in FLAGS)
_FIELDS = frozenset(spec.field for spec in FLAGS)


def typed_options(values: Mapping[str, object], limits: FlagLimits = FlagLimits()) -> GenerationOptions:
    """Options given by field name (a slash command's typed options), each checked as its flag is,
    with the same answers; empty values are "not given"."""
    unknown = set(values) - _FIELDS
    if unknown:
        raise InvalidInput(
            f"unknown options {sorted(unknown)}",
            user_message=_("Options I know: {known}.").format(known=_KNOWN),
        )
    fields: dict[str, Any] = {}
    for spec in FLAGS:
        value = values.get(spec.field)
        text = "" if value is None else " ".join(str(value).split())
        if text:
            fields[spec.field] = spec.parse(text, f"--{spec.names[0]}", limits)
    return GenerationOptions(**fields)


def _unknown_flag(name: str) -> InvalidInput:
    close = difflib.get_close_matches(name.lower()[:20], list(_BY_NAME), n=1)
    hint = " " + _("(did you mean --{flag}?)").format(flag=close[0]) if close else ""
    return InvalidInput(
        f"unknown flag --{clip(name)}",
        user_message=_("I don't know the flag --{name}{hint}. Flags I know: {known}.").format(
            name=clip(name), hint=hint, known=_KNOWN
        ),
    )


def _match_flag(token: str) -> tuple[str, FlagSpec, str | None] | None:
    """``(flag as shown to users, spec, inline value)`` when ``token`` is a flag, else None."""
    if not token.startswith(_FLAG_STARTS):
        return None
    match = _FLAG_TOKEN.fullmatch(token)
    if match is None:
        return None
    dash, name, inline = match.groups()
    spec = _BY_NAME.get(name.lower())
    if spec is None:
        if dash != "--":
            return None  # an em dash in prose ("a fox —sleeping"), not a mistyped flag
        raise _unknown_flag(name)
    return f"--{name.lower()}", spec, inline


def parse_flags(text: str, limits: FlagLimits = FlagLimits()) -> ParsedText:
    """Split ``text`` into prompt words and options. Raises ``InvalidInput`` for any bad flag."""
    tokens = text.split()
    words: list[str] = []
    values: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        flag = _match_flag(tokens[i])
        i += 1
        if flag is None:
            words.append(tokens[i - 1])
            continue
        shown, spec, inline = flag
        parts = [inline] if inline else []
        while (spec.greedy or not parts) and i < len(tokens) and _match_flag(tokens[i]) is None:
            parts.append(tokens[i])
            i += 1
        value = " ".join(parts) if spec.greedy else "".join(parts).rstrip(_TRAILING_PUNCT)
        if not value:
            raise InvalidInput(
                f"{shown} without a value",
                user_message=_("{flag} needs a value, e.g. {example}.").format(
                    flag=shown, example=spec.example
                ),
            )
        values[spec.field] = spec.parse(value, shown, limits)
    return ParsedText(tuple(words), GenerationOptions(**values))
