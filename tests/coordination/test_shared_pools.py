"""A backend pool's per-backend cap held across replicas: two providers (two replicas' worth) on one
Redis calling the same one-GPU servers never put two requests on one server at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from bot.coordination.slots import RedisSlots
from bot.core.types import ImageRequest
from bot.providers._http.backends import BackendPool
from bot.providers._http.client import make_client
from bot.providers.openai_compatible import create
from bot.providers.registry import share_backends
from bot.providers.settings import ProviderSettings
from tests.coordination.redis_env import REDIS_URL
from tests.fakes.providers.openai_images import FakeOpenAIImages

URLS = ["http://gpu-1.invalid:7860", "http://gpu-2.invalid:7860"]


async def no_progress(fraction: float, preview: bytes | None) -> None:
    return None


@pytest.fixture
async def replicas(namespace: str) -> AsyncIterator[tuple[RedisSlots, RedisSlots]]:
    """Two replicas' slots, each on its own Redis client."""
    first, second = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    try:
        yield (
            RedisSlots(first, namespace=namespace, poll_s=0.005),
            RedisSlots(second, namespace=namespace, poll_s=0.005),
        )
    finally:
        await first.aclose()
        await second.aclose()


def shared_pool(slots: RedisSlots, urls: list[str], *, poll_s: float = 0.005) -> BackendPool:
    pool = BackendPool(urls, max_per_backend=1)
    pool.share(slots, poll_s=poll_s)
    return pool


async def test_a_backend_held_by_one_replica_makes_the_other_wait(
    replicas: tuple[RedisSlots, RedisSlots],
) -> None:
    """One one-GPU backend: replica B gets it only after replica A lets go."""
    a, b = (shared_pool(slots, URLS[:1]) for slots in replicas)

    async def take_b() -> str:
        async with b.acquire() as backend:
            return backend.url

    async with a.acquire():
        waiting = asyncio.create_task(take_b())
        await asyncio.sleep(0.1)
        assert not waiting.done()
    assert await asyncio.wait_for(waiting, 2) == URLS[0]


async def test_a_replica_picks_the_backend_no_other_replica_holds(
    replicas: tuple[RedisSlots, RedisSlots],
) -> None:
    """Both replicas would start at the first backend; the second one takes the free second one."""
    a, b = (shared_pool(slots, URLS) for slots in replicas)
    async with a.acquire() as first, b.acquire() as second:
        assert (first.url, second.url) == (URLS[0], URLS[1])


async def test_a_backend_claimed_elsewhere_frees_its_local_reservation(
    replicas: tuple[RedisSlots, RedisSlots],
) -> None:
    """A replica that found the backend busy elsewhere holds nothing of it locally meanwhile."""
    a, b = (shared_pool(slots, URLS[:1], poll_s=1.0) for slots in replicas)  # b polls again after >0.5 s
    async with a.acquire():
        waiting = asyncio.create_task(b.acquire().__aenter__())
        await asyncio.sleep(0.05)
        assert [s.in_flight for s in b.status()] == [0]
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting


async def test_two_replicas_never_put_two_requests_on_one_gpu(
    replicas: tuple[RedisSlots, RedisSlots],
) -> None:
    """Eight generations from two replicas over two one-GPU servers: each server sees one at a time."""
    clients: list[httpx.AsyncClient] = []
    async with (
        FakeOpenAIImages(delay_s=0.05, image_scale=0.125) as gpu1,
        FakeOpenAIImages(delay_s=0.05, image_scale=0.125) as gpu2,
    ):
        settings = ProviderSettings(base_url=[gpu1.base_url, gpu2.base_url], max_concurrency=1)
        providers = []
        for slots in replicas:
            clients.append(make_client(settings, default_timeout_s=5.0))
            provider = create(settings, client=clients[-1])
            share_backends([provider], slots)
            providers.append(provider)
        try:
            request = ImageRequest(prompt="a lighthouse")
            await asyncio.gather(*(p.generate(request, on_progress=no_progress) for p in providers * 4))
        finally:
            for client in clients:
                await client.aclose()
        assert (gpu1.most_in_flight, gpu2.most_in_flight) == (1, 1)
        assert len(gpu1.requests) + len(gpu2.requests) == 8
