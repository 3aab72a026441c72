"""Several real `easel run` processes on one PostgreSQL database and one Redis, Telegram in webhook
mode behind a (test) load balancer: every request is answered once and generated once, across a
graceful restart and a SIGKILLed worker; limits and /cancel hold for the whole system."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.types import JobStatus
from tests.coordination.redis_env import redis_namespace
from tests.fakes.providers.openai_images import FakeOpenAIImages
from tests.fakes.telegram import FakeTelegram
from tests.replicas.harness import Cluster, jobs

USER = 5000
CHAT = 7000


@pytest.fixture
async def cluster(db_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    if not db_url.startswith("postgresql"):
        pytest.skip("several replicas share PostgreSQL; SQLite is for one process")
    async with redis_namespace() as prefix, FakeTelegram() as tg:
        group = Cluster(tg, db_url, tmp_path, prefix)
        try:
            yield group
        finally:
            await group.aclose()


def imagine(tg: FakeTelegram, chat: int, user: int, prompt: str) -> dict[str, Any]:
    """The update of a user's ``/imagine <prompt>`` (taken off the fake's queue: webhooks carry it)."""
    tg.world.user_message(chat, user, text=f"/imagine {prompt}")
    update: dict[str, Any] = tg.world.updates.pop()
    return update


def prompts_sent(*fakes: FakeOpenAIImages) -> list[str]:
    return [str(r.json["prompt"]) for f in fakes for r in f.requests if r.path.endswith("/generations")]


async def test_a_backlog_spread_over_replicas_is_answered_once_across_a_restart(cluster: Cluster) -> None:
    """20 requests over two replicas (some delivered twice), one replica restarted mid-backlog: 20 photos."""
    tg = cluster.tg
    async with FakeOpenAIImages(delay_s=0.4, image_scale=0.125) as fake:
        env = {"EASEL__GENERATION__WORKERS": "2", "EASEL__PROVIDERS__OPENAI_COMPATIBLE__MAX_CONCURRENCY": "4"}
        await cluster.start("all", fake.base_url, **env)
        second = await cluster.start("all", fake.base_url, **env)
        for i in range(20):
            update = imagine(tg, CHAT + i, USER + i, f"lighthouse number {i}")
            assert await cluster.post(update) == 200
            if i % 4 == 0:  # Telegram retried it (it saw no answer in time): to the other replica
                assert await cluster.post(update) == 200
        await cluster.until(lambda: len(tg.sent) >= 4, 30, "the first photos")
        await cluster.terminate(second)
        await cluster.start("all", fake.base_url, **env)

        def all_answered() -> bool:
            return all(len(tg.photos(CHAT + i)) >= 1 for i in range(20))

        await cluster.until(all_answered, 60, "every photo")

        async def all_done() -> bool:
            return all(row.status == JobStatus.DONE for row in await jobs(cluster.db_url))

        await cluster.until(all_done, 10, "every job recorded done")
        rows = await jobs(cluster.db_url)
        assert len(rows) == 20
        assert [len(tg.photos(CHAT + i)) for i in range(20)] == [1] * 20
        assert sorted(prompts_sent(fake)) == sorted(f"lighthouse number {i}" for i in range(20))


async def test_a_killed_workers_jobs_are_taken_over_once_its_lease_expires(cluster: Cluster) -> None:
    """A worker holds 2 jobs past several leases (heartbeats), is SIGKILLed: only then are they retaken."""
    tg = cluster.tg
    lease_s = 2.0
    async with (
        FakeOpenAIImages(delay_s=10.0, image_scale=0.125) as doomed_backend,
        FakeOpenAIImages(delay_s=0.3, image_scale=0.125) as survivor_backend,
    ):
        env = {
            "EASEL__GENERATION__WORKERS": "2",
            "EASEL__GENERATION__LEASE_S": str(lease_s),
            "EASEL__PROVIDERS__OPENAI_COMPATIBLE__MAX_CONCURRENCY": "2",
        }
        await cluster.start("gateway", survivor_backend.base_url, **env)
        doomed = await cluster.start("worker", doomed_backend.base_url, **env)
        for i in range(6):
            assert await cluster.post(imagine(tg, CHAT + i, USER + i, f"comet number {i}")) == 200
        # Both of its jobs are at the (slow) image server, so it is sending nothing when it dies.
        await cluster.until(lambda: len(doomed_backend.requests) >= 2, 20, "the doomed worker's claims")
        claimed_at = time.monotonic()
        orphaned = set(prompts_sent(doomed_backend))
        await cluster.start("worker", survivor_backend.base_url, **env)
        others = [i for i in range(6) if f"comet number {i}" not in orphaned]
        await cluster.until(lambda: all(tg.photos(CHAT + i) for i in others), 30, "the other 4 photos")
        await asyncio.sleep(max(0.0, claimed_at + 2.5 * lease_s - time.monotonic()))
        assert not orphaned & set(prompts_sent(survivor_backend)), "a live worker's job was taken"
        assert time.monotonic() - claimed_at < 9, "too slow to kill the worker mid-generation"
        await cluster.kill(doomed)
        killed_at = time.monotonic()
        assert sum(doomed.owns(row.lease_owner) for row in await jobs(cluster.db_url)) == 2

        await cluster.until(lambda: orphaned <= set(prompts_sent(survivor_backend)), 30, "the takeover")
        waited = time.monotonic() - killed_at
        await cluster.until(lambda: all(len(tg.photos(CHAT + i)) for i in range(6)), 30, "every photo")
        rows = await jobs(cluster.db_url)
        assert [len(tg.photos(CHAT + i)) for i in range(6)] == [1] * 6
        assert lease_s / 3 <= waited <= lease_s + 3, f"taken over {waited:.1f} s after the kill"
        assert sorted(row.attempts for row in rows) == [1, 1, 1, 1, 2, 2]
        assert len(prompts_sent(survivor_backend)) == 6 and len(prompts_sent(doomed_backend)) == 2


async def test_a_per_user_limit_holds_across_replicas(cluster: Cluster) -> None:
    """A limit of 2 a minute, 4 requests from one user split over two replicas: 2 photos, 2 refusals."""
    tg = cluster.tg
    async with FakeOpenAIImages(image_scale=0.125) as fake:
        await cluster.start("all", fake.base_url, EASEL__LIMITS__USER_RATE="2/minute")
        await cluster.start("all", fake.base_url, EASEL__LIMITS__USER_RATE="2/minute")
        for i in range(4):
            assert await cluster.post(imagine(tg, USER, USER, f"owl number {i}")) == 200
        refusals = lambda: [t for t in tg.texts(USER) if "too fast" in t]  # noqa: E731
        await cluster.until(lambda: len(tg.photos(USER)) == 2 and len(refusals()) == 2, 30, "2 and 2")
        assert len(await jobs(cluster.db_url)) == 2 and len(prompts_sent(fake)) == 2


async def test_cancel_through_one_replica_stops_a_job_running_on_another(cluster: Cluster) -> None:
    """/cancel posted to the replica that does not run the job: it ends cancelled, no photo is sent."""
    tg = cluster.tg
    async with FakeOpenAIImages(delay_s=4.0, image_scale=0.125) as fake:
        replicas = [await cluster.start("all", fake.base_url) for _ in range(2)]
        assert await cluster.post(imagine(tg, USER, USER, "a slow glacier")) == 200
        await cluster.until(lambda: fake.requests, 20, "the generation")
        (job,) = await jobs(cluster.db_url)
        other = next(r for r in replicas if not r.owns(job.lease_owner))
        assert any(r.owns(job.lease_owner) for r in replicas) and other.port is not None
        tg.world.user_message(USER, USER, text="/cancel")
        cancelled_at = time.monotonic()
        assert await cluster.post_to(other, tg.world.updates.pop()) == 200

        async def ended() -> bool:
            (row,) = await jobs(cluster.db_url)
            return bool(row.status == JobStatus.CANCELLED)

        await cluster.until(ended, 3, "the cancel")
        assert time.monotonic() - cancelled_at < 3.5, "it ran to its end instead of being stopped"
        assert any("Cancelled 1" in t for t in tg.texts(USER))
        await asyncio.sleep(max(0.0, cancelled_at + 4.5 - time.monotonic()))  # past the image's arrival
        assert tg.photos(USER) == []
