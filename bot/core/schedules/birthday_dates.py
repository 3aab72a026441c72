"""Birthdays: reading dates people write (``14-03``, ``14 March``, ``March 14``, with an optional
year), when the next card is due (29 February is celebrated on 28 February in other years), the
greeting, and the card prompt."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.errors import InvalidInput
from bot.core.flags import clip
from bot.core.i18n import N_, _

_MONTHS = {name.lower(): index for index, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): index for index, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9
_MONTH = r"(?P<month_name>[A-Za-z]{3,9})\.?"
_YEAR = r"(?:[,\s]+(?P<year>[0-9]{4}))?"
_FORMS = (
    re.compile(r"(?P<day>[0-9]{1,2})[-./](?P<month>[0-9]{1,2})(?:[-./](?P<year>[0-9]{4}))?(?=\s|$)"),
    re.compile(rf"(?P<day>[0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}{_YEAR}(?=\s|$)"),
    re.compile(rf"{_MONTH}\s+(?P<day>[0-9]{{1,2}})(?:st|nd|rd|th)?{_YEAR}(?=\s|$)"),
)
DATE_HELP = N_("Write the date like 14-03, 14 March or March 14 (a year, e.g. 14-03-1990, adds the age).")
MONTH_NAMES = (
    N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
    N_("July"), N_("August"), N_("September"), N_("October"), N_("November"), N_("December"),
)  # fmt: skip
"""``calendar.month_name`` of the C locale (what people write is read in English), shown translated."""
DEFAULT_CARD_PROMPT = (
    "a festive birthday illustration, balloons, confetti and a cake with candles, joyful colours, "
    "space at the top for a greeting"
)


@dataclass(frozen=True, slots=True)
class BirthDate:
    day: int
    month: int
    year: int | None


def parse_birth_date(text: str, *, today: date) -> tuple[BirthDate, str]:
    """The date at the start of ``text`` and the rest (name, time zone)."""
    stripped = text.strip()
    for form in _FORMS:
        match = form.match(stripped)
        if match is None:
            continue
        month = _month(match)
        if month is None:
            continue
        day = int(match["day"])
        year = int(match["year"]) if match["year"] else None
        _check(day, month, year, today)
        return BirthDate(day, month, year), stripped[match.end() :].strip()
    raise InvalidInput(
        f"bad birthday {clip(text)!r}", user_message=_("I couldn't read that date.") + " " + _(DATE_HELP)
    )


def month_name(month: int) -> str:
    """The month's name (1-12) in the reader's language."""
    return _(MONTH_NAMES[month - 1])


def day_and_month(day: int, month: int, year: int | None = None) -> str:
    """ "14 March" or "14 March 1990", as the reader's language writes a date."""
    if year:
        return _("{day} {month} {year}").format(day=day, month=month_name(month), year=year)
    return _("{day} {month}").format(day=day, month=month_name(month))


def _month(match: re.Match[str]) -> int | None:
    groups = match.groupdict()
    if groups.get("month"):
        return int(groups["month"])
    return _MONTHS.get(str(groups.get("month_name") or "").lower())


def _check(day: int, month: int, year: int | None, today: date) -> None:
    if not 1 <= month <= 12:
        raise InvalidInput(
            f"month {month}",
            user_message=_("There is no month {month}.").format(month=month) + " " + _(DATE_HELP),
        )
    longest = calendar.monthrange(year if year else 2000, month)[1]  # 2000: a leap year
    if not 1 <= day <= longest:
        raise InvalidInput(
            f"day {day}/{month}",
            user_message=_("{month} has no day {day}.").format(month=month_name(month), day=day),
        )
    if year is not None and not today.year - 130 <= year <= today.year:
        raise InvalidInput(
            f"year {year}", user_message=_("{year} doesn't look like a birth year.").format(year=year)
        )


def celebrated_on(day: int, month: int, year: int) -> date:
    """The day of the party in ``year``: 29 February moves to 28 February outside leap years."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def next_card_time(day: int, month: int, tz: str, hour: int, after: datetime) -> datetime:
    """The first ``hour``:00 local time on the celebrated day strictly after ``after`` (UTC)."""
    zone = ZoneInfo(tz)
    year = after.astimezone(zone).year
    while True:
        celebrated = celebrated_on(day, month, year)
        local = datetime(celebrated.year, celebrated.month, celebrated.day, hour, tzinfo=zone)
        when = local.astimezone(UTC)
        if when > after:
            return when
        year += 1


def greeting(name: str, *, born: int | None, on: date) -> str:
    """ "Happy birthday, Ana!" and, when the birth year is known, the age on the line below."""
    text = _("Happy birthday, {name}!").format(name=name)
    if born is not None and on.year > born:
        text += "\n" + _("{age} today").format(age=on.year - born)
    return text


def card_prompt(template: str | None, chat_settings: Mapping[str, Any]) -> str:
    """The chat's card template, else a festive default themed on the chat's style setting if any."""
    if template:
        return template
    style = chat_settings.get("style")
    return f"{DEFAULT_CARD_PROMPT}, in the style of {style}" if style else DEFAULT_CARD_PROMPT
