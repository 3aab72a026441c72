"""BackendPool: least-busy choice, per-backend cap, cool-down after failures, failover within a call."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from bot.core.errors import Refused, Unavailable
from bot.providers._http.backends import BackendPool, BackendStatus

A, B, C = "http://a/v1", "http://b/v1", "http://c/v1"


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def make_pool(clock: ManualClock, *urls: str, max_per_backend: int = 2) -> BackendPool:
    return BackendPool(urls or (A, B), max_per_backend=max_per_backend, cooldown_s=30.0, clock=clock)


def down(provider: str = "p") -> Unavailable:
    return Unavailable("connection refused", provider=provider)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def healthy(pool: BackendPool) -> dict[str, bool]:
    return {s.url: s.healthy for s in pool.status()}


async def test_least_busy_backend_is_chosen(clock: ManualClock) -> None:
    """With two calls in flight on A and none on B, the next two calls both go to B."""
    pool = make_pool(clock, max_per_backend=3)
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(pool.acquire())
        async with pool.acquire() as second:
            third = await stack.enter_async_context(pool.acquire())
            assert (first.url, second.url, third.url) == (A, B, A)
        fourth = await stack.enter_async_context(pool.acquire())
        fifth = await stack.enter_async_context(pool.acquire())
        assert (fourth.url, fifth.url) == (B, B)
        assert [s.in_flight for s in pool.status()] == [2, 2]


async def test_ties_rotate_round_robin(clock: ManualClock) -> None:
    """Sequential calls on idle backends take turns rather than always hitting the first."""
    pool = make_pool(clock, A, B, C)
    seen = []
    for _ in range(6):
        async with pool.acquire() as backend:
            seen.append(backend.url)
    assert seen == [A, B, C, A, B, C]


async def test_waits_when_every_backend_is_full(clock: ManualClock) -> None:
    """At max_per_backend everywhere, acquire waits until a slot is released."""
    pool = make_pool(clock, A, max_per_backend=1)
    got: list[str] = []

    async def second() -> None:
        async with pool.acquire() as backend:
            got.append(backend.url)

    async with pool.acquire():
        waiter = asyncio.create_task(second())
        await settle()
        assert not waiter.done() and got == []
    await asyncio.wait_for(waiter, 1)
    assert got == [A]


async def test_a_cancelled_waiter_leaves_no_slot_taken(clock: ManualClock) -> None:
    """Cancelling a call that is waiting for a slot does not leak in-flight count."""
    pool = make_pool(clock, A, max_per_backend=1)

    async def hold() -> None:
        async with pool.acquire():
            await asyncio.sleep(10)

    async with pool.acquire():
        waiter = asyncio.create_task(hold())
        await settle()
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    assert pool.status()[0].in_flight == 0


async def test_failed_backend_is_marked_down_and_skipped(clock: ManualClock) -> None:
    """backend.failed() marks it down; while B is up, A is not chosen."""
    pool = make_pool(clock)
    async with pool.acquire() as backend:
        assert backend.url == A
        backend.failed("connection refused")
    assert healthy(pool) == {A: False, B: True}
    assert pool.status()[0].last_error == "connection refused"
    for _ in range(3):
        async with pool.acquire() as backend:
            assert backend.url == B


async def test_unavailable_leaving_the_block_marks_the_backend_down(clock: ManualClock) -> None:
    """An Unavailable escaping ``async with`` reports the failure by itself."""
    pool = make_pool(clock)
    with pytest.raises(Unavailable):
        async with pool.acquire():
            raise down()
    assert healthy(pool) == {A: False, B: True}


async def test_other_errors_do_not_mark_the_backend_down(clock: ManualClock) -> None:
    """A refusal means the backend answered: it stays up."""
    pool = make_pool(clock)
    with pytest.raises(Refused):
        async with pool.acquire():
            raise Refused("no", provider="p")
    assert healthy(pool) == {A: True, B: True}


async def test_down_backend_is_retried_after_the_cooldown(clock: ManualClock) -> None:
    """After cooldown_s the backend is a candidate again, and a success clears its error."""
    pool = make_pool(clock)
    async with pool.acquire() as backend:
        backend.failed("refused")
    clock.now += 29.9
    assert healthy(pool)[A] is False
    clock.now += 0.2
    assert healthy(pool)[A] is True
    urls = []
    for _ in range(2):
        async with pool.acquire() as backend:
            urls.append(backend.url)
    assert A in urls
    assert pool.status()[0].last_error is None


async def test_all_down_tries_the_one_down_longest(clock: ManualClock) -> None:
    """Every backend down: the one that failed least recently is tried, and they rotate."""
    pool = make_pool(clock)
    async with pool.acquire() as first:
        first.failed("x")
    clock.now += 5
    async with pool.acquire() as second:
        second.failed("y")
    assert (first.url, second.url) == (A, B)
    clock.now += 5
    async with pool.acquire() as probe:
        assert probe.url == A
        probe.failed("still down")
    async with pool.acquire() as probe:
        assert probe.url == B


async def test_call_fails_over_to_the_next_backend(clock: ManualClock) -> None:
    """call(): Unavailable on A → A marked down, the same call succeeds on B."""
    pool = make_pool(clock)
    calls: list[str] = []

    async def fn(url: str) -> str:
        calls.append(url)
        if url == A:
            raise down()
        return f"ok from {url}"

    assert await pool.call(fn) == f"ok from {B}"
    assert calls == [A, B]
    assert healthy(pool) == {A: False, B: True}
    assert await pool.call(fn) == f"ok from {B}"
    assert calls == [A, B, B]


async def test_call_tries_each_backend_once_then_raises(clock: ManualClock) -> None:
    """When every backend fails, the last Unavailable is raised after one try each."""
    pool = make_pool(clock, A, B, C)
    calls: list[str] = []

    async def fn(url: str) -> str:
        calls.append(url)
        raise Unavailable(f"{url} down", provider="p")

    with pytest.raises(Unavailable, match="http://c/v1 down"):
        await pool.call(fn)
    assert calls == [A, B, C]
    assert not any(healthy(pool).values())


async def test_call_does_not_fail_over_onto_a_backend_already_down(clock: ManualClock) -> None:
    """Failover goes only to backends that are up; a known-down one is not hammered."""
    pool = make_pool(clock)
    async with pool.acquire() as backend:
        backend.failed("refused")  # A down
    calls: list[str] = []

    async def fn(url: str) -> str:
        calls.append(url)
        raise down()

    with pytest.raises(Unavailable):
        await pool.call(fn)
    assert calls == [B]


async def test_call_propagates_other_errors_without_failover(clock: ManualClock) -> None:
    """A refusal is the answer, not a backend failure: no second backend, nothing marked down."""
    pool = make_pool(clock)
    calls: list[str] = []

    async def fn(url: str) -> str:
        calls.append(url)
        raise Refused("no", provider="p")

    with pytest.raises(Refused):
        await pool.call(fn)
    assert len(calls) == 1 and all(healthy(pool).values())


async def test_status_reports_in_flight_health_and_last_error(clock: ManualClock) -> None:
    """status() lists every backend for easel doctor."""
    pool = make_pool(clock)
    async with pool.acquire() as backend:
        backend.failed("connection refused")
    async with pool.acquire():
        assert pool.status() == [
            BackendStatus(A, 0, False, "connection refused"),
            BackendStatus(B, 1, True, None),
        ]
    assert [s.in_flight for s in pool.status()] == [0, 0]


def test_pool_rejects_empty_or_duplicate_urls(clock: ManualClock) -> None:
    """A pool needs distinct URLs and a positive cap."""
    with pytest.raises(ValueError, match="at least one"):
        BackendPool([], max_per_backend=1)
    with pytest.raises(ValueError, match="distinct"):
        BackendPool([A, A], max_per_backend=1)
    with pytest.raises(ValueError, match="max_per_backend"):
        BackendPool([A], max_per_backend=0)
