"""Leased jobs on SQL (SQLite and PostgreSQL): claims in fair order, each job to one claimant at a time,
leases that expire, and writes refused to a worker that lost its lease."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.types import JobStatus, Target
from bot.storage.job_repo import SqlJobStore
from bot.storage.repos import SqlHistoryStore
from tests.storage.conftest import NOW

LEASE_S = 30.0


class Jobs:
    """A job store with helpers to add users' jobs."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.store = SqlJobStore(engine)
        self.history = SqlHistoryStore(engine)

    async def add(
        self, user: str, *, chat: str = "c", after: int | None = None, platform: str = "telegram"
    ) -> int:
        user_id = await self.history.upsert_user(platform=platform, external_id=user, display_name=user)
        chat_id = await self.history.upsert_chat(platform=platform, external_id=chat)
        job_id, _ = await self.store.create_job(
            idempotency_key=None, platform=platform, chat_id=chat_id, user_id=user_id,
            target=Target(platform, chat), payload={}, images_reserved=1, usage_day=NOW.date(),
            est_cost=0.0, after_job_id=after, now=NOW,
        )  # fmt: skip
        return job_id

    async def claim(self, owner: str, *, at: timedelta = timedelta(0)) -> int | None:
        job = await self.store.claim(owner=owner, platforms=["telegram"], now=NOW + at, lease_s=LEASE_S)
        return job.id if job is not None else None

    async def start(self, job_id: int, owner: str, *, at: timedelta = timedelta(0)) -> bool:
        moved = await self.store.move(
            job_id=job_id, to=JobStatus.RUNNING, now=NOW + at, attempt=True, owner=owner
        )
        return moved is not None


async def test_claims_take_turns_between_users(engine: AsyncEngine) -> None:
    """A has 3 jobs, B 1 and C 2: started one by one, they run A1 B1 C1 A2 C2 A3."""
    jobs = Jobs(engine)
    ids = {name: await jobs.add(name[0]) for name in ("A1", "A2", "A3", "B1", "C1", "C2")}
    order = []
    for step in range(6):
        at = timedelta(seconds=step)
        job_id = await jobs.claim("w", at=at)
        assert job_id is not None and await jobs.start(job_id, "w", at=at)
        order.append(next(name for name, value in ids.items() if value == job_id))
    assert order == ["A1", "B1", "C1", "A2", "C2", "A3"]


async def test_positions_follow_the_turns_between_users(engine: AsyncEngine) -> None:
    """The places reported before anything runs are the order the claims then take."""
    jobs = Jobs(engine)
    ids = {name: await jobs.add(name[0]) for name in ("A1", "A2", "A3", "B1", "C1", "C2")}
    places = {name: await jobs.store.position(job_id=job_id, now=NOW) for name, job_id in ids.items()}
    assert sorted(places, key=lambda name: places[name] or 0) == ["A1", "B1", "C1", "A2", "C2", "A3"]
    assert sorted(places.values()) == [1, 2, 3, 4, 5, 6]


async def test_concurrent_claims_never_take_one_job_twice(engine: AsyncEngine) -> None:
    """Four claimants racing over 12 jobs (three tries each per job): every job is claimed exactly once."""
    jobs = Jobs(engine)
    created = [await jobs.add(f"u{i % 5}") for i in range(12)]
    results = await asyncio.gather(*(jobs.claim(f"w{i % 4}") for i in range(36)))
    claimed = [job_id for job_id in results if job_id is not None]
    assert sorted(claimed) == sorted(created)


async def test_a_live_lease_is_never_taken_over(engine: AsyncEngine) -> None:
    """A job claimed by w1 is not claimable by w2 while the lease lasts, even a second before its end."""
    jobs = Jobs(engine)
    await jobs.add("a")
    assert await jobs.claim("w1") is not None
    assert await jobs.claim("w2", at=timedelta(seconds=LEASE_S - 1)) is None


async def test_an_expired_lease_is_taken_over(engine: AsyncEngine) -> None:
    """Once w1's lease has expired (its worker died), w2 claims the job."""
    jobs = Jobs(engine)
    job_id = await jobs.add("a")
    assert await jobs.claim("w1") == job_id
    assert await jobs.claim("w2", at=timedelta(seconds=LEASE_S + 1)) == job_id


async def test_a_worker_that_lost_its_lease_cannot_write_the_job(engine: AsyncEngine) -> None:
    """After w2 took the job over, w1's move to running is refused and w1 no longer renews it."""
    jobs = Jobs(engine)
    job_id = await jobs.add("a")
    await jobs.claim("w1")
    later = timedelta(seconds=LEASE_S + 1)
    await jobs.claim("w2", at=later)
    assert not await jobs.start(job_id, "w1", at=later)
    assert await jobs.store.renew(owner="w1", job_ids=[job_id], now=NOW + later, lease_s=LEASE_S) == set()
    assert await jobs.start(job_id, "w2", at=later)


async def test_renewing_keeps_the_lease_past_its_first_term(engine: AsyncEngine) -> None:
    """w1 renews at 20 s: at 45 s the job is still w1's, not claimable by w2."""
    jobs = Jobs(engine)
    job_id = await jobs.add("a")
    await jobs.claim("w1")
    renewed = NOW + timedelta(seconds=20)
    assert await jobs.store.renew(owner="w1", job_ids=[job_id], now=renewed, lease_s=LEASE_S) == {job_id}
    assert await jobs.claim("w2", at=timedelta(seconds=45)) is None


async def test_a_job_waits_for_the_earlier_open_job_of_its_chat(engine: AsyncEngine) -> None:
    """An edit queued while its source is being made is not claimed before that job ends."""
    jobs = Jobs(engine)
    first = await jobs.add("a")
    edit = await jobs.add("a", after=first)
    assert await jobs.claim("w1") == first
    assert await jobs.claim("w2") is None
    await jobs.start(first, "w1")
    for step in (JobStatus.GENERATED, JobStatus.DONE):
        await jobs.store.move(job_id=first, to=step, now=NOW, owner="w1")
    assert await jobs.claim("w2") == edit


async def test_a_finished_job_lets_go_of_its_lease(engine: AsyncEngine) -> None:
    """Done, the job holds no lease and counts neither as waiting nor as being worked on."""
    jobs = Jobs(engine)
    job_id = await jobs.add("a")
    await jobs.claim("w1")
    await jobs.start(job_id, "w1")
    assert await jobs.store.queue_counts(now=NOW) == (0, 1)
    for step in (JobStatus.GENERATED, JobStatus.DONE):
        await jobs.store.move(job_id=job_id, to=step, now=NOW, owner="w1")
    job = await jobs.store.get_job(job_id=job_id)
    assert job is not None and job.lease_owner is None
    assert await jobs.store.queue_counts(now=NOW) == (0, 0)


async def test_claims_only_take_the_platforms_asked_for(engine: AsyncEngine) -> None:
    """A replica serving Telegram does not claim a console job."""
    jobs = Jobs(engine)
    await jobs.add("a", platform="console")
    assert await jobs.claim("w1") is None
    assert not await jobs.store.has_work(platforms=["telegram"], now=NOW)


async def test_releasing_a_platform_frees_a_dead_runs_leases(engine: AsyncEngine) -> None:
    """SQLite's one ``easel run`` takes up at once what its killed predecessor held."""
    jobs = Jobs(engine)
    job_id = await jobs.add("a")
    await jobs.claim("dead")
    assert await jobs.store.release_platforms(platforms=["telegram"]) == 1
    assert await jobs.claim("next") == job_id


async def test_a_claim_starts_a_job_to_generate(engine: AsyncEngine) -> None:
    """Claiming a queued job starts it (running, one attempt, started now): no separate start."""
    jobs = Jobs(engine)
    job_id = await jobs.add("A")
    job = await jobs.store.claim(owner="w", platforms=["telegram"], now=NOW, lease_s=LEASE_S)
    assert job is not None and job.id == job_id
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)


async def test_claiming_a_generated_job_counts_no_attempt(engine: AsyncEngine) -> None:
    """A job whose images are saved, taken over after its worker died, is not started again."""
    jobs = Jobs(engine)
    job_id = await jobs.add("A")
    assert await jobs.claim("w1") == job_id
    await jobs.store.move(job_id=job_id, to=JobStatus.GENERATED, now=NOW, owner="w1")
    later = timedelta(seconds=LEASE_S + 1)
    job = await jobs.store.claim(owner="w2", platforms=["telegram"], now=NOW + later, lease_s=LEASE_S)
    assert job is not None and (job.status, job.attempts) == (JobStatus.GENERATED, 1)
