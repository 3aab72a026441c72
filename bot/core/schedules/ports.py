"""What the scheduler's core logic needs from storage and from a trigger library, and the records
they exchange. ``bot.storage.schedule_repo`` implements the stores; ``bot.scheduler.triggers`` the
``Triggers`` port (APScheduler), so nothing here imports SQL or a scheduler library."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.core.messages import BirthdayCommand, Incoming, ScheduleCommand
from bot.core.types import Target


class ScheduleKind(enum.StrEnum):
    POST = "post"
    BIRTHDAY = "birthday"


class RunStatus(enum.StrEnum):
    REQUESTED = "requested"
    """Asked for by ``easel schedule run`` (another process): the running bot claims and submits it."""
    CLAIMED = "claimed"
    """Owned by this fire time; the job is being submitted."""
    SUBMITTED = "submitted"
    DONE = "done"
    RETRYING = "retrying"
    FAILED = "failed"
    CANCELLED = "cancelled"
    MISSED = "missed"
    """Due while the bot was down, longer ago than ``scheduler.misfire_grace``: skipped."""


OPEN_RUN_STATUSES = (RunStatus.CLAIMED, RunStatus.SUBMITTED, RunStatus.RETRYING)


@dataclass(frozen=True, slots=True)
class TriggerSpec:
    """A normalised trigger: ``cron`` (5 fields), ``interval`` (seconds) or a yearly ``birthday``."""

    kind: str
    cron: str | None = None
    seconds: int | None = None
    day: int | None = None
    month: int | None = None
    hour: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self._fields().items() if v is not None}

    def _fields(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "cron": self.cron,
            "seconds": self.seconds,
            "day": self.day,
            "month": self.month,
            "hour": self.hour,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TriggerSpec:
        return cls(
            kind=str(data["kind"]),
            cron=data.get("cron"),
            seconds=data.get("seconds"),
            day=data.get("day"),
            month=data.get("month"),
            hour=data.get("hour"),
        )


@dataclass(frozen=True, slots=True)
class Overrides:
    provider: str | None = None
    model: str | None = None
    aspect: str | None = None


@dataclass(frozen=True, slots=True)
class NewSchedule:
    target: Target
    when: str
    """What the owner wrote (a cron expression or a phrase), kept for display."""
    spec: TriggerSpec
    tz: str
    prompt: str
    owner_platform: str
    owner_user: str
    owner_name: str = ""
    overrides: Overrides = Overrides()
    kind: ScheduleKind = ScheduleKind.POST


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    id: int
    kind: ScheduleKind
    target: Target
    when: str
    spec: TriggerSpec
    tz: str
    prompt: str
    overrides: Overrides
    owner_platform: str
    owner_user: str
    owner_name: str
    enabled: bool
    counter: int
    failures: int
    next_fire_at: datetime | None
    last_fire_at: datetime | None
    created_at: datetime
    updated_at: datetime
    last_run: RunRecord | None = None


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    schedule_id: int
    fire_time: datetime
    status: RunStatus
    attempts: int
    job_id: int | None
    error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class Claim:
    """One fire time to claim: the run row plus the schedule's advance, in one transaction."""

    schedule_id: int
    fire_time: datetime
    next_fire_at: datetime | None
    expected_next: datetime | None
    """The schedule's ``next_fire_at`` the caller saw; the claim fails if it changed meanwhile."""
    status: RunStatus = RunStatus.CLAIMED


@dataclass(frozen=True, slots=True)
class BirthdayRecord:
    id: int
    schedule_id: int
    chat_platform: str
    chat_id: str
    person_user: str | None
    name: str
    day: int
    month: int
    year: int | None
    tz: str
    extra: Mapping[str, Any] = field(default_factory=dict)


class ScheduleStore(Protocol):
    """Schedules and their runs. The database row, not memory, is the truth."""

    async def add(self, schedule: NewSchedule, *, next_fire_at: datetime | None, now: datetime) -> int: ...

    async def get(self, schedule_id: int) -> ScheduleRecord | None: ...

    async def get_many(self, schedule_ids: Iterable[int]) -> list[ScheduleRecord]: ...

    async def get_run(self, run_id: int) -> RunRecord | None: ...

    async def list_schedules(
        self, *, target: Target | None = None, kind: ScheduleKind | None = None, with_last_run: bool = False
    ) -> list[ScheduleRecord]: ...

    async def fire_index(self) -> list[tuple[int, datetime]]:
        """(id, next fire time) of every enabled schedule, cheaply: the scheduler starts from it."""
        ...

    async def runs_of(self, schedule_id: int) -> list[RunRecord]: ...

    async def remove(self, schedule_id: int) -> list[int]:
        """Delete the schedule (and its runs); return the ids of its jobs that had not finished."""
        ...

    async def set_enabled(
        self, schedule_id: int, *, enabled: bool, next_fire_at: datetime | None, now: datetime
    ) -> bool: ...

    async def claim(self, claims: Sequence[Claim], *, now: datetime) -> list[RunRecord]:
        """Claim fire times (unique per schedule and fire time) and advance their schedules; return the
        runs that this call created (a taken fire time or a changed schedule is left out)."""
        ...

    async def request_run(self, schedule_id: int, *, now: datetime) -> RunRecord:
        """A "run now" for a process that is not the scheduler: the scheduler picks it up."""
        ...

    async def take_requested(self, *, now: datetime) -> list[RunRecord]:
        """Turn requested runs into claimed ones (atomically: one taker each) and return them."""
        ...

    async def open_runs(self) -> list[RunRecord]: ...

    async def set_run(
        self,
        run_id: int,
        *,
        status: RunStatus,
        now: datetime,
        job_id: int | None = None,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
        attempted: bool = False,
    ) -> None: ...

    async def mark_submitted(self, runs: Sequence[tuple[RunRecord, int]], *, now: datetime) -> None:
        """Record each run's job (one transaction for the batch)."""
        ...

    async def finish_runs(self, runs: Sequence[RunRecord], *, now: datetime) -> None:
        """Mark the runs done and reset their schedules' failure counts (one transaction)."""
        ...

    async def record_outcome(self, schedule_id: int, *, failed: bool, pause_after: int, now: datetime) -> int:
        """Reset (success) or count (failure) consecutive failures; pause at ``pause_after``. Returns the
        count."""
        ...

    async def changed_since(self, since: datetime | None) -> list[ScheduleRecord]: ...


class BirthdayStore(Protocol):
    async def set(
        self,
        *,
        chat_platform: str,
        chat_id: str,
        person_user: str | None,
        name: str,
        day: int,
        month: int,
        year: int | None,
        tz: str,
        schedule_id: int,
        now: datetime,
        replace_id: int | None = None,
    ) -> tuple[int, list[int]]:
        """Insert a birthday, replacing in the same transaction the person's own one (``person_user``
        given), else the chat's unowned one of that name, and the birthday ``replace_id``; return its
        id and the replaced birthdays' schedule ids."""
        ...

    async def for_chat(self, *, chat_platform: str, chat_id: str) -> list[BirthdayRecord]: ...

    async def by_schedule(self, schedule_id: int) -> BirthdayRecord | None: ...

    async def own(self, *, chat_platform: str, chat_id: str, person_user: str) -> BirthdayRecord | None:
        """The birthday the user set for themselves in the chat."""
        ...

    async def named(self, *, chat_platform: str, chat_id: str, name: str) -> list[BirthdayRecord]:
        """Every birthday in the chat with that name (people may share one), oldest first."""
        ...


class Triggers(Protocol):
    """Fire times of a trigger spec in a time zone (DST-correct)."""

    def validate(self, spec: TriggerSpec, tz: str) -> None:
        """Raise ``InvalidInput`` for a spec the library does not accept."""
        ...

    def next_after(
        self, spec: TriggerSpec, tz: str, after: datetime, *, anchor: datetime | None = None
    ) -> datetime | None:
        """The first fire time strictly after ``after`` (UTC-aware), or None when there is none.
        ``anchor`` starts interval triggers (the schedule's creation)."""
        ...


class ScheduleEvents(Protocol):
    """How command handlers tell the running scheduler about changes made in chat."""

    def changed(self, schedule_id: int) -> None: ...

    async def removed(self, schedule_id: int, job_ids: Sequence[int]) -> None: ...

    def run_now(self, run: RunRecord) -> None: ...


class ScheduleCommandHandler(Protocol):
    """Answers ``/schedule`` and ``/birthday`` (``bot.core.schedules.commands.ScheduleCommands``)."""

    async def handle(
        self, intent: ScheduleCommand | BirthdayCommand, message: Incoming, chat_settings: Mapping[str, Any]
    ) -> str:
        """The answer's text; raises ``EaselError`` for the user's mistakes."""
        ...
