"""Accepting a job is one transaction: its row and its images counted against the day's quota are
written together, or neither is (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.types import Target
from bot.storage.job_repo import SqlJobStore
from bot.storage.repos import SqlHistoryStore
from bot.storage.tables import JobRow
from tests.storage.conftest import NOW


async def accept(engine: AsyncEngine, *, key: str | None, images: int, quota: int | None) -> Any:
    history = SqlHistoryStore(engine)
    user_id = await history.upsert_user(platform="telegram", external_id="u", display_name="u")
    chat_id = await history.upsert_chat(platform="telegram", external_id="c")
    return await SqlJobStore(engine).create_job(
        idempotency_key=key, platform="telegram", chat_id=chat_id, user_id=user_id,
        target=Target("telegram", "c"), payload={}, images_reserved=images, usage_day=NOW.date(),
        est_cost=0.5, after_job_id=None, now=NOW, count_usage=True, quota=quota,
    )  # fmt: skip


async def counted(engine: AsyncEngine) -> tuple[int, int]:
    """(images counted today, job rows)."""
    history = SqlHistoryStore(engine)
    user_id = await history.upsert_user(platform="telegram", external_id="u", display_name="u")
    usage = await history.usage(user_id=user_id, day=NOW.date())
    async with engine.connect() as conn:
        rows = (await conn.execute(select(func.count()).select_from(JobRow))).scalar_one()
    return usage.images_today, int(rows)


async def test_a_job_and_its_images_are_counted_together(engine: AsyncEngine) -> None:
    """Within the quota: the job is written and its 2 images are counted."""
    made = await accept(engine, key="k1", images=2, quota=3)
    assert made is not None and made[1] is True
    assert await counted(engine) == (2, 1)


async def test_over_the_quota_nothing_is_written(engine: AsyncEngine) -> None:
    """A job that would pass the quota leaves neither a row nor a count."""
    await accept(engine, key="k1", images=2, quota=3)
    assert await accept(engine, key="k2", images=2, quota=3) is None
    assert await counted(engine) == (2, 1)


async def test_a_first_job_larger_than_the_quota_is_refused(engine: AsyncEngine) -> None:
    """On a fresh day, 5 images against a quota of 4: refused, nothing counted."""
    assert await accept(engine, key="k1", images=5, quota=4) is None
    assert await counted(engine) == (0, 0)


async def test_a_duplicate_delivery_counts_its_images_once(engine: AsyncEngine) -> None:
    """The same update twice (one key): one job, its images counted once."""
    first = await accept(engine, key="k1", images=2, quota=None)
    again = await accept(engine, key="k1", images=2, quota=None)
    assert first is not None and again == (first[0], False)
    assert await counted(engine) == (2, 1)


async def test_racing_duplicates_count_their_images_once(engine: AsyncEngine) -> None:
    """Five copies of one update at once: one job, 2 images counted."""
    results = await asyncio.gather(*(accept(engine, key="k1", images=2, quota=None) for _ in range(5)))
    assert len({r[0] for r in results}) == 1 and sum(r[1] for r in results) == 1
    assert await counted(engine) == (2, 1)
