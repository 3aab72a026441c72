"""Scheduled posts fire through the job pipeline: on time, once, in the right time zone."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.errors import Refused, StorageError
from bot.core.schedules.ports import Claim, RunRecord, RunStatus
from bot.storage.schedule_repo import SqlScheduleStore
from tests.fakes.clock import FixedClock
from tests.scheduler.conftest import TARGET, World, bulk_add, open_world


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


async def test_daily_post_is_delivered_at_its_time(world: World) -> None:
    """A daily 09:00 schedule posts one image at 09:00 and nothing before."""
    schedule_id = await world.add("every day at 09:00", "a lighthouse, {weekday} #{n}")
    assert world.images(await world.at(utc(2026, 3, 1, 8, 59))) == []
    posted = world.images(await world.at(utc(2026, 3, 1, 9, 0)))
    assert len(posted) == 1
    assert world.provider.requests[-1].prompt == "a lighthouse, Sunday #1"
    assert [r.status for r in await world.runs(schedule_id)] == [RunStatus.DONE]
    assert world.platform.sent[-1].target.chat_id == TARGET.chat_id


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (utc(2026, 3, 28, 12, 0), [utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)]),  # spring forward
        (utc(2026, 10, 24, 12, 0), [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]),  # fall back
    ],
)
async def test_dst_days_post_exactly_once_at_the_right_instant(
    db_url: str, tmp_path: Path, start: datetime, expected: list[datetime]
) -> None:
    """02:30 Europe/Berlin on the DST days: one run each day, at the right UTC instant."""
    async with open_world(db_url, tmp_path / "m", clock=FixedClock(start)) as world:
        schedule_id = await world.add("30 2 * * *", tz="Europe/Berlin")
        moment = start
        while moment < start + timedelta(days=2):  # every 30 minutes across both days
            moment += timedelta(minutes=30)
            await world.at(moment)
        runs = await world.runs(schedule_id)
        assert [r.fire_time for r in runs] == expected
        assert len(world.images(world.platform.replies)) == 2


async def test_restart_inside_the_fire_window_does_not_post_twice(db_url: str, tmp_path: Path) -> None:
    """After a post at 09:00, a restart at 09:00:30 posts nothing more."""
    clock = FixedClock(utc(2026, 3, 1, 8, 0))
    async with open_world(db_url, tmp_path / "m", clock=clock) as first:
        await first.add("every day at 09:00")
        assert len(first.images(await first.at(utc(2026, 3, 1, 9, 0)))) == 1
    async with open_world(db_url, tmp_path / "m", clock=clock) as second:
        assert second.images(await second.at(utc(2026, 3, 1, 9, 0, 30))) == []


async def test_claimed_but_unsubmitted_run_is_posted_once_after_a_crash(db_url: str, tmp_path: Path) -> None:
    """A run claimed just before a crash (no job yet) is posted exactly once by the next start."""
    clock = FixedClock(utc(2026, 3, 1, 8, 0))
    async with open_world(db_url, tmp_path / "m", clock=clock) as first:
        schedule_id = await first.add("every day at 09:00")
        due = utc(2026, 3, 1, 9, 0)
        claimed = await first.store.claim(
            [Claim(schedule_id, due, utc(2026, 3, 2, 9, 0), due)], now=due
        )  # as the crashed process did
        again = await first.store.claim([Claim(schedule_id, due, utc(2026, 3, 2, 9, 0), due)], now=due)
        assert len(claimed) == 1 and again == []
    clock.current = utc(2026, 3, 1, 9, 0, 5)
    async with open_world(db_url, tmp_path / "m", clock=clock) as second:
        await second.easel.queue.drain()
        await second.scheduler.settle()
        replies = second.images(await second.at(utc(2026, 3, 1, 9, 0, 10)))
        assert len(second.images(second.platform.replies)) == 1 and replies == []
        assert [r.status for r in await second.runs(schedule_id)] == [RunStatus.DONE]


async def test_downtime_within_grace_coalesces_into_one_run(db_url: str, tmp_path: Path) -> None:
    """Hourly runs missed for 3 hours are made once at start, for the latest missed time."""
    clock = FixedClock(utc(2026, 3, 1, 8, 30))
    async with open_world(db_url, tmp_path / "m", clock=clock) as first:
        schedule_id = await first.add("every hour")
    clock.current = utc(2026, 3, 1, 12, 10)
    async with open_world(db_url, tmp_path / "m", clock=clock) as second:
        assert len(second.images(await second.at(utc(2026, 3, 1, 12, 10)))) == 1
        runs = await second.runs(schedule_id)
        assert [(r.fire_time, r.status) for r in runs] == [(utc(2026, 3, 1, 11, 30), RunStatus.DONE)]
        schedule = await second.store.get(schedule_id)
        assert schedule is not None and schedule.next_fire_at == utc(2026, 3, 1, 12, 30)


async def test_downtime_beyond_grace_is_skipped_and_logged(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A daily run missed by more than the grace is recorded as missed, logged, and not posted."""
    clock = FixedClock(utc(2026, 3, 1, 8, 0))
    async with open_world(db_url, tmp_path / "m", clock=clock) as first:
        schedule_id = await first.add("every day at 09:00")
    clock.current = utc(2026, 3, 1, 16, 0)  # 7 h late, grace 6 h
    with caplog.at_level(logging.WARNING, logger="bot.scheduler.service"):
        async with open_world(db_url, tmp_path / "m", clock=clock) as second:
            assert second.images(await second.at(utc(2026, 3, 1, 16, 0))) == []
            runs = await second.runs(schedule_id)
    assert [(r.fire_time, r.status) for r in runs] == [(utc(2026, 3, 1, 9, 0), RunStatus.MISSED)]
    assert "older than the misfire grace" in caplog.text


@pytest.mark.easel(errors=[Refused("no", provider="pictures", user_message="Refused by the provider.")])
async def test_a_run_whose_job_fails_before_it_is_marked_submitted_still_retries(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job fails while its run is being marked submitted: the run ends retrying, not submitted."""
    slow = SqlScheduleStore.mark_submitted

    async def slow_mark(
        self: SqlScheduleStore, runs: Sequence[tuple[RunRecord, int]], *, now: datetime
    ) -> None:
        await asyncio.sleep(0.3)  # the refused job has ended and its outcome is heard meanwhile
        await slow(self, runs, now=now)

    monkeypatch.setattr(SqlScheduleStore, "mark_submitted", slow_mark)
    schedule_id = await world.add("every day at 09:00")
    first = await world.at(utc(2026, 3, 1, 9, 0))
    assert any("try again in about 1 min" in r.text for r in first)
    assert [r.status for r in await world.runs(schedule_id)] == [RunStatus.RETRYING]


@pytest.mark.easel(errors=[Refused("no", provider="pictures", user_message="Refused by the provider.")] * 5)
async def test_failures_retry_with_backoff_then_pause_with_a_notice(world: World) -> None:
    """A failing run is retried after 1 and 2 minutes; the third failure pauses the schedule."""
    schedule_id = await world.add("every day at 09:00")
    first = await world.at(utc(2026, 3, 1, 9, 0))
    assert any("try again in about 1 min" in r.text for r in first)
    second = await world.at(utc(2026, 3, 1, 9, 1))
    assert any("try again in about 2 min" in r.text for r in second)
    third = await world.at(utc(2026, 3, 1, 9, 3))
    assert any("paused" in r.text and "/schedule resume" in r.text for r in third)
    schedule = await world.store.get(schedule_id)
    assert schedule is not None and not schedule.enabled and schedule.failures == 3
    assert [r.status for r in await world.runs(schedule_id)] == [RunStatus.FAILED]
    assert await world.at(utc(2026, 3, 2, 9, 0)) == []  # paused: nothing the next day
    assert len(world.provider.requests) == 3


async def test_deleting_a_schedule_cancels_its_pending_job(world: World) -> None:
    """A job queued for a schedule that is then deleted is never generated or posted."""
    await world.easel.queue.stop()  # hold the workers so the job stays queued
    schedule_id = await world.add("every day at 09:00")
    world.clock.current = utc(2026, 3, 1, 9, 0)
    await world.scheduler.step()
    await world.scheduler.flush()
    [run] = await world.runs(schedule_id)
    assert run.job_id is not None
    await world.say(f"/schedule remove {schedule_id}", chat="c1", user="c1")
    await world.easel.queue.start()
    await world.easel.queue.drain()
    job = await world.easel.jobs.get_job(job_id=run.job_id)
    assert job is not None and job.status == "cancelled"
    assert world.provider.requests == [] and world.images(world.platform.replies) == []
    assert await world.store.get(schedule_id) is None


async def test_run_now_posts_immediately(world: World) -> None:
    """/schedule run posts at once without moving the schedule's next time."""
    schedule_id = await world.add("every day at 09:00")
    answer = await world.say(f"/schedule run {schedule_id}", chat="c1", user="c1")
    assert f"Running #{schedule_id}" in answer
    assert len(world.images(await world.at(utc(2026, 3, 1, 8, 0, 1)))) == 1
    schedule = await world.store.get(schedule_id)
    assert schedule is not None and schedule.next_fire_at == utc(2026, 3, 1, 9, 0)


@pytest.mark.easel(env={"EASEL__LIMITS__DAILY_IMAGES_PER_USER": "0"})
async def test_a_thousand_schedules_due_at_once_are_all_posted(world: World) -> None:
    """1,000 schedules due at the same minute are claimed within a second and all delivered."""
    await bulk_add(world, 1000, next_fire_at=utc(2026, 3, 1, 9, 0))
    await world.scheduler.step()  # loads the new rows
    world.clock.current = utc(2026, 3, 1, 9, 0)
    started = time.perf_counter()
    await world.scheduler.step()
    claimed = time.perf_counter() - started
    await world.scheduler.flush()
    queued = time.perf_counter() - started
    await world.easel.queue.drain()
    await world.scheduler.settle()
    delivered = time.perf_counter() - started
    print(f"1000 due: claimed {claimed:.2f} s, queued {queued:.2f} s, delivered {delivered:.2f} s")
    assert claimed < 1.0
    assert len(world.images(world.platform.replies)) == 1000
    assert len({item.target.chat_id for item in world.platform.sent}) == 1000
    assert await world.store.open_runs() == []


@pytest.mark.easel(errors=[Refused("no", provider="pictures", user_message="Refused by the provider.")])
async def test_a_success_after_a_failure_resets_the_count(world: World) -> None:
    """One failure then a successful retry: the post arrives and the failure count is back to 0."""
    schedule_id = await world.add("every day at 09:00")
    await world.at(utc(2026, 3, 1, 9, 0))
    posted = world.images(await world.at(utc(2026, 3, 1, 9, 1)))
    assert len(posted) == 1
    schedule = await world.store.get(schedule_id)
    assert schedule is not None and schedule.enabled and schedule.failures == 0
    [run] = await world.runs(schedule_id)
    assert (run.status, run.attempts) == (RunStatus.DONE, 2)


async def test_a_pause_made_by_another_process_stops_the_posts(world: World) -> None:
    """A schedule paused straight in the database (as the CLI does) does not post, though loaded."""
    schedule_id = await world.add("every day at 09:00")
    await world.at(utc(2026, 3, 1, 8, 30))  # the running scheduler has it in its heap
    await world.store.set_enabled(schedule_id, enabled=False, next_fire_at=None, now=utc(2026, 3, 1, 8, 31))
    assert world.images(await world.at(utc(2026, 3, 1, 9, 0))) == []
    assert await world.runs(schedule_id) == []


async def test_a_database_error_while_claiming_keeps_the_run_due(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When claiming fails (database down), the fire time stays due and the next step posts it."""
    await world.add("every day at 09:00")
    real_claim = SqlScheduleStore.claim
    calls = 0

    async def flaky(self: SqlScheduleStore, claims: Sequence[Claim], *, now: datetime) -> list[RunRecord]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise StorageError("database is locked")
        return await real_claim(self, claims, now=now)

    monkeypatch.setattr(SqlScheduleStore, "claim", flaky)
    world.clock.current = utc(2026, 3, 1, 9, 0)
    with pytest.raises(StorageError):
        await world.scheduler.step()
    assert len(world.images(await world.at(utc(2026, 3, 1, 9, 0, 5)))) == 1
