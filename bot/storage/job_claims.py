"""Leased jobs on SQL: a worker claims the next job nobody holds, renews its lease while it works, and
lets go when it stops; the queue's figures for ``/status`` and the status page come from here too.

The claim is one statement: ``UPDATE jobs SET lease_owner = :me, lease_expires_at = :until WHERE id =
(SELECT id ... ORDER BY <least recently served user first>, id LIMIT 1 [FOR UPDATE SKIP LOCKED])
RETURNING *``; a job still to be generated (queued, or running when its worker died) is started by
it too: ``running``, one more attempt, ``started_at`` (what ``JobStore.move(..., attempt=True)`` does),
so a job's start costs no transaction of its own. On PostgreSQL, ``SKIP LOCKED`` lets workers of
several replicas claim side by side without waiting for each other; SQLite runs one writer at a time,
which makes the statement atomic there as well. A job is claimable when it is owed work (queued,
running, generated, or failed or cancelled with its notice not yet sent), nobody holds it (never leased,
or the lease expired: its worker died), it is for a platform the claimant serves, and it does not wait
for an earlier open job of its chat.

The claim also answers whether anything else is owed work and free
(``claim_next``), so a queue whose last claim saw nothing more claims again only when a job is queued or
freed, or at its poll: a request costs one claim, not one plus an empty one after it and another after
its end. The statements are built once per dialect with bound parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, and_, bindparam, case, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.types import OPEN_JOB_STATUSES, JobRecord, JobStatus, Target
from bot.storage.common import storage_errors
from bot.storage.tables import JobRow

JOBS = cast(Table, JobRow.__table__)
_OPEN = [status.value for status in OPEN_JOB_STATUSES]
_ENDED_BADLY = [JobStatus.FAILED.value, JobStatus.CANCELLED.value]
_STARTS = [JobStatus.QUEUED.value, JobStatus.RUNNING.value]


def job_record(row: Row[Any]) -> JobRecord:
    return JobRecord(
        id=row.id,
        status=JobStatus(row.status),
        platform=row.platform,
        chat_id=row.chat_id or 0,
        user_id=row.user_id or 0,
        target=Target.from_json(row.target),
        payload=dict(row.payload or {}),
        attempts=row.attempts,
        generation_id=row.generation_id,
        after_job_id=row.after_job_id,
        images_reserved=row.images_reserved,
        usage_day=row.usage_day,
        est_cost=row.est_cost,
        created_at=row.created_at,
        error=row.error,
        user_message=row.user_message,
        notified=row.notified,
        lease_owner=row.lease_owner,
    )


def _owed() -> Any:
    return or_(JOBS.c.status.in_(_OPEN), and_(JOBS.c.status.in_(_ENDED_BADLY), JOBS.c.notified.is_(False)))


def _free(now: Any) -> Any:
    return or_(JOBS.c.lease_owner.is_(None), JOBS.c.lease_expires_at < now)


def _fair_order() -> tuple[Any, Any]:
    """The user served least recently first (never served: first of all), then the oldest job."""
    served = JOBS.alias("served")
    last = select(func.max(served.c.started_at)).where(served.c.user_id == JOBS.c.user_id).scalar_subquery()
    return last.asc().nulls_first(), JOBS.c.id.asc()


_OWED_AND_FREE = select(
    exists().where(
        _owed(), _free(bindparam("b_now")), JOBS.c.platform.in_(bindparam("b_platforms", expanding=True))
    )
)


@functools.cache
def _claim_statement(dialect: str) -> Any:
    """The claim (see the module docstring), built once per dialect with bound parameters."""
    now: Any = bindparam("b_now")
    platforms: Any = bindparam("b_platforms", expanding=True)
    earlier = JOBS.alias("earlier")
    waiting = exists().where(earlier.c.id == JOBS.c.after_job_id, earlier.c.status.in_(_OPEN))
    candidate = (
        select(JOBS.c.id)
        .where(_owed(), _free(now), JOBS.c.platform.in_(platforms), ~waiting)
        .order_by(*_fair_order())
        .limit(1)
    )
    if dialect == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True, of=JOBS)
    starts = JOBS.c.status.in_(_STARTS)  # a job to (re)generate: the claim is its start, an attempt
    return (
        update(JOBS)
        .where(JOBS.c.id == candidate.scalar_subquery())
        .values(
            lease_owner=bindparam("b_owner"),
            lease_expires_at=bindparam("b_until"),
            status=case((starts, JobStatus.RUNNING.value), else_=JOBS.c.status),
            attempts=JOBS.c.attempts + case((starts, 1), else_=0),
            started_at=case((starts, now), else_=JOBS.c.started_at),
            updated_at=case((starts, now), else_=JOBS.c.updated_at),
        )
        .returning(*JOBS.c)
    )


def _position_statement() -> Any:
    """A waiting job's place (see ``JobClaims.position``), built once with bound parameters."""
    served = JOBS.alias("served")
    last = select(func.max(served.c.started_at)).where(served.c.user_id == JOBS.c.user_id)
    waiting = (
        select(
            JOBS.c.id,
            func.row_number().over(partition_by=JOBS.c.user_id, order_by=JOBS.c.id).label("turn"),
            last.scalar_subquery().label("served"),
        )
        .where(JOBS.c.status == JobStatus.QUEUED.value, _free(bindparam("b_now")))
        .subquery()
    )
    order = (waiting.c.turn, waiting.c.served.asc().nulls_first(), waiting.c.id)
    ranked = select(waiting.c.id, func.row_number().over(order_by=order).label("place")).subquery()
    return select(ranked.c.place).where(ranked.c.id == bindparam("b_job_id"))


_POSITION = _position_statement()


class JobClaims:
    """Mixed into ``SqlJobStore``."""

    _engine: AsyncEngine

    async def claim(
        self, *, owner: str, platforms: Sequence[str], now: datetime, lease_s: float
    ) -> JobRecord | None:
        job, _ = await self.claim_next(owner=owner, platforms=platforms, now=now, lease_s=lease_s)
        return job

    async def claim_next(
        self, *, owner: str, platforms: Sequence[str], now: datetime, lease_s: float
    ) -> tuple[JobRecord | None, bool]:
        if not platforms:
            return None, False
        stmt = _claim_statement(self._engine.dialect.name)
        params = {
            "b_owner": owner,
            "b_now": now,
            "b_until": now + timedelta(seconds=lease_s),
            "b_platforms": list(platforms),
        }
        with storage_errors("claim a job"):
            async with self._engine.begin() as conn:
                row = (await conn.execute(stmt, params)).one_or_none()
                # In the same transaction, so the job just claimed is no longer free: anything else?
                more = bool((await conn.execute(_OWED_AND_FREE, params)).scalar())
        return (job_record(row) if row is not None else None), more

    async def has_work(self, *, platforms: Sequence[str], now: datetime) -> bool:
        """Whether a job for one of ``platforms`` is owed work and held by nobody."""
        if not platforms:
            return False
        params = {"b_now": now, "b_platforms": list(platforms)}
        with storage_errors("read the queue"):
            async with self._engine.connect() as conn:
                return bool((await conn.execute(_OWED_AND_FREE, params)).scalar())

    async def renew(self, *, owner: str, job_ids: Sequence[int], now: datetime, lease_s: float) -> set[int]:
        if not job_ids:
            return set()
        stmt = (
            update(JOBS)
            .where(JOBS.c.id.in_(list(job_ids)), JOBS.c.lease_owner == owner)
            .values(lease_expires_at=now + timedelta(seconds=lease_s))
            .returning(JOBS.c.id)
        )
        with storage_errors("renew the leases"):
            async with self._engine.begin() as conn:
                return {int(i) for i in (await conn.execute(stmt)).scalars()}

    async def release(self, *, owner: str, job_id: int) -> None:
        stmt = (
            update(JOBS)
            .where(JOBS.c.id == job_id, JOBS.c.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
        )
        with storage_errors("release the job"):
            async with self._engine.begin() as conn:
                await conn.execute(stmt)

    async def release_platforms(self, *, platforms: Sequence[str]) -> int:
        if not platforms:
            return 0
        stmt = (
            update(JOBS)
            .where(JOBS.c.platform.in_(list(platforms)), JOBS.c.lease_owner.is_not(None), _owed())
            .values(lease_owner=None, lease_expires_at=None)
        )
        with storage_errors("release the jobs of a previous run"):
            async with self._engine.begin() as conn:
                return (await conn.execute(stmt)).rowcount or 0

    async def queue_counts(self, *, now: datetime) -> tuple[int, int]:
        """(jobs waiting: queued and held by nobody, jobs being worked on: held by a live lease)."""
        held = and_(JOBS.c.lease_owner.is_not(None), JOBS.c.lease_expires_at >= now)
        waiting = func.count().filter(JOBS.c.status == JobStatus.QUEUED.value, ~held)
        working = func.count().filter(held)
        stmt = select(waiting, working).where(JOBS.c.status.in_(_OPEN))
        with storage_errors("count the queue"):
            async with self._engine.connect() as conn:
                queued, running = (await conn.execute(stmt)).one()
        return int(queued), int(running)

    async def position(self, *, job_id: int, now: datetime) -> int | None:
        """Where a waiting job stands (1 = next), over every replica's queue: users take turns, so a
        job's place is its turn among its user's waiting jobs, then its user's last service, then its
        age (the order in which claims will take them, as long as each job takes about as long)."""
        with storage_errors("read the queue"):
            async with self._engine.connect() as conn:
                found = (
                    await conn.execute(_POSITION, {"b_job_id": job_id, "b_now": now})
                ).scalar_one_or_none()
        return int(found) if found is not None else None

    async def open_jobs_in(self, *, chat_id: int, user_id: int | None = None) -> list[JobRecord]:
        """The chat's jobs still queued or running (a user's only, with ``user_id``), oldest first."""
        conditions = [
            JOBS.c.chat_id == chat_id,
            JOBS.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
        ]
        if user_id is not None:
            conditions.append(JOBS.c.user_id == user_id)
        stmt = select(JOBS).where(*conditions).order_by(JOBS.c.id)
        with storage_errors("read the open jobs"):
            async with self._engine.connect() as conn:
                return [job_record(row) for row in (await conn.execute(stmt)).all()]
