"""Prompt templates of scheduled posts: ``a lighthouse at {time}, {season} {weekday} #{n}``.

Placeholders: ``{date}`` (2026-03-14), ``{weekday}`` (Saturday), ``{month}`` (March), ``{season}``
(spring/summer/autumn/winter by meteorological season; southern hemisphere on request), ``{time}``
(09:00), ``{n}`` (the run counter, from 1) and a random choice ``{dragon|phoenix|griffin}``. ``{{`` and
``}}`` are literal braces. Anything else in braces is refused when the schedule is created, so a
typo never reaches the image model.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime

from bot.core.errors import InvalidInput
from bot.core.flags import check_storable, clip
from bot.core.i18n import N_, _

PLACEHOLDERS = ("date", "weekday", "month", "season", "time", "n")
MAX_TEMPLATE_CHARS = 1500
MAX_CHOICES = 50
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NORTH = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring"}
_NORTH |= {6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn"}
_OPPOSITE = {"winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"}
TEMPLATE_HELP = N_(
    "Placeholders: {date}, {weekday}, {month}, {season}, {time}, {n}, and a random pick like "
    "{dragon|phoenix|griffin}."
)


@dataclass(frozen=True, slots=True)
class Literal:
    text: str


@dataclass(frozen=True, slots=True)
class Placeholder:
    name: str


@dataclass(frozen=True, slots=True)
class Choice:
    options: tuple[str, ...]


Part = Literal | Placeholder | Choice


def parse_template(template: str) -> tuple[Part, ...]:
    """The template's parts; ``InvalidInput`` with a friendly message when it is not valid."""
    if not template.strip():
        raise InvalidInput("empty template", user_message=_("The prompt is empty. Tell me what to draw."))
    if len(template) > MAX_TEMPLATE_CHARS:
        raise InvalidInput(
            "template too long",
            user_message=_("The prompt is too long ({most} characters at most).").format(
                most=MAX_TEMPLATE_CHARS
            ),
        )
    parts: list[Part] = []
    position = 0
    for match in _TOKEN.finditer(template):
        if match.start() > position:
            parts.append(Literal(template[position : match.start()]))
        position = match.end()
        token = match[0]
        if token in ("{{", "}}"):
            parts.append(Literal(token[0]))
        elif token in ("{", "}"):
            raise InvalidInput(
                f"unbalanced brace in {clip(template)!r}",
                user_message=_("A '{token}' has no partner (write {{{{ or }}}} for a brace).").format(
                    token=token
                )
                + " "
                + _(TEMPLATE_HELP),
            )
        else:
            parts.append(_placeholder(match[1]))
    if position < len(template):
        parts.append(Literal(template[position:]))
    return tuple(parts)


def _placeholder(body: str) -> Part:
    name = body.strip()
    if "|" in name:
        options = tuple(option.strip() for option in name.split("|"))
        if any(not option for option in options) or len(options) > MAX_CHOICES:
            raise InvalidInput(
                f"bad choice {{{clip(body)}}}",
                user_message=_(
                    "{{{body}}}: a random pick needs 2-{most} non-empty options, like {{dragon|phoenix}}."
                ).format(body=clip(body), most=MAX_CHOICES),
            )
        return Choice(options)
    if name.lower() in PLACEHOLDERS:
        return Placeholder(name.lower())
    raise InvalidInput(
        f"unknown placeholder {{{clip(body)}}}",
        user_message=_("I don't know {{{body}}}.").format(body=clip(body)) + " " + _(TEMPLATE_HELP),
    )


def validate_template(template: str) -> str:
    parse_template(check_storable(template))
    return template


def season(when: datetime, *, southern: bool = False) -> str:
    name = _NORTH[when.month]
    return _OPPOSITE[name] if southern else name


def render(template: str, *, when: datetime, n: int, rng: random.Random, southern: bool = False) -> str:
    """The prompt for one run; ``when`` is the fire time in the schedule's time zone."""
    values = {
        "date": when.strftime("%Y-%m-%d"),
        "weekday": when.strftime("%A"),
        "month": when.strftime("%B"),
        "season": season(when, southern=southern),
        "time": when.strftime("%H:%M"),
        "n": str(n),
    }
    out: list[str] = []
    for part in parse_template(template):
        match part:
            case Literal(text=text):
                out.append(text)
            case Placeholder(name=name):
                out.append(values[name])
            case Choice(options=options):
                out.append(rng.choice(options))
    return "".join(out)
