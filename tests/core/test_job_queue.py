"""JobQueue over a real job table (SQLite): workers claim, run, renew and let go; stop with a grace;
runs asked again later; several queues ("replicas") sharing one table."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.errors import StorageError
from bot.core.jobs.queue import JobQueue, Runner
from bot.core.types import JobRecord, JobStatus, Target
from bot.storage import migrate
from bot.storage.db import make_engine
from bot.storage.job_repo import SqlJobStore
from bot.storage.repos import SqlHistoryStore
from tests.fakes.clock import FixedClock

PLATFORM = "test"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'queue.sqlite3'}"
    await migrate.upgrade(url)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


class Runs:
    """A runner whose jobs finish (done, in the table) when their gate opens; records what happened."""

    def __init__(self, jobs: SqlJobStore, clock: FixedClock, again: dict[int, float] | None = None) -> None:
        self.jobs, self.clock = jobs, clock
        self.gates: dict[int, asyncio.Event] = {}
        self.running = asyncio.Event()
        self.started: list[tuple[str, int]] = []
        self.finished: list[int] = []
        self.interrupted: list[int] = []
        self._again = dict(again or {})
        self.open_all = False

    def gate(self, job_id: int) -> asyncio.Event:
        return self.gates.setdefault(job_id, asyncio.Event())

    def runner(self, owner: str) -> Runner:
        async def run(job_id: int, claimed: JobRecord | None = None) -> float | None:
            self.started.append((owner, job_id))
            self.running.set()
            try:
                if not self.open_all:
                    await self.gate(job_id).wait()
            except asyncio.CancelledError:
                self.interrupted.append(job_id)
                raise
            if (delay := self._again.pop(job_id, None)) is not None:
                return delay
            now = self.clock.now()
            for step in (JobStatus.RUNNING, JobStatus.GENERATED, JobStatus.DONE):
                await self.jobs.move(job_id=job_id, to=step, now=now, owner=owner)
            self.finished.append(job_id)
            return None

        return run


async def add_jobs(engine: AsyncEngine, count: int, clock: FixedClock) -> list[int]:
    history, jobs = SqlHistoryStore(engine), SqlJobStore(engine)
    chat = await history.upsert_chat(platform=PLATFORM, external_id="c")
    ids = []
    for i in range(count):
        user = await history.upsert_user(platform=PLATFORM, external_id=f"u{i}", display_name="u")
        job_id, _ = await jobs.create_job(
            idempotency_key=None, platform=PLATFORM, chat_id=chat, user_id=user, target=Target(PLATFORM, "c"),
            payload={}, images_reserved=1, usage_day=clock.now().date(), est_cost=0.0, after_job_id=None,
            now=clock.now(),
        )  # fmt: skip
        ids.append(job_id)
    return ids


def make_queue(
    engine: AsyncEngine, runs: Runs, owner: str, clock: FixedClock, *, workers: int = 1, lease_s: float = 30
) -> JobQueue:
    return JobQueue(
        runner=runs.runner(owner), jobs=SqlJobStore(engine), owner=owner, platforms=[PLATFORM], clock=clock,
        workers=workers, max_queue=100, lease_s=lease_s, poll_s=0.05,
    )  # fmt: skip


def one_queue(
    jobs: SqlJobStore,
    runner: Runner,
    clock: FixedClock,
    *,
    workers: int,
    lease_s: float = 30,
    poll_s: float = 60,
) -> JobQueue:
    """Replica r1's queue over ``jobs``; by default its poll is a minute, so only wake-ups claim."""
    return JobQueue(
        runner=runner, jobs=jobs, owner="r1", platforms=[PLATFORM], clock=clock,
        workers=workers, max_queue=100, lease_s=lease_s, poll_s=poll_s,
    )  # fmt: skip


async def test_stop_lets_a_running_job_finish_within_the_grace(engine: AsyncEngine) -> None:
    """A job that finishes during the grace is not interrupted, and no waiting job starts."""
    clock = FixedClock()
    runs = Runs(SqlJobStore(engine), clock)
    first, second = await add_jobs(engine, 2, clock)
    queue = make_queue(engine, runs, "r1", clock)
    await queue.start()
    await runs.running.wait()
    stopping = asyncio.create_task(queue.stop(grace_s=30))
    await asyncio.sleep(0)
    runs.gate(first).set()
    runs.gate(second).set()
    await stopping
    assert runs.finished == [first] and runs.started == [("r1", first)] and runs.interrupted == []


async def test_stop_interrupts_a_job_still_running_after_the_grace(engine: AsyncEngine) -> None:
    """A job that outlives the grace is interrupted and its lease let go (anyone may resume it)."""
    clock = FixedClock()
    jobs = SqlJobStore(engine)
    runs = Runs(jobs, clock)
    (job_id,) = await add_jobs(engine, 1, clock)
    queue = make_queue(engine, runs, "r1", clock)
    await queue.start()
    await runs.running.wait()
    await queue.stop(grace_s=0.01)
    job = await jobs.get_job(job_id=job_id)
    assert runs.interrupted == [job_id] and runs.finished == []
    assert job is not None and job.lease_owner is None


async def test_a_run_asking_to_run_again_is_run_again_here_after_its_delay(engine: AsyncEngine) -> None:
    """A runner returning 0.01 s is run again after it, by the same replica, and wait_for waits through."""
    clock = FixedClock()
    (job_id,) = await add_jobs(engine, 1, clock)
    runs = Runs(SqlJobStore(engine), clock, again={job_id: 0.01})
    runs.gate(job_id).set()
    queue = make_queue(engine, runs, "r1", clock)
    await queue.start()
    await asyncio.wait_for(queue.wait_for(job_id), 5)
    await queue.stop()
    assert runs.started == [("r1", job_id), ("r1", job_id)] and runs.finished == [job_id]


async def test_two_replicas_run_every_job_exactly_once(engine: AsyncEngine) -> None:
    """Two queues with two workers each over one table: 20 jobs, each run once, both replicas busy."""
    clock = FixedClock()
    runs = Runs(SqlJobStore(engine), clock)
    runs.open_all = True
    created = await add_jobs(engine, 20, clock)
    queues = [make_queue(engine, runs, name, clock, workers=2) for name in ("r1", "r2")]
    for queue in queues:
        await queue.start()
    await asyncio.wait_for(asyncio.gather(*(queue.drain() for queue in queues)), 20)
    for queue in queues:
        await queue.stop()
    assert sorted(runs.finished) == sorted(created)
    assert sorted(job_id for _, job_id in runs.started) == sorted(created)
    assert {owner for owner, _ in runs.started} == {"r1", "r2"}


async def test_a_worker_whose_lease_was_taken_over_stops_the_job(engine: AsyncEngine) -> None:
    """r1 stalls past its lease (by the database's clock), r2 takes the job over: r1's run is stopped."""
    clock, later = FixedClock(), FixedClock()
    runs = Runs(SqlJobStore(engine), clock)
    (job_id,) = await add_jobs(engine, 1, clock)
    first = make_queue(engine, runs, "r1", clock, lease_s=1.5)
    await first.start()
    await runs.running.wait()
    later.advance(seconds=5)  # r2 lives 5 s later: r1's lease has expired there
    second = make_queue(engine, runs, "r2", later, lease_s=1.5)
    await second.start()
    await asyncio.wait_for(_until(lambda: ("r2", job_id) in runs.started), 5)
    await asyncio.wait_for(_until(lambda: job_id in runs.interrupted), 5)  # r1's renewal found it gone
    runs.gate(job_id).set()
    await asyncio.wait_for(second.wait_for(job_id), 5)
    for queue in (first, second):
        await queue.stop()
    assert runs.finished == [job_id]


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():  # noqa: ASYNC110 - the queue's own tasks change what is looked at
        await asyncio.sleep(0.01)


async def test_a_job_that_ends_while_its_lease_is_renewed_is_not_called_taken_over(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """A run whose job is already done (its lease let go) but whose task lingers is not stopped."""
    clock = FixedClock()
    jobs = SqlJobStore(engine)
    await add_jobs(engine, 1, clock)
    lingered = asyncio.Event()
    interrupted: list[int] = []

    async def run(job: int, claimed: JobRecord | None = None) -> float | None:
        for step in (JobStatus.RUNNING, JobStatus.GENERATED, JobStatus.DONE):
            await jobs.move(job_id=job, to=step, now=clock.now(), owner="r1")
        try:
            await asyncio.sleep(0.3)  # the tail of a run (its last events) past two renewals
        except asyncio.CancelledError:
            interrupted.append(job)
            raise
        lingered.set()
        return None

    queue = one_queue(jobs, run, clock, workers=1, lease_s=0.3, poll_s=0.05)
    await queue.start()
    await asyncio.wait_for(lingered.wait(), 5)
    await queue.stop()
    assert interrupted == [] and "taken over" not in caplog.text


class CountingJobs(SqlJobStore):
    """The job store, counting the claims made through it."""

    claims = 0

    async def claim_next(self, **kwargs: Any) -> Any:
        self.claims += 1
        return await super().claim_next(**kwargs)


async def test_one_job_costs_one_claim(engine: AsyncEngine) -> None:
    """A lone job is claimed once: no empty claim after it, none after it ends (until the poll)."""
    clock = FixedClock()
    jobs = CountingJobs(engine)
    runs = Runs(jobs, clock)
    runs.open_all = True
    (job_id,) = await add_jobs(engine, 1, clock)
    queue = one_queue(jobs, runs.runner("r1"), clock, workers=4)
    await queue.start()
    await asyncio.wait_for(_until(lambda: runs.finished == [job_id]), 5)
    await asyncio.sleep(0.1)  # time for any claim after its end
    await queue.stop()
    assert jobs.claims == 1


async def test_a_job_waiting_on_its_chats_earlier_job_starts_when_that_one_ends(engine: AsyncEngine) -> None:
    """An edit queued behind a running job is claimed as soon as that job ends, not at the poll."""
    clock = FixedClock()
    jobs = SqlJobStore(engine)
    runs = Runs(jobs, clock)
    (first,) = await add_jobs(engine, 1, clock)
    queue = one_queue(jobs, runs.runner("r1"), clock, workers=4)
    await queue.start()
    await runs.running.wait()
    job = await jobs.get_job(job_id=first)
    assert job is not None
    second, _ = await jobs.create_job(
        idempotency_key=None, platform=PLATFORM, chat_id=job.chat_id, user_id=job.user_id,
        target=job.target, payload={}, images_reserved=1, usage_day=None, est_cost=0.0,
        after_job_id=first, now=clock.now(),
    )  # fmt: skip
    queue.queued()
    await asyncio.sleep(0.05)
    assert [job_id for _, job_id in runs.started] == [first]  # it waits for the first
    runs.gate(first).set()
    runs.gate(second).set()
    await asyncio.wait_for(_until(lambda: runs.finished == [first, second]), 3)
    await queue.stop()


async def test_a_backlog_is_worked_through_without_waiting_for_the_poll(engine: AsyncEngine) -> None:
    """Five jobs, one worker, a poll of a minute: each claim sees the rest, so all five run at once."""
    clock = FixedClock()
    jobs = SqlJobStore(engine)
    runs = Runs(jobs, clock)
    runs.open_all = True
    created = await add_jobs(engine, 5, clock)
    queue = one_queue(jobs, runs.runner("r1"), clock, workers=1)
    await queue.start()
    await asyncio.wait_for(_until(lambda: sorted(runs.finished) == created), 3)
    await queue.stop()


async def test_a_storage_error_in_a_run_leaves_the_job_to_be_claimed_again(engine: AsyncEngine) -> None:
    """ "database is locked" escaping a run: the job is let go and claimed again at once, not lost."""
    clock = FixedClock()
    jobs = SqlJobStore(engine)
    runs = Runs(jobs, clock)
    runs.open_all = True
    (job_id,) = await add_jobs(engine, 1, clock)
    failures = [StorageError("database is locked")]
    inner = runs.runner("r1")

    async def flaky(job: int, claimed: JobRecord | None = None) -> float | None:
        if failures:
            raise failures.pop()
        return await inner(job, claimed)

    queue = one_queue(jobs, flaky, clock, workers=1)
    await queue.start()
    await asyncio.wait_for(_until(lambda: runs.finished == [job_id]), 3)
    await queue.stop()
