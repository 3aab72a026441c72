"""The daily usage counters (the quota) of the ``HistoryStore`` port: reserving images atomically so
that concurrent requests never overshoot a quota, giving them back, and reading a user's totals."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.core.types import UsageSummary
from bot.storage.common import rowcount, storage_errors
from bot.storage.tables import UsageRow


@functools.cache
def _reservation(upsert: Any, *, with_quota: bool) -> Any:
    """``INSERT INTO usage ... ON CONFLICT (user_id, day) DO UPDATE SET images = images + n, ...
    [WHERE images + n <= quota] RETURNING images`` with bound parameters (built once per dialect)."""
    usage = cast(Table, UsageRow.__table__)
    images = bindparam("b_images", type_=usage.c.images.type)
    cost = bindparam("b_cost", type_=usage.c.est_cost.type)
    stmt = upsert(usage).values(
        user_id=bindparam("b_user_id", type_=usage.c.user_id.type),
        day=bindparam("b_day", type_=usage.c.day.type),
        images=images,
        est_cost=cost,
    )
    quota = bindparam("b_quota", type_=usage.c.images.type)
    return stmt.on_conflict_do_update(
        index_elements=[usage.c.user_id, usage.c.day],
        set_={"images": usage.c.images + images, "est_cost": usage.c.est_cost + cost},
        where=(usage.c.images + images <= quota) if with_quota else None,
    ).returning(usage.c.images)


def reservation(
    upsert: Any, *, user_id: int, day: date, images: int, est_cost: float, quota: int | None
) -> tuple[Any, dict[str, Any]]:
    """The upsert that counts ``images`` against the day's ``quota`` and its parameters: it returns a
    row when counted, none when the quota has no room. ``upsert``: the dialect's ``insert``."""
    params = {"b_user_id": user_id, "b_day": day, "b_images": images, "b_cost": est_cost, "b_quota": quota}
    return _reservation(upsert, with_quota=quota is not None), params


class UsageQueries:
    """Mixed into ``SqlHistoryStore``."""

    _engine: AsyncEngine
    _sessions: async_sessionmaker[Any]

    def _insert(self) -> Any:
        """The dialect's ``insert`` with ON CONFLICT support, or None for other databases."""
        name = self._engine.dialect.name
        if name == "postgresql":
            return postgresql.insert
        if name == "sqlite":
            return sqlite.insert
        return None

    # ------------------------------------------------------------------------------------- usage

    async def add_usage(self, *, user_id: int, day: date, images: int, est_cost: float = 0.0) -> None:
        if images or est_cost:
            await self.reserve_usage(user_id=user_id, day=day, images=images, est_cost=est_cost, quota=None)

    async def reserve_usage(
        self, *, user_id: int, day: date, images: int, est_cost: float, quota: int | None
    ) -> bool:
        upsert = self._insert()
        if upsert is not None:
            return await self._reserve_upsert(upsert, user_id, day, images, est_cost, quota)
        key = (UsageRow.user_id == user_id, UsageRow.day == day)
        conditions = [*key]
        if quota is not None:
            conditions.append(UsageRow.images + images <= quota)
        # One conditional UPDATE: the database serialises concurrent ones on the row, and each
        # re-checks the condition against the committed count, so a quota is never overshot.
        reserve = (
            update(UsageRow)
            .where(*conditions)
            .values(images=UsageRow.images + images, est_cost=UsageRow.est_cost + est_cost)
        )
        with storage_errors("reserve the usage"):
            await self._ensure_usage_row(user_id, day)
            async with self._sessions.begin() as session:
                return rowcount(await session.execute(reserve)) == 1

    async def _reserve_upsert(
        self, upsert: Any, user_id: int, day: date, images: int, est_cost: float, quota: int | None
    ) -> bool:
        """The reservation as one INSERT ... ON CONFLICT DO UPDATE ... WHERE: a new day's row starts at
        ``images``; an existing row is added to only while the quota holds. The database takes the row
        lock and re-checks the WHERE against the committed count (PostgreSQL) or runs writers one at a
        time (SQLite), so concurrent reservations never overshoot the quota."""
        if quota is not None and images > quota:
            return False  # not even a fresh day's count of 0 leaves room
        stmt, params = reservation(
            upsert, user_id=user_id, day=day, images=images, est_cost=est_cost, quota=quota
        )
        with storage_errors("reserve the usage"):
            async with self._engine.begin() as conn:
                return (await conn.execute(stmt, params)).first() is not None

    async def _ensure_usage_row(self, user_id: int, day: date) -> None:
        insert = self._insert()
        if insert is not None:
            stmt = insert(UsageRow).values(user_id=user_id, day=day, images=0, est_cost=0.0)
            async with self._sessions.begin() as session:
                await session.execute(
                    stmt.on_conflict_do_nothing(index_elements=[UsageRow.user_id, UsageRow.day])
                )
            return
        try:
            async with self._sessions.begin() as session:
                exists_ = (
                    await session.execute(
                        select(UsageRow.images).where(UsageRow.user_id == user_id, UsageRow.day == day)
                    )
                ).first()
                if exists_ is None:
                    session.add(UsageRow(user_id=user_id, day=day, images=0, est_cost=0.0))
        except IntegrityError:
            return  # inserted concurrently: the row exists, which is all we need

    async def usage(self, *, user_id: int, day: date) -> UsageSummary:
        today = func.coalesce(func.sum(case((UsageRow.day == day, UsageRow.images), else_=0)), 0)
        total = func.coalesce(func.sum(UsageRow.images), 0)
        spend_today = func.coalesce(func.sum(case((UsageRow.day == day, UsageRow.est_cost), else_=0.0)), 0.0)
        spend_total = func.coalesce(func.sum(UsageRow.est_cost), 0.0)
        stmt = select(today, total, spend_today, spend_total).where(UsageRow.user_id == user_id)
        with storage_errors("read the usage"):
            async with self._engine.connect() as conn:
                images_today, images_total, cost_today, cost_total = (await conn.execute(stmt)).one()
        return UsageSummary(
            images_today=int(images_today),
            images_total=int(images_total),
            spend_today=float(cost_today),
            spend_total=float(cost_total),
        )
