"""Reading what people write about *when* and *where*: plain phrases and cron expressions into a
``TriggerSpec``, a spec back into words, targets such as ``telegram:42:7``, and time zones.

Phrases understood (case-insensitive, "at" optional, 24 h or am/pm times, ``noon``/``midnight``)::

    every day at 09:00        daily at 9am             every morning / every evening
    every monday at 18:30     every weekday at 8:00    every weekend at 10:00
    every 2 hours             every hour / hourly      every 30 minutes / every minute
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass

from bot.core.errors import InvalidInput
from bot.core.flags import clip
from bot.core.i18n import N_, _
from bot.core.schedules.ports import TriggerSpec
from bot.core.types import Target

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_NAMES = (
    N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"), N_("Sunday")
)  # fmt: skip
_CRON_DOW = {name: str((index + 1) % 7) for index, name in enumerate(WEEKDAYS)}  # cron: 0 = Sunday
_DAY_ALIASES = {name[:3]: name for name in WEEKDAYS} | {"tues": "tuesday", "thurs": "thursday"}
_TIME = r"(?:at\s+)?(?P<time>noon|midnight|[0-9]{1,2}(?::[0-9]{2})?(?:\s*(?:am|pm)\b)?)"
_UNIT_SECONDS = {"minute": 60, "min": 60, "hour": 3600, "hr": 3600, "day": 86400}
_CRON_FIELD = r"[0-9A-Za-z*/,\-?]+"
_CRON = re.compile(rf"(?P<cron>(?:{_CRON_FIELD}\s+){{4}}{_CRON_FIELD})(?=\s|$)")
_CRON_TOKEN = re.compile(_CRON_FIELD)
_CRON_SYMBOL = re.compile(r"[*/,?-]")
"""A sixth token with one of these is a cron field; a plain number may start the prompt ("3 cats")."""
_QUOTED_CRON = re.compile(r"[\"'`](?P<cron>[^\"'`]+)[\"'`]")
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("daily", rf"(?:every\s+day|daily|each\s+day)\s+{_TIME}"),
        ("morning", r"every\s+morning"),
        ("evening", r"every\s+evening"),
        ("weekday", rf"every\s+(?:weekday|work\s*day)s?\s+{_TIME}"),
        ("weekend", rf"every\s+weekends?\s+{_TIME}"),
        ("dow", rf"(?:every|each|on)\s+(?P<dow>[a-z]+?)s?\s+{_TIME}"),
        ("interval", r"every\s+(?P<count>[0-9]{1,4})\s+(?P<unit>minute|min|hour|hr|day)s?"),
        ("one", r"(?:every\s+(?P<unit>minute|hour|day)|(?P<ly>hourly))"),
    )
)
DEFAULT_MORNING = (9, 0)
DEFAULT_EVENING = (18, 0)
MIN_INTERVAL_S = 60
MAX_INTERVAL_S = 366 * 86400
WHEN_HELP = N_(
    "Say when like 'every day at 09:00', 'every monday at 18:30', 'every 2 hours', "
    "or a cron expression such as '0 9 * * *'."
)


@dataclass(frozen=True, slots=True)
class ParsedWhen:
    spec: TriggerSpec
    text: str
    """The words that said when (shown back to the owner)."""
    rest: str
    """What followed them (the prompt, in ``/schedule add``)."""


def parse_when(text: str, *, whole: bool = False) -> ParsedWhen:
    """The trigger at the start of ``text``; with ``whole`` nothing may follow it."""
    stripped = text.strip()
    _refuse_long_cron(stripped)
    for candidate in (_QUOTED_CRON.match(stripped), _CRON.match(stripped)):
        if candidate is not None and _looks_like_cron(candidate["cron"]):
            return _finish(
                TriggerSpec("cron", cron=" ".join(candidate["cron"].split())),
                stripped,
                candidate.end(),
                whole,
            )
    for name, pattern in _PATTERNS:
        match = pattern.match(stripped)
        if match is not None and (
            match.end() == len(stripped) or stripped[match.end()].isspace() or stripped[match.end()] in ",:;|"
        ):
            spec = _spec(name, match)
            if spec is not None:
                return _finish(spec, stripped, match.end(), whole)
    raise InvalidInput(
        f"no schedule in {clip(text)!r}", user_message=_("I couldn't tell when.") + " " + _(WHEN_HELP)
    )


def _finish(spec: TriggerSpec, text: str, end: int, whole: bool) -> ParsedWhen:
    rest = text[end:].strip().lstrip(",:;|").strip()
    if whole and rest:
        raise InvalidInput(
            f"trailing words {clip(rest)!r}",
            user_message=_("I don't understand {words}.").format(words=repr(clip(rest))) + " " + _(WHEN_HELP),
        )
    return ParsedWhen(spec, text[:end].strip(), rest)


def _refuse_long_cron(text: str) -> None:
    """Six or seven cron fields (seconds first, or a year last, as Quartz and some crontabs take them)
    would otherwise read as five fields and a prompt starting with "*": say so instead."""
    quoted = _QUOTED_CRON.match(text)
    fields = quoted["cron"].split() if quoted else text.split()[:7]
    count = 0
    for index, field in enumerate(fields):
        if not _CRON_TOKEN.fullmatch(field) or (index >= 5 and not _CRON_SYMBOL.search(field) and not quoted):
            break
        count += 1
    if count > 5 and _looks_like_cron(" ".join(fields[:5])):
        raise InvalidInput(
            f"cron with {count} fields",
            user_message=_(
                "Cron expressions here have five fields: minute hour day month weekday, "
                "e.g. '0 9 * * *' (no seconds or year field)."
            )
            + " "
            + _(WHEN_HELP),
        )


def _looks_like_cron(expression: str) -> bool:
    fields = expression.split()
    return (
        len(fields) == 5
        and all(any(c.isdigit() or c == "*" for c in f) or f.isalpha() for f in fields)
        and any(c.isdigit() or c == "*" for c in fields[0])
    )


def _spec(name: str, match: re.Match[str]) -> TriggerSpec | None:
    if name in ("morning", "evening"):
        hour, minute = DEFAULT_MORNING if name == "morning" else DEFAULT_EVENING
        return TriggerSpec("cron", cron=f"{minute} {hour} * * *")
    if name == "interval":
        seconds = int(match["count"]) * _UNIT_SECONDS[match["unit"].lower()]
        return _interval(seconds)
    if name == "one":
        unit = "hour" if match["ly"] else match["unit"].lower()
        return _interval(_UNIT_SECONDS[unit])
    hour, minute = parse_time(match["time"])
    dow = "*"
    if name == "weekday":
        dow = "1-5"
    elif name == "weekend":
        dow = "0,6"
    elif name == "dow":
        day = match["dow"].lower()
        day = _DAY_ALIASES.get(day, day)
        if day not in _CRON_DOW:
            return None
        dow = _CRON_DOW[day]
    return TriggerSpec("cron", cron=f"{minute} {hour} * * {dow}")


def _interval(seconds: int) -> TriggerSpec:
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        raise InvalidInput(f"interval {seconds}s", user_message=_("Intervals go from 1 minute to 1 year."))
    if seconds % 86400 == 0 and seconds // 86400 == 1:
        return TriggerSpec("cron", cron="0 0 * * *")
    return TriggerSpec("interval", seconds=seconds)


def parse_time(text: str) -> tuple[int, int]:
    """``09:00``, ``9``, ``9am``, ``6:30 pm``, ``noon``, ``midnight`` → (hour, minute)."""
    word = text.strip().lower().replace(" ", "")
    if word == "noon":
        return 12, 0
    if word == "midnight":
        return 0, 0
    match = re.fullmatch(r"([0-9]{1,2})(?::([0-9]{2}))?(am|pm)?", word)
    if match is None:
        raise InvalidInput(
            f"bad time {clip(text)!r}",
            user_message=_("{text} is not a time like 09:00 or 6pm.").format(text=clip(text)),
        )
    hour, minute, half = int(match[1]), int(match[2] or 0), match[3]
    if half is not None:
        if not 1 <= hour <= 12:
            raise InvalidInput(
                f"bad time {text!r}",
                user_message=_("{text} is not a time (1-12 with am/pm).").format(text=text),
            )
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise InvalidInput(
            f"bad time {text!r}",
            user_message=_("{text} is not a time of day (00:00-23:59).").format(text=text),
        )
    return hour, minute


def describe(spec: TriggerSpec, tz: str) -> str:
    """Human words for a spec: "every day at 09:00 (Europe/Berlin)"."""
    if spec.kind == "interval" and spec.seconds:
        return _every(spec.seconds)
    if spec.kind == "birthday":
        return _("every year on {day}-{month} at {hour}:00 ({tz})").format(
            day=f"{spec.day:02d}", month=f"{spec.month:02d}", hour=f"{spec.hour:02d}", tz=tz
        )
    fields = (spec.cron or "").split()
    if len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit() and fields[2:4] == ["*", "*"]:
        at = f"{int(fields[1]):02d}:{int(fields[0]):02d} ({tz})"
        days = {
            "*": _("every day at {at}"),
            "1-5": _("every weekday at {at}"),
            "0,6": _("every weekend day at {at}"),
        }
        if fields[4] in days:
            return days[fields[4]].format(at=at)
        if fields[4].isdigit() and int(fields[4]) <= 7:
            day = _(WEEKDAY_NAMES[(int(fields[4]) - 1) % 7])
            return _("every {weekday} at {at}").format(weekday=day, at=at)
    if spec.cron == "* * * * *":
        return _("every minute")
    return _("cron '{cron}' ({tz})").format(cron=spec.cron, tz=tz)


def _every(seconds: int) -> str:
    """ "every 2 hours", "every minute" ... (a whole phrase each: languages inflect "every")."""
    for size, one, many in (
        (86400, N_("every day"), N_("every {count} days")),
        (3600, N_("every hour"), N_("every {count} hours")),
        (60, N_("every minute"), N_("every {count} minutes")),
    ):
        if seconds % size == 0:
            count = seconds // size
            return _(one) if count == 1 else _(many).format(count=count)
    return _("every {count} seconds").format(count=seconds)


def check_timezone(name: str) -> str:
    """The canonical IANA name, or ``InvalidInput`` with an example."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"unknown time zone {clip(name)!r}",
            user_message=_("I don't know the time zone {name}; use a name like Europe/Berlin or UTC.").format(
                name=repr(clip(name))
            ),
        ) from exc
    return name


def looks_like_timezone(word: str) -> bool:
    return "/" in word or word.upper() in ("UTC", "GMT")


# ------------------------------------------------------------------------------------------ targets

_TELEGRAM = re.compile(r"telegram:(-?[0-9]{1,20})(?::([0-9]{1,12}))?")
_DISCORD = re.compile(r"discord:([0-9]{1,24})")
TARGET_HELP = N_("Targets look like telegram:<chat id>[:<topic id>], discord:<channel id> or web.")


def parse_target(text: str) -> Target:
    """``telegram:42`` / ``telegram:-1001:7`` (topic 7) / ``discord:123`` / ``web`` → ``Target``.

    Telegram topics use the adapter's chat key ``"<chat>/<topic>"`` plus ``extra["thread_id"]``, the
    same shape a message from inside the topic has, so the post lands in the topic."""
    value = text.strip()
    if match := _TELEGRAM.fullmatch(value):
        topic = match[2]
        chat = f"{match[1]}/{topic}" if topic else match[1]
        return Target("telegram", chat, extra={"thread_id": int(topic)} if topic else {})
    if match := _DISCORD.fullmatch(value):
        return Target("discord", match[1])
    if value == "web":
        return Target("web", "web")
    raise InvalidInput(
        f"bad target {clip(value)!r}",
        user_message=_("I can't post to {target}.").format(target=repr(clip(value))) + " " + _(TARGET_HELP),
    )


def format_target(target: Target) -> str:
    if target.platform == "telegram":
        return "telegram:" + target.chat_id.replace("/", ":")
    if target.platform == "web":
        return "web"
    return f"{target.platform}:{target.chat_id}"


def scheduled_target(target: Target) -> Target:
    """Where a schedule made in a chat posts: that chat (and topic), not as a reply to the command."""
    extra = {k: v for k, v in target.extra.items() if k == "thread_id"}
    return Target(target.platform, target.chat_id, extra=extra)
