"""Per-backend concurrency shared by replicas: ``RedisSlots`` under two independent clients."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.coordination.slots import RedisSlots
from bot.core.generation.chain import ProviderChain
from bot.core.types import ImageRequest
from tests.coordination.redis_env import REDIS_URL
from tests.fakes.scripted import FakeTimer, ScriptedProvider


async def no_progress(fraction: float, preview: bytes | None) -> None:
    return None


@pytest.fixture
async def clients() -> AsyncIterator[tuple[Redis, Redis]]:
    """Replica A's and replica B's Redis clients (separate connections)."""
    first, second = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()


def pair(
    clients: tuple[Redis, Redis],
    namespace: str,
    wall: FakeTimer | None = None,
    *,
    ttl_s: float = 30.0,
    poll_s: float = 0.005,
    renew_s: float | None = None,
) -> tuple[RedisSlots, RedisSlots]:
    """Two replicas' slots on their own clients; the real wall clock unless ``wall`` is given."""
    clock = wall.clock if wall is not None else time.time
    first, second = (
        RedisSlots(client, namespace=namespace, clock=clock, ttl_s=ttl_s, poll_s=poll_s, renew_s=renew_s)
        for client in clients
    )
    return first, second


async def renewal(client: Redis, key: str, *, until_ms: float) -> None:
    """Return once the claim in ``key`` runs until ``until_ms`` (renewals run in the background)."""
    for _ in range(400):
        claims = await client.zrange(key, 0, -1, withscores=True)
        if claims and float(claims[0][1]) >= until_ms:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the claim was not renewed within 2 s")


async def test_a_slot_of_one_never_has_two_holders_across_replicas(
    clients: tuple[Redis, Redis], namespace: str
) -> None:
    """Eight jobs, four per replica, on a one-slot backend: never two inside at once, all of them run."""
    a, b = pair(clients, namespace)
    inside, most, done = 0, 0, 0

    async def job(slots: RedisSlots) -> None:
        nonlocal inside, most, done
        async with slots.hold("gpu", 1):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1
            done += 1

    await asyncio.gather(*(job(slots) for slots in (a, b) * 4))
    assert most == 1 and done == 8


async def test_a_limit_of_two_lets_one_holder_per_replica_in(
    clients: tuple[Redis, Redis], namespace: str
) -> None:
    """With two slots A and B hold one each; a third claim is refused until one leaves."""
    a, b = pair(clients, namespace)
    async with a.hold("gpu", 2), b.hold("gpu", 2):
        assert not await a.try_acquire("gpu", 2, "third")
    assert await b.try_acquire("gpu", 2, "third")


async def test_a_holder_that_dies_frees_its_slot_after_the_ttl(
    clients: tuple[Redis, Redis], namespace: str, wall: FakeTimer
) -> None:
    """A claim never released nor renewed (its replica was killed) blocks B for ttl_s, then frees."""
    a, b = pair(clients, namespace, wall, ttl_s=30.0)
    assert await a.try_acquire("gpu", 1, "killed")
    wall.advance(29.9)
    assert not await b.try_acquire("gpu", 1, "waiting")
    wall.advance(0.1)
    assert await b.try_acquire("gpu", 1, "waiting")


async def test_a_live_holder_renews_its_claim_past_the_ttl(
    clients: tuple[Redis, Redis], namespace: str, wall: FakeTimer
) -> None:
    """While A holds the slot it renews the claim, so B cannot take it even after ttl_s."""
    a, b = pair(clients, namespace, wall, ttl_s=30.0, renew_s=0.005)
    key = a.key("gpu")
    async with a.hold("gpu", 1):
        wall.advance(20.0)
        await renewal(clients[0], key, until_ms=(wall.now + 30.0) * 1000)
        wall.advance(20.0)  # 40 s after the claim was first made
        assert not await b.try_acquire("gpu", 1, "waiting")
    assert await b.try_acquire("gpu", 1, "waiting")


async def test_cancelling_a_waiter_leaves_no_claim(clients: tuple[Redis, Redis], namespace: str) -> None:
    """A request cancelled while it waits (its deadline) holds nothing afterwards."""
    a, b = pair(clients, namespace)
    async with a.hold("gpu", 1):
        waiter = asyncio.create_task(b.hold("gpu", 1).__aenter__())
        await asyncio.sleep(0.02)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert await clients[0].zcard(a.key("gpu")) == 1


async def test_cancelling_a_holder_frees_its_slot(clients: tuple[Redis, Redis], namespace: str) -> None:
    """A job cancelled while it holds the slot gives it back at once."""
    a, b = pair(clients, namespace)
    entered = asyncio.Event()

    async def job() -> None:
        async with a.hold("gpu", 1):
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(job())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await clients[0].zcard(a.key("gpu")) == 0
    assert await b.try_acquire("gpu", 1, "next")


async def test_a_release_wakes_a_waiter_of_the_same_replica_at_once(
    clients: tuple[Redis, Redis], namespace: str
) -> None:
    """A waiter in the holder's process does not sit out its poll interval (10 s here)."""
    a, _ = pair(clients, namespace, poll_s=10.0)
    gate = asyncio.Event()

    async def first() -> None:
        async with a.hold("gpu", 1):
            await gate.wait()

    async def second() -> None:
        async with a.hold("gpu", 1):
            pass

    holder = asyncio.create_task(first())
    await asyncio.sleep(0.02)
    waiter = asyncio.create_task(second())
    await asyncio.sleep(0.02)
    gate.set()
    async with asyncio.timeout(2):
        await asyncio.gather(holder, waiter)


async def test_two_chains_on_two_replicas_share_a_one_job_backend(
    clients: tuple[Redis, Redis], namespace: str
) -> None:
    """concurrency {"gpu": 1} in two chains on two replicas: the backend never runs two jobs at once."""
    backend = ScriptedProvider("gpu", delay_s=0.01)
    chains = [
        ProviderChain([backend], timeout_s=10, concurrency={"gpu": 1}, slots=slots)
        for slots in pair(clients, namespace)
    ]
    results = await asyncio.gather(
        *(chain.generate(ImageRequest("x"), on_progress=no_progress) for chain in chains * 3)
    )
    assert len(results) == 6 and backend.max_in_flight == 1
