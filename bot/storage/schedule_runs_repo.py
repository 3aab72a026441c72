"""``SqlScheduleRuns``: the run half of the ``ScheduleStore`` port: claiming fire times (exactly once),
"run now" requests, and each run's job and outcome.

Exactly once rests on two things done in one transaction by :meth:`SqlScheduleRuns.claim`: the
schedule advances only if its ``next_fire_at`` is still the one the scheduler saw, and the run row is
unique per (schedule, fire time). A second process, or a restart that replays a fire time, finds the
claim taken and does nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.core.errors import InvalidInput, NotFound
from bot.core.schedules.ports import OPEN_RUN_STATUSES, Claim, RunRecord, RunStatus
from bot.storage.common import row_id
from bot.storage.common import storage_errors as _storage_errors
from bot.storage.tables import ScheduleRow, ScheduleRunRow, UTCDateTime

_OPEN = [status.value for status in OPEN_RUN_STATUSES]


def run_record(row: ScheduleRunRow) -> RunRecord:
    return RunRecord(
        id=row.id,
        schedule_id=row.schedule_id,
        fire_time=row.fire_time,
        status=RunStatus(row.status),
        attempts=row.attempts,
        job_id=row.job_id,
        error=row.error,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


def rowcount(result: Any) -> int:
    return cast("CursorResult[Any]", result).rowcount


class SqlScheduleRuns:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def get_run(self, run_id: int) -> RunRecord | None:
        if not row_id(run_id):
            return None
        with _storage_errors("read the run"):
            async with self._sessions() as session:
                row = await session.get(ScheduleRunRow, run_id)
                return run_record(row) if row is not None else None

    def _insert(self) -> Any:
        return postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert

    async def claim(self, claims: Sequence[Claim], *, now: datetime) -> list[RunRecord]:
        """Three statements for any number of claims (1,000 due at once claim in well under a second):
        advance every schedule whose ``next_fire_at`` is still the expected one, read back which did,
        insert their run rows (a fire time already taken inserts nothing)."""
        wanted = {claim.schedule_id: claim for claim in claims if claim.expected_next is not None}
        if not wanted:
            return []
        advance = (
            update(ScheduleRow)
            .where(
                ScheduleRow.id == bindparam("sid"),
                ScheduleRow.enabled.is_(True),
                ScheduleRow.next_fire_at == bindparam("expected", type_=UTCDateTime()),
            )
            .values(
                next_fire_at=bindparam("upcoming", type_=UTCDateTime()),
                last_fire_at=bindparam("fire", type_=UTCDateTime()),
                counter=ScheduleRow.counter + 1,
            )
        )
        params = [
            {
                "sid": c.schedule_id,
                "expected": c.expected_next,
                "upcoming": c.next_fire_at,
                "fire": c.fire_time,
            }
            for c in wanted.values()
        ]
        ids = list(wanted)
        with _storage_errors("claim the scheduled runs"):
            async with self._engine.begin() as conn:
                await conn.execute(advance, params)
                advanced: list[Claim] = []
                for start in range(0, len(ids), 500):
                    rows = await conn.execute(
                        select(ScheduleRow.id, ScheduleRow.last_fire_at, ScheduleRow.next_fire_at).where(
                            ScheduleRow.id.in_(ids[start : start + 500])
                        )
                    )
                    for schedule_id, last_fire, upcoming in rows:
                        claim = wanted[schedule_id]
                        if last_fire == claim.fire_time and upcoming == claim.next_fire_at:
                            advanced.append(claim)
                if not advanced:
                    return []
                insert = self._insert()(ScheduleRunRow).on_conflict_do_nothing()
                inserted = await conn.execute(
                    insert.returning(ScheduleRunRow.id, ScheduleRunRow.schedule_id),
                    [
                        {
                            "schedule_id": c.schedule_id,
                            "fire_time": c.fire_time,
                            "status": c.status.value,
                            "attempts": 0,
                            "created_at": now,
                            "updated_at": now,
                            "finished_at": now if c.status == RunStatus.MISSED else None,
                        }
                        for c in advanced
                    ],
                )
                made = {schedule_id: run_id for run_id, schedule_id in inserted}
        return [
            RunRecord(
                made[c.schedule_id], c.schedule_id, c.fire_time, c.status, 0, None, None, None, now, None
            )
            for c in advanced
            if c.schedule_id in made
        ]

    async def request_run(self, schedule_id: int, *, now: datetime) -> RunRecord:
        row = ScheduleRunRow(
            schedule_id=schedule_id,
            fire_time=now.replace(microsecond=0),
            status=RunStatus.REQUESTED.value,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        try:
            with _storage_errors("request the run"):
                async with self._sessions.begin() as session:
                    if await session.get(ScheduleRow, schedule_id) is None:
                        raise NotFound(
                            f"schedule {schedule_id}", user_message=f"There is no schedule #{schedule_id}."
                        )
                    session.add(row)
                    await session.flush()
                    return run_record(row)
        except IntegrityError as exc:
            raise InvalidInput(
                "run exists", user_message="A run for this very second exists already."
            ) from exc

    async def take_requested(self, *, now: datetime) -> list[RunRecord]:
        taken: list[RunRecord] = []
        with _storage_errors("read the requested runs"):
            async with self._sessions.begin() as session:
                rows = (
                    await session.execute(
                        select(ScheduleRunRow).where(ScheduleRunRow.status == RunStatus.REQUESTED.value)
                    )
                ).scalars()
                for row in list(rows):
                    stmt = (
                        update(ScheduleRunRow)
                        .where(
                            ScheduleRunRow.id == row.id, ScheduleRunRow.status == RunStatus.REQUESTED.value
                        )
                        .values(status=RunStatus.CLAIMED.value, updated_at=now)
                    )
                    if rowcount(await session.execute(stmt)):
                        await session.execute(
                            update(ScheduleRow)
                            .where(ScheduleRow.id == row.schedule_id)
                            .values(counter=ScheduleRow.counter + 1, last_fire_at=row.fire_time)
                        )
                        taken.append(
                            RunRecord(
                                row.id,
                                row.schedule_id,
                                row.fire_time,
                                RunStatus.CLAIMED,
                                0,
                                None,
                                None,
                                None,
                                row.created_at,
                                None,
                            )
                        )
        return taken

    async def open_runs(self) -> list[RunRecord]:
        query = select(ScheduleRunRow).where(ScheduleRunRow.status.in_(_OPEN)).order_by(ScheduleRunRow.id)
        with _storage_errors("read the open runs"):
            async with self._sessions() as session:
                return [run_record(row) for row in (await session.execute(query)).scalars()]

    async def runs_of(self, schedule_id: int) -> list[RunRecord]:
        query = (
            select(ScheduleRunRow)
            .where(ScheduleRunRow.schedule_id == schedule_id)
            .order_by(ScheduleRunRow.id)
        )
        with _storage_errors("read the runs"):
            async with self._sessions() as session:
                return [run_record(row) for row in (await session.execute(query)).scalars()]

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
    ) -> None:
        values: dict[str, Any] = {
            "status": status.value,
            "updated_at": now,
            "next_attempt_at": next_attempt_at,
        }
        if job_id is not None:
            values["job_id"] = job_id
        if error is not None:
            values["error"] = error[:2000]
        if attempted:
            values["attempts"] = ScheduleRunRow.attempts + 1
        if status in (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED):
            values["finished_at"] = now
        with _storage_errors("save the run"):
            async with self._sessions.begin() as session:
                await session.execute(
                    update(ScheduleRunRow).where(ScheduleRunRow.id == run_id).values(**values)
                )

    async def mark_submitted(self, runs: Sequence[tuple[RunRecord, int]], *, now: datetime) -> None:
        if not runs:
            return
        with _storage_errors("save the runs"):
            async with self._sessions.begin() as session:
                for run, job_id in runs:
                    await session.execute(
                        update(ScheduleRunRow)
                        .where(ScheduleRunRow.id == run.id)
                        .values(
                            status=RunStatus.SUBMITTED.value,
                            job_id=job_id,
                            attempts=ScheduleRunRow.attempts + 1,
                            next_attempt_at=None,
                            updated_at=now,
                        )
                    )

    async def finish_runs(self, runs: Sequence[RunRecord], *, now: datetime) -> None:
        if not runs:
            return
        run_ids = [run.id for run in runs]
        schedule_ids = sorted({run.schedule_id for run in runs})
        with _storage_errors("save the runs"):
            async with self._sessions.begin() as session:
                for start in range(0, len(run_ids), 500):
                    await session.execute(
                        update(ScheduleRunRow)
                        .where(ScheduleRunRow.id.in_(run_ids[start : start + 500]))
                        .values(
                            status=RunStatus.DONE.value, updated_at=now, finished_at=now, next_attempt_at=None
                        )
                    )
                for start in range(0, len(schedule_ids), 500):
                    await session.execute(
                        update(ScheduleRow)
                        .where(
                            ScheduleRow.id.in_(schedule_ids[start : start + 500]), ScheduleRow.failures != 0
                        )
                        .values(failures=0)
                    )
