"""``SqlJobStore``: the durable job queue's rows (the ``JobStore`` port) on SQLAlchemy.

Every method is one transaction of SQLAlchemy Core statements on a pooled connection: no ORM session,
unit of work or identity map (they cost more CPU than the query on SQLite, and a job makes about a
dozen of these calls). The hot statements are built once with bound parameters, so a call only binds
values (no statement construction or cache-key computation per call).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.errors import NotFound
from bot.core.jobs import lifecycle
from bot.core.types import OPEN_JOB_STATUSES, JobRecord, JobStatus, Target
from bot.storage.common import row_id
from bot.storage.common import storage_errors as _storage_errors
from bot.storage.job_claims import JobClaims, job_record
from bot.storage.tables import DeliveryRow, JobRow, ShownMessageRow
from bot.storage.usage_repo import reservation

FAILURE = "failure"
RESULT = "result"
_OPEN = [status.value for status in OPEN_JOB_STATUSES]
_ENDED_BADLY = [JobStatus.FAILED.value, JobStatus.CANCELLED.value]
_JOBS = cast(Table, JobRow.__table__)
_DELIVERIES = cast(Table, DeliveryRow.__table__)
_BY_ID = select(_JOBS).where(_JOBS.c.id == bindparam("b_job_id"))
_BY_KEY = select(_JOBS).where(_JOBS.c.idempotency_key == bindparam("b_key"))
_CREATE = insert(_JOBS).returning(_JOBS.c.id)
_SHOWN = cast(Table, ShownMessageRow.__table__)
_UPDATE = update(_JOBS).where(_JOBS.c.id == bindparam("b_job_id"))
"""Executed with the job id and the columns to set (SQLAlchemy makes the SET clause from their names)."""
_DELIVER = insert(_DELIVERIES)
_HELD_BY = _JOBS.c.lease_owner == bindparam("b_owner")
_UNHELD = or_(_JOBS.c.lease_owner.is_(None), _JOBS.c.lease_expires_at < bindparam("b_now"))
_MOVES = {
    (target, held): update(_JOBS)
    .where(
        _JOBS.c.id == bindparam("b_job_id"),
        _JOBS.c.status.in_(sorted(status.value for status in lifecycle.allowed_from(target))),
        _HELD_BY if held else _UNHELD,
    )
    .returning(*_JOBS.c)
    for target in lifecycle.MOVES
    for held in (True, False)
}
"""One conditional UPDATE per target state and lease: the move happens only from the states it may
come from, and only by the replica holding the job's lease (or, for a job nobody holds, by anyone)."""


def _move_values(
    to: JobStatus, now: datetime, *, error: str | None = None, user_message: str | None = None,
    notified: bool = False,
) -> dict[str, Any]:  # fmt: skip
    values: dict[str, Any] = {"status": to.value, "updated_at": now}
    if to in lifecycle.FINAL:
        values["finished_at"] = now
    if to == JobStatus.DONE or (to in lifecycle.FINAL and notified):  # nothing owed: nobody holds it
        values |= {"lease_owner": None, "lease_expires_at": None}
    if notified:
        values["notified"] = True
    if error is not None:
        values["error"] = error
    if user_message is not None:
        values["user_message"] = user_message
    return values


def move_statement(
    to: JobStatus, *, job_id: int, now: datetime, owner: str | None, **values: Any
) -> tuple[Any, dict[str, Any]]:
    """The conditional UPDATE moving ``job_id`` to ``to`` (``_MOVES``) with its parameters, for a store
    that moves a job inside a transaction of its own (its RETURNING row is None when it did not move)."""
    stmt = _MOVES[(to, owner is not None)].values(_move_values(to, now) | values)
    return stmt, {"b_job_id": job_id, "b_owner": owner, "b_now": now}


class SqlJobStore(JobClaims):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create_job(
        self,
        *,
        idempotency_key: str | None,
        platform: str,
        chat_id: int,
        user_id: int,
        target: Target,
        payload: Mapping[str, Any],
        images_reserved: int,
        usage_day: date | None,
        est_cost: float,
        after_job_id: int | None,
        now: datetime,
        count_usage: bool = False,
        quota: int | None = None,
    ) -> tuple[int, bool] | None:
        values = {
            "idempotency_key": idempotency_key,
            "status": JobStatus.QUEUED.value,
            "attempts": 0,
            "payload": dict(payload),
            "platform": platform,
            "chat_id": chat_id,
            "user_id": user_id,
            "target": target.to_json(),
            "images_reserved": images_reserved,
            "usage_day": usage_day,
            "est_cost": est_cost,
            "after_job_id": after_job_id,
            "created_at": now,
            "updated_at": now,
            "notified": False,
        }
        if count_usage and quota is not None and images_reserved > quota:
            return None  # not even a fresh day's count of 0 leaves room
        with _storage_errors("queue the job"):
            try:
                async with self._engine.begin() as conn:
                    if count_usage and usage_day is not None:
                        reserve = reservation(
                            self._upsert(), user_id=user_id, day=usage_day, images=images_reserved,
                            est_cost=est_cost, quota=quota,
                        )  # fmt: skip
                        if (await conn.execute(*reserve)).first() is None:
                            return None  # the day's quota has no room: nothing written
                    return int((await conn.execute(_CREATE, values)).scalar_one()), True
            except IntegrityError:  # the key is taken: the reservation above is rolled back with it
                if idempotency_key is None:
                    raise
        existing = await self.find_job(idempotency_key=idempotency_key)
        if existing is None:
            raise NotFound(f"job with key {idempotency_key!r} vanished")
        return existing.id, False

    def _upsert(self) -> Any:
        """The dialect's ``insert`` with ON CONFLICT (Easel runs on PostgreSQL or SQLite)."""
        return postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert

    async def find_job(self, *, idempotency_key: str) -> JobRecord | None:
        return await self._one(_BY_KEY, {"b_key": idempotency_key})

    async def get_job(self, *, job_id: int) -> JobRecord | None:
        if not row_id(job_id):
            return None
        return await self._one(_BY_ID, {"b_job_id": job_id})

    async def _one(self, stmt: Any, params: dict[str, Any]) -> JobRecord | None:
        with _storage_errors("read the job"):
            async with self._engine.connect() as conn:
                row = (await conn.execute(stmt, params)).one_or_none()
        return job_record(row) if row is not None else None

    async def open_jobs(self) -> list[JobRecord]:
        stmt = (
            select(_JOBS)
            .where(
                or_(
                    JobRow.status.in_(_OPEN),
                    JobRow.status.in_(_ENDED_BADLY) & JobRow.notified.is_(False),
                )
            )
            .order_by(JobRow.id)
        )
        with _storage_errors("read the open jobs"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [job_record(row) for row in rows]

    async def latest_open_job(self, *, chat_id: int) -> int | None:
        stmt = (
            select(JobRow.id)
            .where(JobRow.chat_id == chat_id, JobRow.status.in_(_OPEN))
            .order_by(JobRow.id.desc())
            .limit(1)
        )
        with _storage_errors("read the open jobs"):
            async with self._engine.connect() as conn:
                return (await conn.execute(stmt)).scalar_one_or_none()

    async def move(
        self,
        *,
        job_id: int,
        to: JobStatus,
        now: datetime,
        error: str | None = None,
        user_message: str | None = None,
        notified: bool = False,
        attempt: bool = False,
        owner: str | None = None,
    ) -> JobRecord | None:
        values = _move_values(to, now, error=error, user_message=user_message, notified=notified)
        if attempt:
            values |= {"attempts": _JOBS.c.attempts + 1, "started_at": now}
        params = {"b_job_id": job_id, "b_owner": owner, "b_now": now}
        stmt = _MOVES[(to, owner is not None)].values(values)
        with _storage_errors("update the job"):
            async with self._engine.begin() as conn:
                row = (await conn.execute(stmt, params)).one_or_none()
        return job_record(row) if row is not None else None

    async def record_delivery(
        self,
        *,
        job_id: int,
        kind: str,
        platform: str,
        message_ids: Sequence[str],
        now: datetime,
        shown: tuple[str, int] | None = None,
        owner: str | None = None,
    ) -> None:
        row = {
            "job_id": job_id,
            "kind": kind,
            "platform": platform,
            "message_ids": {"ids": list(message_ids)},
            "created_at": now,
        }
        with _storage_errors("record the delivery"):
            try:
                async with self._engine.begin() as conn:
                    await conn.execute(_DELIVER, row)
                    if kind == FAILURE:
                        told = {"notified": True, "lease_owner": None, "lease_expires_at": None}
                        await conn.execute(_UPDATE, {"b_job_id": job_id, "updated_at": now, **told})
                    else:
                        await conn.execute(
                            *move_statement(JobStatus.DONE, job_id=job_id, now=now, owner=owner)
                        )
                    if shown is not None and message_ids:
                        chat_id, generation_id = shown
                        rows = [
                            {"platform": platform, "chat_id": chat_id, "message_id": str(message_id),
                             "generation_id": generation_id, "job_id": job_id}
                            for message_id in dict.fromkeys(message_ids)
                        ]  # fmt: skip
                        await conn.execute(self._upsert_shown(), rows)
            except IntegrityError:
                return  # already recorded: the send happened twice (the documented crash window)

    def _upsert_shown(self) -> Any:
        """Insert shown messages; an id seen before now shows this generation (platforms such as the
        terminal and the web chat number their messages anew in each process)."""
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(_SHOWN)
        return stmt.on_conflict_do_update(
            index_elements=["platform", "chat_id", "message_id"],
            set_={"generation_id": stmt.excluded.generation_id, "job_id": stmt.excluded.job_id},
        )

    async def generation_shown_in(self, *, platform: str, chat_id: str, message_id: str) -> int | None:
        stmt = select(_SHOWN.c.generation_id).where(
            _SHOWN.c.platform == platform, _SHOWN.c.chat_id == chat_id, _SHOWN.c.message_id == message_id
        )
        with _storage_errors("read the deliveries"):
            async with self._engine.connect() as conn:
                found = (await conn.execute(stmt)).scalar_one_or_none()
        return int(found) if found is not None else None

    async def result_messages(self, *, generation_id: int) -> list[tuple[Target, list[str]]]:
        """Where each delivered result showing the generation went: its job's target and the
        platform's message ids (oldest first)."""
        stmt = (
            select(_JOBS.c.target, _DELIVERIES.c.message_ids)
            .join(_DELIVERIES, _DELIVERIES.c.job_id == _JOBS.c.id)
            .where(_JOBS.c.generation_id == generation_id, _DELIVERIES.c.kind == RESULT)
            .order_by(_DELIVERIES.c.id)
        )
        if not row_id(generation_id):
            return []
        with _storage_errors("read the deliveries"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [
            (Target.from_json(row.target), [str(i) for i in (row.message_ids or {}).get("ids", [])])
            for row in rows
        ]

    async def delivered(self, *, job_id: int, kind: str) -> bool:
        stmt = select(DeliveryRow.id).where(DeliveryRow.job_id == job_id, DeliveryRow.kind == kind)
        with _storage_errors("read the deliveries"):
            async with self._engine.connect() as conn:
                return (await conn.execute(stmt)).first() is not None
