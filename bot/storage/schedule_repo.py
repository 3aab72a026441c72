"""``SqlScheduleStore``: schedules (and, from :class:`SqlScheduleRuns`, their runs): the
``ScheduleStore`` port on SQLAlchemy, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from bot.core.errors import NotFound
from bot.core.schedules.ports import (
    OPEN_RUN_STATUSES,
    NewSchedule,
    Overrides,
    RunStatus,
    ScheduleKind,
    ScheduleRecord,
    TriggerSpec,
)
from bot.core.types import Target
from bot.storage.common import row_id
from bot.storage.common import storage_errors as _storage_errors
from bot.storage.schedule_runs_repo import SqlScheduleRuns, rowcount, run_record
from bot.storage.tables import ScheduleRow, ScheduleRunRow

_OPEN = [status.value for status in OPEN_RUN_STATUSES]


def _schedule(row: ScheduleRow, last_run: ScheduleRunRow | None = None) -> ScheduleRecord:
    return ScheduleRecord(
        id=row.id,
        kind=ScheduleKind(row.kind),
        target=Target.from_json(row.target),
        when=row.when_text,
        spec=TriggerSpec.from_json(row.spec),
        tz=row.tz,
        prompt=row.prompt,
        overrides=Overrides(provider=row.provider, model=row.model, aspect=row.aspect),
        owner_platform=row.owner_platform,
        owner_user=row.owner_user,
        owner_name=row.owner_name,
        enabled=row.enabled,
        counter=row.counter,
        failures=row.failures,
        next_fire_at=row.next_fire_at,
        last_fire_at=row.last_fire_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_run=run_record(last_run) if last_run is not None else None,
    )


class SqlScheduleStore(SqlScheduleRuns):
    async def add(self, schedule: NewSchedule, *, next_fire_at: datetime | None, now: datetime) -> int:
        overrides = schedule.overrides
        row = ScheduleRow(
            kind=schedule.kind.value,
            target=schedule.target.to_json(),
            when_text=schedule.when[:200],
            spec=schedule.spec.to_json(),
            tz=schedule.tz,
            prompt=schedule.prompt,
            provider=overrides.provider,
            model=overrides.model,
            aspect=overrides.aspect,
            owner_platform=schedule.owner_platform,
            owner_user=schedule.owner_user,
            owner_name=schedule.owner_name[:256],
            enabled=True,
            counter=0,
            failures=0,
            next_fire_at=next_fire_at,
            created_at=now,
            updated_at=now,
        )
        with _storage_errors("save the schedule"):
            async with self._sessions.begin() as session:
                session.add(row)
                await session.flush()
                return row.id

    async def get(self, schedule_id: int) -> ScheduleRecord | None:
        if not row_id(schedule_id):
            return None
        with _storage_errors("read the schedule"):
            async with self._sessions() as session:
                row = await session.get(ScheduleRow, schedule_id)
                return _schedule(row) if row is not None else None

    async def get_many(self, schedule_ids: Iterable[int]) -> list[ScheduleRecord]:
        ids = [i for i in schedule_ids if row_id(i)]
        found: list[ScheduleRecord] = []
        with _storage_errors("read the schedules"):
            async with self._sessions() as session:
                for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
                    query = select(ScheduleRow).where(ScheduleRow.id.in_(ids[start : start + 500]))
                    found += [_schedule(row) for row in (await session.execute(query)).scalars()]
        return found

    async def list_schedules(
        self, *, target: Target | None = None, kind: ScheduleKind | None = None, with_last_run: bool = False
    ) -> list[ScheduleRecord]:
        query = select(ScheduleRow).order_by(ScheduleRow.id)
        if kind is not None:
            query = query.where(ScheduleRow.kind == kind.value)
        with _storage_errors("list the schedules"):
            async with self._sessions() as session:
                rows = list((await session.execute(query)).scalars())
                if target is not None:
                    rows = [
                        r
                        for r in rows
                        if r.target.get("platform") == target.platform
                        and r.target.get("chat_id") == target.chat_id
                    ]
                last: dict[int, ScheduleRunRow] = {}
                if with_last_run and rows:
                    newest = (
                        select(func.max(ScheduleRunRow.id))
                        .where(ScheduleRunRow.status != RunStatus.REQUESTED.value)
                        .group_by(ScheduleRunRow.schedule_id)
                    )
                    runs = await session.execute(select(ScheduleRunRow).where(ScheduleRunRow.id.in_(newest)))
                    last = {run.schedule_id: run for run in runs.scalars()}
        return [_schedule(row, last.get(row.id)) for row in rows]

    async def fire_index(self) -> list[tuple[int, datetime]]:
        """(id, next fire) of every enabled schedule: what the scheduler's heap starts from."""
        query = select(ScheduleRow.id, ScheduleRow.next_fire_at).where(
            ScheduleRow.enabled.is_(True), ScheduleRow.next_fire_at.is_not(None)
        )
        with _storage_errors("load the schedules"):
            async with self._engine.connect() as conn:
                return [(row[0], row[1]) for row in await conn.execute(query) if row[1] is not None]

    async def remove(self, schedule_id: int) -> list[int]:
        open_jobs = select(ScheduleRunRow.job_id).where(
            ScheduleRunRow.schedule_id == schedule_id,
            ScheduleRunRow.status.in_(_OPEN),
            ScheduleRunRow.job_id.is_not(None),
        )
        with _storage_errors("delete the schedule"):
            async with self._sessions.begin() as session:
                jobs = [job for job in (await session.execute(open_jobs)).scalars() if job is not None]
                deleted = await session.execute(delete(ScheduleRow).where(ScheduleRow.id == schedule_id))
        if rowcount(deleted) == 0:
            raise NotFound(f"schedule {schedule_id}", user_message=f"There is no schedule #{schedule_id}.")
        return jobs

    async def set_enabled(
        self, schedule_id: int, *, enabled: bool, next_fire_at: datetime | None, now: datetime
    ) -> bool:
        values: dict[str, Any] = {"enabled": enabled, "updated_at": now}
        if enabled:
            values |= {"next_fire_at": next_fire_at, "failures": 0}
        stmt = update(ScheduleRow).where(ScheduleRow.id == schedule_id).values(**values)
        with _storage_errors("change the schedule"):
            async with self._sessions.begin() as session:
                return rowcount(await session.execute(stmt)) > 0

    async def record_outcome(self, schedule_id: int, *, failed: bool, pause_after: int, now: datetime) -> int:
        with _storage_errors("save the schedule's outcome"):
            async with self._sessions.begin() as session:
                row = await session.get(ScheduleRow, schedule_id)
                if row is None:
                    return 0
                row.failures = row.failures + 1 if failed else 0
                if failed and row.failures >= pause_after and row.enabled:
                    row.enabled = False
                    row.updated_at = now
                return row.failures

    async def changed_since(self, since: datetime | None) -> list[ScheduleRecord]:
        query = select(ScheduleRow)
        if since is not None:
            query = query.where(ScheduleRow.updated_at >= since)
        with _storage_errors("read changed schedules"):
            async with self._sessions() as session:
                return [_schedule(row) for row in (await session.execute(query)).scalars()]
