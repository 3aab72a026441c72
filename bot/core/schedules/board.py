"""What a schedules page shows of one chat: its scheduled posts and birthday cards (a birthday by the
person's name), each with its next run in the schedule's own time zone and its last result, and the
next runs of a "when" while it is being typed. Read-only: adding, pausing, resuming, running and
removing go through ``/schedule`` (:mod:`.commands`), where who may do what is decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.errors import InvalidInput
from bot.core.flags import clip
from bot.core.i18n import _
from bot.core.messages import Incoming
from bot.core.ports import Clock, JobStore
from bot.core.schedules.common import chat_target, format_times
from bot.core.schedules.ports import BirthdayStore, RunRecord, ScheduleKind, ScheduleStore, Triggers
from bot.core.schedules.spec import check_timezone, describe, parse_when

PREVIEW_RUNS = 3
MAX_WHEN_CHARS = 200


@dataclass(frozen=True, slots=True)
class LastRun:
    status: str
    """A ``RunStatus`` value: done, failed, missed …"""
    when: datetime
    generation_id: int | None
    """The picture it made, when it made one."""
    error: str | None


@dataclass(frozen=True, slots=True)
class ScheduleView:
    id: int
    kind: str
    """``post`` or ``birthday``."""
    description: str
    """``every day at 09:00 (Europe/Berlin)``"""
    tz: str
    prompt: str
    enabled: bool
    next_run: datetime | None
    next_run_local: str
    """The next run written in the schedule's time zone, ``-`` when there is none (or it is paused)."""
    birthday_of: str | None
    last_run: LastRun | None


@dataclass(frozen=True, slots=True)
class Preview:
    description: str
    tz: str
    runs: tuple[str, ...]
    """The next runs, written in ``tz``."""


class ScheduleBoard:
    def __init__(
        self,
        *,
        store: ScheduleStore,
        birthdays: BirthdayStore,
        jobs: JobStore,
        triggers: Triggers,
        clock: Clock,
        timezone: str,
    ) -> None:
        self._store = store
        self._birthdays = birthdays
        self._jobs = jobs
        self._triggers = triggers
        self._clock = clock
        self._timezone = timezone

    async def of_chat(self, message: Incoming) -> list[ScheduleView]:
        """The chat ``message`` came from: its schedules, posts first, oldest first."""
        target = chat_target(message)
        schedules = await self._store.list_schedules(target=target, with_last_run=True)
        names = {
            b.schedule_id: b.name
            for b in await self._birthdays.for_chat(chat_platform=target.platform, chat_id=target.chat_id)
        }
        views = []
        for s in sorted(schedules, key=lambda s: (s.kind != ScheduleKind.POST, s.id)):
            upcoming = s.next_fire_at if s.enabled else None
            views.append(
                ScheduleView(
                    id=s.id,
                    kind=s.kind.value,
                    description=describe(s.spec, s.tz),
                    tz=s.tz,
                    prompt=s.prompt,
                    enabled=s.enabled,
                    next_run=upcoming,
                    next_run_local=format_times([upcoming], s.tz) if upcoming else "-",
                    birthday_of=names.get(s.id) if s.kind == ScheduleKind.BIRTHDAY else None,
                    last_run=await self._last(s.last_run),
                )
            )
        return views

    async def _last(self, run: RunRecord | None) -> LastRun | None:
        if run is None:
            return None
        generation = None
        if run.job_id is not None:
            job = await self._jobs.get_job(job_id=run.job_id)
            generation = job.generation_id if job is not None else None
        return LastRun(
            status=run.status.value,
            when=run.finished_at or run.fire_time,
            generation_id=generation,
            error=run.error,
        )

    def preview(self, when: str, tz: str | None = None) -> Preview:
        """The next runs of ``when`` (a phrase or a cron expression, nothing after it) in ``tz`` (the
        configured time zone when None); ``InvalidInput`` with the reason when it is not one."""
        if len(when) > MAX_WHEN_CHARS:
            raise InvalidInput(
                f"when too long: {clip(when)!r}", user_message=_("That is too long for a time.")
            )
        zone = check_timezone(tz) if tz else self._timezone
        spec = parse_when(when, whole=True).spec
        self._triggers.validate(spec, zone)
        runs: list[datetime] = []
        after = now = self._clock.now()
        for _index in range(PREVIEW_RUNS):
            upcoming = self._triggers.next_after(spec, zone, after, anchor=now)
            if upcoming is None:
                break
            runs.append(upcoming)
            after = upcoming
        return Preview(
            description=describe(spec, zone),
            tz=zone,
            runs=tuple(format_times([run], zone) for run in runs),
        )
