"""The ``Triggers`` port on APScheduler 3: ``CronTrigger.from_crontab`` and ``IntervalTrigger`` for
posts, :func:`bot.core.schedules.birthday_dates.next_card_time` for birthdays.

DST: APScheduler computes wall-clock times in the schedule's zone. On a spring-forward day a time in
the gap (02:30 Europe/Berlin) fires at the shifted instant (03:30 CEST); on a fall-back day the
repeated wall-clock time would fire twice, so the second one is skipped, as cron does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from bot.core.errors import InvalidInput
from bot.core.flags import clip
from bot.core.i18n import _
from bot.core.schedules.birthday_dates import next_card_time
from bot.core.schedules.ports import TriggerSpec
from bot.core.schedules.spec import WHEN_HELP, check_timezone

_TICK = timedelta(microseconds=1)
_MAX_PROBES = 8


def _next_second(when: datetime) -> datetime:
    """The whole second after ``when``: APScheduler rounds up to whole seconds itself."""
    return when.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _standard_days(field: str) -> str:
    """A cron day-of-week field (0 or 7 = Sunday, as in crontab(5)) as APScheduler 3 day names:
    ``from_crontab`` passes numbers through, and APScheduler 3 counts 0 as Monday."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _slash, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span in ("*", "?"):
            first, last = 0, 6
        else:
            low, _dash, high = span.partition("-")
            first = _day_number(low)
            last = _day_number(high) if high else (6 if step_text else first)
            if last < first:
                raise ValueError(f"day range {span!r} runs backwards")
        if step < 1:
            raise ValueError(f"step {step_text!r} must be at least 1")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_DAY_NAMES[day] for day in sorted(days))


def _day_number(text: str) -> int:
    if text[:3] in _DAY_NAMES:
        return _DAY_NAMES.index(text[:3])
    if text.isdigit() and int(text) <= 7:
        return int(text)
    raise ValueError(f"{text!r} is not a day of the week (0-7 or sun-sat)")


@lru_cache(maxsize=4096)
def _cron(expression: str, tz: str) -> CronTrigger:
    try:
        fields = expression.split()
        if len(fields) == 5:
            fields[4] = _standard_days(fields[4])
        return CronTrigger.from_crontab(" ".join(fields), timezone=ZoneInfo(tz))
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            f"bad cron {expression!r}: {exc}",
            user_message=_("'{expression}' is not a cron expression I can use ({reason}).").format(
                expression=clip(expression, 60), reason=exc
            )
            + " "
            + _(WHEN_HELP),
        ) from exc


def _wall(when: datetime, zone: ZoneInfo) -> datetime:
    return when.astimezone(zone).replace(tzinfo=None, fold=0)


class ApschedulerTriggers:
    def validate(self, spec: TriggerSpec, tz: str) -> None:
        check_timezone(tz)
        if spec.kind == "cron":
            _cron(spec.cron or "", tz)
        elif spec.kind == "interval":
            if not spec.seconds or spec.seconds < 60:
                raise InvalidInput("interval too short", user_message=_("Intervals start at 1 minute."))
        elif spec.kind == "birthday":
            if spec.day is None or spec.month is None or spec.hour is None:
                raise InvalidInput("incomplete birthday", user_message=_("That birthday is incomplete."))
        else:
            raise InvalidInput(f"unknown trigger {spec.kind!r}", user_message=_(WHEN_HELP))

    def next_after(
        self, spec: TriggerSpec, tz: str, after: datetime, *, anchor: datetime | None = None
    ) -> datetime | None:
        zone = ZoneInfo(tz)
        if spec.kind == "birthday":
            assert spec.day is not None and spec.month is not None and spec.hour is not None
            return next_card_time(spec.day, spec.month, tz, spec.hour, after)
        if spec.kind == "interval":
            trigger = IntervalTrigger(seconds=spec.seconds or 3600, start_date=anchor or after, timezone=zone)
            fire: datetime | None = trigger.get_next_fire_time(None, after + _TICK)
            return fire.astimezone(UTC) if fire is not None else None
        cron = _cron(spec.cron or "", tz)
        probe = after
        for _probe in range(_MAX_PROBES):
            candidate: datetime | None = cron.get_next_fire_time(None, _next_second(probe))
            if candidate is None:
                return None
            if (
                candidate <= after
            ):  # APScheduler 3 places a repeated (fall-back) hour's times in its first pass
                candidate = candidate.replace(fold=1)
            if candidate > after and _wall(candidate, zone) != _wall(after, zone):
                return candidate.astimezone(UTC)
            probe = max(probe, candidate).astimezone(
                UTC
            )  # the same wall-clock time again after a fall-back: cron runs it once
        return None
