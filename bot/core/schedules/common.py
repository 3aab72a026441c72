"""Rules shared by ``/schedule``, ``/birthday`` and the CLI: who may manage a chat's schedules, where a
chat's schedules post, and adding a validated schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.i18n import N_, _
from bot.core.messages import Incoming
from bot.core.rights import ADMINS_ONLY, may_manage
from bot.core.schedules.ports import NewSchedule, ScheduleKind, ScheduleStore, Triggers
from bot.core.schedules.templates import validate_template
from bot.core.types import Target

__all__ = ["ADMINS_ONLY", "SchedulePolicy", "add_schedule", "chat_target", "format_times", "may_manage"]
WEEKDAY_ABBREVIATIONS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
"""``%a`` of the C locale, in the reader's language."""


def chat_target(message: Incoming) -> Target:
    """Where a schedule made in this chat posts: the chat (and its topic), not a reply."""
    thread = message.extra.get("thread_id")
    return Target(
        message.platform, message.chat_id, extra={"thread_id": thread} if thread is not None else {}
    )


def format_times(times: list[datetime], tz: str) -> str:
    zone = ZoneInfo(tz)
    local = [t.astimezone(zone) for t in times]
    return ", ".join(f"{_(WEEKDAY_ABBREVIATIONS[t.weekday()])} {t:%Y-%m-%d %H:%M}" for t in local)


@dataclass(frozen=True, slots=True)
class SchedulePolicy:
    timezone: str = "UTC"
    birthday_hour: int = 9
    max_per_chat: int = 20
    """Scheduled posts a chat may have (``/schedule add``)."""


async def add_schedule(
    store: ScheduleStore, triggers: Triggers, new: NewSchedule, *, now: datetime
) -> tuple[int, list[datetime]]:
    """Validate, save and return the new schedule's id and its next three fire times (UTC)."""
    triggers.validate(new.spec, new.tz)
    if new.kind == ScheduleKind.POST:
        validate_template(new.prompt)
    times: list[datetime] = []
    after = now
    for _index in range(3):
        upcoming = triggers.next_after(new.spec, new.tz, after, anchor=now)
        if upcoming is None:
            break
        times.append(upcoming)
        after = upcoming
    schedule_id = await store.add(new, next_fire_at=times[0] if times else None, now=now)
    return schedule_id, times
