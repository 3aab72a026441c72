"""Circuit breakers shared by replicas: ``RedisBreakers`` under two independent clients, one wall clock."""

from __future__ import annotations

import logging

import pytest
from redis.asyncio import Redis

from bot.coordination.breakers import RedisBreakers
from bot.coordination.state import SharedState
from bot.core.errors import Unavailable
from bot.core.generation.chain import ProviderChain
from bot.core.generation.resilience import (
    BreakerPass,
    BreakerPolicy,
    BreakerState,
    BreakerStore,
    RetryPolicy,
)
from bot.core.types import ImageRequest
from tests.coordination.redis_env import DEAD_REDIS_URL
from tests.fakes.scripted import FakeTimer, ScriptedProvider

POLICY = BreakerPolicy(failure_threshold=2, reset_after_s=60.0, probe_ttl_s=120.0)


async def no_progress(fraction: float, preview: bytes | None) -> None:
    return None


async def fail(store: BreakerStore, provider: str = "a") -> None:
    ticket = await store.allow(provider, POLICY)
    assert ticket is not None
    await store.record_failure(ticket, POLICY)


async def state_on(store: BreakerStore, provider: str = "a") -> BreakerState:
    return (await store.statuses([provider], POLICY))[provider].state


async def open_breaker(a: BreakerStore, b: BreakerStore) -> None:
    await fail(a)
    await fail(b)


async def test_failures_on_two_replicas_count_in_a_row(replicas: tuple[SharedState, SharedState]) -> None:
    """One failure on A and one on B reach the threshold of 2: the breaker opens for both."""
    a, b = (state.breakers for state in replicas)
    await fail(a)
    assert await state_on(b) is BreakerState.CLOSED
    await fail(b)
    assert await state_on(a) is BreakerState.OPEN and await state_on(b) is BreakerState.OPEN


async def test_a_breaker_opened_by_a_refuses_calls_on_b(replicas: tuple[SharedState, SharedState]) -> None:
    """While open, B is refused a pass and told how long is left."""
    a, b = (state.breakers for state in replicas)
    await open_breaker(a, a)
    assert await b.allow("a", POLICY) is None
    assert (await b.statuses(["a"], POLICY))["a"].retry_in == pytest.approx(60.0)


async def test_only_one_replica_takes_the_half_open_probe(
    replicas: tuple[SharedState, SharedState], wall: FakeTimer
) -> None:
    """After the reset time A takes the probe; B (and A again) are refused until it ends."""
    a, b = (state.breakers for state in replicas)
    await open_breaker(a, b)
    wall.advance(60.0)
    probe = await a.allow("a", POLICY)
    assert probe is not None and probe.probe is not None
    assert await b.allow("a", POLICY) is None and await a.allow("a", POLICY) is None


async def test_a_probe_whose_replica_died_is_given_to_another_after_its_ttl(
    replicas: tuple[SharedState, SharedState], wall: FakeTimer
) -> None:
    """A probe never answered (its replica was killed) frees itself after probe_ttl_s."""
    a, b = (state.breakers for state in replicas)
    await open_breaker(a, b)
    wall.advance(60.0)
    assert await a.allow("a", POLICY) is not None  # and A dies
    wall.advance(119.0)
    assert await b.allow("a", POLICY) is None
    wall.advance(1.0)
    assert await b.allow("a", POLICY) is not None


async def test_a_successful_probe_on_a_closes_the_breaker_for_b(
    replicas: tuple[SharedState, SharedState], wall: FakeTimer
) -> None:
    """The probe's success is everyone's: B's calls flow again and the failure count starts over."""
    a, b = (state.breakers for state in replicas)
    await open_breaker(a, b)
    wall.advance(60.0)
    probe = await a.allow("a", POLICY)
    assert probe is not None
    await a.record_success(probe)
    status = (await b.statuses(["a"], POLICY))["a"]
    assert status.state is BreakerState.CLOSED and status.failures == 0
    assert await b.allow("a", POLICY) == BreakerPass("a")


async def test_a_failed_probe_reopens_for_a_full_period(
    replicas: tuple[SharedState, SharedState], wall: FakeTimer
) -> None:
    """A failed probe on A opens the breaker again for everyone, the timer restarted."""
    a, b = (state.breakers for state in replicas)
    await open_breaker(a, b)
    wall.advance(61.0)
    probe = await a.allow("a", POLICY)
    assert probe is not None
    await a.record_failure(probe, POLICY)
    status = (await b.statuses(["a"], POLICY))["a"]
    assert status.state is BreakerState.OPEN and status.retry_in == pytest.approx(60.0)


async def test_a_released_probe_lets_another_replica_probe(
    replicas: tuple[SharedState, SharedState], wall: FakeTimer
) -> None:
    """A probe that ends without a verdict (cancelled) frees the slot for B at once."""
    a, b = (state.breakers for state in replicas)
    await open_breaker(a, b)
    wall.advance(60.0)
    probe = await a.allow("a", POLICY)
    assert probe is not None
    await a.release(probe)
    assert await b.allow("a", POLICY) is not None


async def test_releasing_an_ordinary_pass_leaves_the_probe_taken(
    replicas: tuple[SharedState, SharedState], wall: FakeTimer
) -> None:
    """A call let through while closed and cancelled later does not free another replica's probe."""
    a, b = (state.breakers for state in replicas)
    early = await a.allow("a", POLICY)
    assert early is not None
    await open_breaker(b, b)
    wall.advance(60.0)
    assert await b.allow("a", POLICY) is not None
    await a.release(early)
    assert await a.allow("a", POLICY) is None


async def test_breaker_keys_are_namespaced_and_expire(
    replicas: tuple[SharedState, SharedState], namespace: str
) -> None:
    """A breaker lives at <namespace>:breaker:<provider> with a TTL; a success removes it."""
    state, _ = replicas
    await fail(state.breakers)
    assert state.redis is not None
    key = f"{namespace}:breaker:a"
    assert await state.redis.pttl(key) > 0
    await state.breakers.record_success(BreakerPass("a"))
    assert await state.redis.exists(key) == 0


async def test_an_unreachable_redis_lets_calls_through(caplog: pytest.LogCaptureFixture) -> None:
    """Without Redis a call goes ahead (logged): a breaker must not stop generation."""
    client = Redis.from_url(DEAD_REDIS_URL)
    store = RedisBreakers(client, namespace="unused")
    with caplog.at_level(logging.WARNING, logger="bot.coordination.breakers"):
        ticket = await store.allow("a", POLICY)
        assert ticket == BreakerPass("a")
        await store.record_failure(ticket, POLICY)
    await client.aclose()
    assert "let through" in caplog.text and "hunter2" not in caplog.text


async def test_two_chains_on_two_replicas_share_a_paused_provider(
    replicas: tuple[SharedState, SharedState],
) -> None:
    """Provider a fails twice behind chain A; chain B skips it with the note and reports it paused."""
    chains = [
        ProviderChain(
            [ScriptedProvider("a", errors=[Unavailable("down", provider="a")] * 2), ScriptedProvider("b")],
            timeout_s=5,
            retry=RetryPolicy(retries=0),
            breaker_failures=2,
            breakers=state.breakers,
        )
        for state in replicas
    ]
    first, second = chains
    for _ in range(2):
        assert (await first.generate(ImageRequest("x"), on_progress=no_progress)).provider == "b"
    result = await second.generate(ImageRequest("x"), on_progress=no_progress)
    assert result.provider == "b" and any("a is paused" in note for note in result.notes)
    assert await second.current_health() == {"a": BreakerState.OPEN, "b": BreakerState.CLOSED}
    assert second.health()["a"] is BreakerState.OPEN
