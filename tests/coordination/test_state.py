"""open_shared_state: memory without redis_url, Redis with it, a clear error when Redis does not answer."""

from __future__ import annotations

import pytest

from bot.coordination.breakers import RedisBreakers
from bot.coordination.slots import RedisSlots
from bot.coordination.state import open_shared_state, redis_latency_ms
from bot.core.errors import ConfigError
from bot.core.generation.chain import MemorySlots
from bot.core.generation.resilience import MemoryBreakers
from bot.core.jobs.limits import RateLimiter, Rates
from tests.coordination.redis_env import DEAD_REDIS_URL, REDIS_URL


async def test_without_redis_url_everything_stays_in_memory() -> None:
    """No redis_url: the in-process implementations, no client, nothing to close."""
    state = await open_shared_state(None)
    assert isinstance(state.breakers, MemoryBreakers) and isinstance(state.slots, MemorySlots)
    assert state.redis is None and not state.shared
    await state.aclose()


async def test_with_redis_url_the_state_is_shared(namespace: str) -> None:
    """redis_url: the Redis breakers and slots on one client, and the limits storage."""
    state = await open_shared_state(REDIS_URL, namespace=namespace)
    try:
        assert isinstance(state.breakers, RedisBreakers) and isinstance(state.slots, RedisSlots)
        assert state.shared and await state.rate_storage.check()
    finally:
        await state.aclose()
        await state.aclose()  # twice is harmless


async def test_rate_windows_live_under_the_namespace(namespace: str) -> None:
    """The limits library's keys are <namespace>:limits:…, so replicas of one deployment meet there."""
    state = await open_shared_state(REDIS_URL, namespace=namespace)
    try:
        limiter = RateLimiter(Rates("5/minute", "5/minute", "5/minute"), storage=state.rate_storage)
        await limiter.admit(platform="telegram", chat_id="c1", user_id="u1")
        assert state.redis is not None
        keys = [key async for key in state.redis.scan_iter(match=f"{namespace}:limits:*")]
        assert len(keys) == 3
    finally:
        await state.aclose()


async def test_an_unreachable_redis_stops_the_start_with_the_url_redacted() -> None:
    """Replicas meant to share limits must not start without them; the password is not shown."""
    with pytest.raises(ConfigError) as caught:
        await open_shared_state(DEAD_REDIS_URL)
    assert "Cannot reach Redis at" in str(caught.value) and "hunter2" not in str(caught.value)


async def test_latency_is_one_ping(namespace: str) -> None:
    """redis_latency_ms measures a round trip on a connected client: well under a second here."""
    assert 0 < await redis_latency_ms(REDIS_URL) < 1000
