"""BackendPool: the backend that will finish first (least busy while nothing is measured), per-backend
cap, cool-down after failures, failover within a call, shared claims."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
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


def estimates(pool: BackendPool) -> dict[str, float | None]:
    return {s.url: s.estimate_s for s in pool.status()}


async def timed(pool: BackendPool, clock: ManualClock, seconds: dict[str, float]) -> str:
    """One call through ``acquire()`` that takes ``seconds[url]`` on the clock; the URL it got."""
    async with pool.acquire() as backend:
        clock.now += seconds[backend.url]
    return backend.url


async def measured(clock: ManualClock, seconds: dict[str, float], *, max_per_backend: int = 2) -> BackendPool:
    """A pool over ``seconds``' URLs in that order, with one call measured on each."""
    pool = make_pool(clock, *seconds, max_per_backend=max_per_backend)
    assert [await timed(pool, clock, seconds) for _ in seconds] == list(seconds)
    return pool


class LocalClaims:
    """SlotClaims in memory, for a pool and the "other replicas" a test plays."""

    def __init__(self) -> None:
        self.held: dict[str, int] = {}

    async def claim(self, name: str, limit: int) -> Callable[[], Awaitable[None]] | None:
        if self.held.get(name, 0) >= limit:
            return None
        self.held[name] = self.held.get(name, 0) + 1

        async def release() -> None:
            self.held[name] -= 1

        return release


async def test_least_busy_backend_is_chosen(clock: ManualClock) -> None:
    """Nothing measured (the clock stands still): with two calls in flight on A and none on B, the next
    two calls both go to B."""
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
    """Sequential calls on idle backends of equal speed take turns rather than always hitting the first."""
    pool = make_pool(clock, A, B, C)
    seen = []
    for _ in range(6):
        async with pool.acquire() as backend:
            seen.append(backend.url)
    assert seen == [A, B, C, A, B, C]


async def test_after_measuring_a_fast_backend_is_chosen_over_a_slow_idle_one(clock: ManualClock) -> None:
    """Once both are measured, every call goes to the 0.5 s backend although the 4 s one is idle."""
    seconds = {A: 4.0, B: 0.5}
    pool = await measured(clock, seconds)
    assert [await timed(pool, clock, seconds) for _ in range(4)] == [B, B, B, B]


async def test_a_backend_never_measured_is_tried(clock: ManualClock) -> None:
    """An unmeasured backend counts as fast as the fastest measured one, so it gets a call to measure."""
    seconds = {A: 0.5, B: 1.0}
    pool = make_pool(clock)
    assert await timed(pool, clock, seconds) == A
    assert estimates(pool) == {A: 0.5, B: None}
    assert await timed(pool, clock, seconds) == B
    assert estimates(pool) == {A: 0.5, B: 1.0}


async def test_expected_completion_counts_the_calls_in_flight(clock: ManualClock) -> None:
    """A 1 s, B 1.5 s: held calls go A (1 < 1.5), B (2 > 1.5), A (2 < 3): (in_flight + 1) * estimate."""
    pool = await measured(clock, {A: 1.0, B: 1.5}, max_per_backend=3)
    async with AsyncExitStack() as stack:
        urls = [(await stack.enter_async_context(pool.acquire())).url for _ in range(3)]
    assert urls == [A, B, A]


async def test_with_the_fast_one_at_its_cap_the_next_best_is_used(clock: ManualClock) -> None:
    """A (0.5 s) held at its cap of 1: the call goes to C (1 s), not B (4 s), though B is next in turn."""
    pool = await measured(clock, {A: 0.5, B: 4.0, C: 1.0}, max_per_backend=1)
    async with pool.acquire() as fast:
        assert fast.url == A
        async with pool.acquire() as backend:
            assert backend.url == C


async def test_estimates_adapt_when_a_backend_slows_down(clock: ManualClock) -> None:
    """A goes from 0.5 s to 4 s: after one slow call its estimate passes B's 1 s and calls move to B."""
    seconds = {A: 0.5, B: 1.0}
    pool = await measured(clock, seconds)
    seconds[A] = 4.0
    assert [await timed(pool, clock, seconds) for _ in range(3)] == [A, B, B]


async def test_estimate_is_a_moving_average_of_successful_calls(clock: ManualClock) -> None:
    """status() shows the estimate: 2 s, then a 4 s call moves it 30 % of the way, to 2.6 s."""
    pool = make_pool(clock, A)
    for seconds in (2.0, 4.0):
        await timed(pool, clock, {A: seconds})
    estimate = pool.status()[0].estimate_s
    assert estimate == pytest.approx(2.6)


async def test_failed_and_refused_calls_are_not_measured(clock: ManualClock) -> None:
    """A call that ends in Unavailable or another error leaves the estimate alone."""
    pool = make_pool(clock, A)
    await timed(pool, clock, {A: 1.0})

    async def slow_failure(error: Exception) -> None:
        async with pool.acquire():
            clock.now += 20.0
            raise error

    for error in (down(), Refused("no", provider="p")):
        with pytest.raises(type(error)):
            await slow_failure(error)
        clock.now += 31.0  # past the cool-down
    assert estimates(pool) == {A: 1.0}


async def test_call_measures_the_backend_it_ran_on(clock: ManualClock) -> None:
    """call() records the duration of a successful fn on its backend, and prefers the faster next time."""
    seconds = {A: 3.0, B: 0.5}
    pool = make_pool(clock)

    async def fn(url: str) -> str:
        clock.now += seconds[url]
        return url

    assert [await pool.call(fn) for _ in range(4)] == [A, B, B, B]
    assert estimates(pool) == {A: 3.0, B: 0.5}


async def test_shared_claims_fall_back_to_the_next_best_backend(clock: ManualClock) -> None:
    """Another replica holds the fast backend's only shared slot: the call takes the next fastest."""
    pool = await measured(clock, {A: 0.5, B: 4.0, C: 1.0}, max_per_backend=1)
    claims = LocalClaims()
    pool.share(claims, poll_s=0.001)
    other = await claims.claim(BackendPool.slot_name(A), 1)
    assert other is not None
    async with pool.acquire() as backend:
        assert backend.url == C
        assert [s.in_flight for s in pool.status()] == [0, 0, 1]
    await other()
    async with pool.acquire() as backend:
        assert backend.url == A


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
            BackendStatus(A, 0, False, "connection refused", None),
            BackendStatus(B, 1, True, None, None),
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
