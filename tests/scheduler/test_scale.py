"""Scale: a scheduler over 100,000 schedules starts within 3 seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.scheduler.service import SchedulerService
from tests.scheduler.conftest import World, bulk_add

pytestmark = pytest.mark.easel(env={"EASEL__LIMITS__DAILY_IMAGES_PER_USER": "0"})


async def test_hundred_thousand_schedules_start_within_three_seconds(world: World, db_url: str) -> None:
    """Loading 100,000 enabled schedules into a new scheduler takes at most 3 s."""
    if not db_url.startswith("sqlite"):
        pytest.skip("measured on SQLite; PostgreSQL is faster at this")
    inserting = time.perf_counter()
    await bulk_add(world, 100_000, next_fire_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC), age=timedelta(days=1))
    print(f"100k schedules inserted in {time.perf_counter() - inserting:.2f} s")
    scheduler = SchedulerService(  # a second loop over the same store: what a fresh start loads
        store=world.store,
        executor=world.scheduler._executor,
        triggers=world.triggers,
        clock=world.clock,
    )
    started = time.perf_counter()
    await scheduler.start(run_loop=False)
    elapsed = time.perf_counter() - started
    try:
        print(f"100k schedules: scheduler started in {elapsed:.2f} s")
        assert elapsed <= 3.0
        world.clock.current += timedelta(minutes=1)
        await scheduler.step()  # nothing due, a poll: no work for 100,000 unchanged rows
        assert await world.store.open_runs() == []
    finally:
        await scheduler.stop()
