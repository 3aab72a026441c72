"""Two replicas' shared state on one real Redis: separate connection pools, one (fake) wall clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.coordination.state import SharedState, open_shared_state
from tests.coordination.redis_env import REDIS_URL, redis_namespace
from tests.fakes.scripted import FakeTimer


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    async with redis_namespace() as prefix:
        yield prefix


@pytest.fixture
def wall() -> FakeTimer:
    """The replicas' wall clock: moves only when a test advances it."""
    return FakeTimer(start=1_700_000_000.0)


@pytest.fixture
async def replicas(namespace: str, wall: FakeTimer) -> AsyncIterator[tuple[SharedState, SharedState]]:
    """Replica A's and replica B's shared state, each with its own Redis client and pool."""
    first = await open_shared_state(REDIS_URL, namespace=namespace, clock=wall.clock)
    second = await open_shared_state(REDIS_URL, namespace=namespace, clock=wall.clock)
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()
