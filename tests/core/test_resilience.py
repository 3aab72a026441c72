"""Retries with backoff and Retry-After, per-attempt time-outs, deadlines, and the circuit breaker."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence

import pytest

from bot.core.errors import (
    ImageError,
    InvalidInput,
    InvalidRequest,
    Misconfigured,
    ProviderTimeout,
    RateLimited,
    Refused,
    Unavailable,
)
from bot.core.generation.resilience import (
    BreakerPass,
    BreakerPolicy,
    BreakerState,
    CircuitBreaker,
    MemoryBreakers,
    RetryPolicy,
    call_with_retries,
    status_of,
)
from tests.fakes.scripted import FakeTimer


class Highest(random.Random):
    """Jitter that always picks the top of the range, so the backoff cap is visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


class Lowest(random.Random):
    """Jitter that always picks zero."""

    def uniform(self, a: float, b: float) -> float:
        return a


class Script:
    """A callable that raises the scripted errors in turn, then returns "ok"; counts its calls."""

    def __init__(self, errors: Sequence[BaseException] = ()) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def down(n: int) -> list[BaseException]:
    return [Unavailable(f"down {i}", provider="p") for i in range(n)]


async def run(
    fn: Callable[[], Awaitable[str]],
    timer: FakeTimer,
    *,
    policy: RetryPolicy = RetryPolicy(),
    rng: random.Random | None = None,
    deadline: float | None = None,
) -> str:
    return await call_with_retries(
        fn,
        policy=policy,
        provider="p",
        sleep=timer.sleep,
        clock=timer.clock,
        rng=rng or random.Random(0),
        deadline=deadline,
    )


# ------------------------------------------------------------------------------------------ retries


async def test_success_needs_no_retry() -> None:
    """A call that succeeds at once is made once and never sleeps."""
    timer, fn = FakeTimer(), Script()
    assert await run(fn, timer) == "ok"
    assert fn.calls == 1 and timer.sleeps == []


async def test_transient_error_is_retried_until_success() -> None:
    """Two outages then success: three calls, two waits, the result comes back."""
    timer, fn = FakeTimer(), Script(down(2))
    assert await run(fn, timer) == "ok"
    assert fn.calls == 3 and len(timer.sleeps) == 2


async def test_retry_after_is_honoured_over_shorter_backoff() -> None:
    """A RateLimited with retry_after 7 s waits at least 7 s though backoff alone would wait ~0."""
    timer, fn = FakeTimer(), Script([RateLimited("slow down", provider="p", retry_after=7.0)])
    await run(fn, timer, rng=Lowest())
    assert timer.sleeps == [7.0]


async def test_retry_after_may_exceed_backoff_cap() -> None:
    """A retry_after longer than max_delay_s (but within max_retry_after_s) is still waited for."""
    timer, fn = FakeTimer(), Script([RateLimited("slow down", provider="p", retry_after=90.0)])
    await run(fn, timer, policy=RetryPolicy(max_delay_s=30.0), rng=Highest())
    assert timer.sleeps == [90.0] and fn.calls == 2


async def test_backoff_grows_exponentially_and_is_capped() -> None:
    """At the top of the jitter range the waits are 1, 2, 4, 8, then capped at 10."""
    timer, fn = FakeTimer(), Script(down(6))
    policy = RetryPolicy(retries=6, base_delay_s=1.0, max_delay_s=10.0)
    await run(fn, timer, policy=policy, rng=Highest())
    assert timer.sleeps == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


@pytest.mark.parametrize("seed", range(5))
async def test_jitter_stays_within_bounds(seed: int) -> None:
    """Every jittered wait lies in [0, min(max, base * 2**n)] and they are not all the cap."""
    policy = RetryPolicy(retries=8, base_delay_s=0.5, max_delay_s=16.0)
    timer, fn = FakeTimer(), Script(down(8))
    await run(fn, timer, policy=policy, rng=random.Random(seed))
    caps = [policy.backoff_cap(n) for n in range(1, 9)]
    assert all(0.0 <= wait <= cap for wait, cap in zip(timer.sleeps, caps, strict=True))
    assert timer.sleeps != caps


@pytest.mark.parametrize(
    "error",
    [
        Refused("policy", provider="p"),
        InvalidRequest("bad size", provider="p"),
        Misconfigured("no key", provider="p"),
        ImageError("not an image"),
        InvalidInput("empty prompt"),
        RuntimeError("bug"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_non_transient_error_is_not_retried(error: Exception) -> None:
    """Anything but a transient provider error propagates from the first call, unretried."""
    timer, fn = FakeTimer(), Script([error])
    with pytest.raises(type(error)) as caught:
        await run(fn, timer)
    assert caught.value is error
    assert fn.calls == 1 and timer.sleeps == []


async def test_exhausted_retries_raise_last_original_error() -> None:
    """After 1 + retries failures the last error itself is raised, not tenacity's RetryError."""
    errors = down(3)
    timer, fn = FakeTimer(), Script(errors)
    with pytest.raises(Unavailable) as caught:
        await run(fn, timer, policy=RetryPolicy(retries=2))
    assert caught.value is errors[-1]
    assert fn.calls == 3


async def test_zero_retries_means_one_call() -> None:
    """RetryPolicy(retries=0) makes exactly one call."""
    timer, fn = FakeTimer(), Script(down(1))
    with pytest.raises(Unavailable):
        await run(fn, timer, policy=RetryPolicy(retries=0))
    assert fn.calls == 1 and timer.sleeps == []


# --------------------------------------------------------------------------------- time-outs, deadline


class HangsOnce:
    """Hangs forever on the first call, answers "ok" on later ones."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls == 1:
            await asyncio.Event().wait()
        return "ok"


async def test_attempt_timeout_is_retried() -> None:
    """An attempt slower than attempt_timeout_s counts as a transient failure and is retried."""
    timer, fn = FakeTimer(), HangsOnce()
    assert await run(fn, timer, policy=RetryPolicy(attempt_timeout_s=0.005)) == "ok"
    assert fn.calls == 2 and len(timer.sleeps) == 1


async def test_attempt_timeout_becomes_provider_timeout() -> None:
    """The attempt time-out surfaces as ProviderTimeout caused by the TimeoutError."""
    timer, fn = FakeTimer(), HangsOnce()
    with pytest.raises(ProviderTimeout) as caught:
        await run(fn, timer, policy=RetryPolicy(retries=0, attempt_timeout_s=0.005))
    assert caught.value.provider == "p"
    assert isinstance(caught.value.__cause__, TimeoutError)


async def test_deadline_stops_retries_early() -> None:
    """A wait that would end past the deadline is not made: the last error is raised instead."""
    timer = FakeTimer(start=0.0)
    fn = Script(down(5))
    policy = RetryPolicy(retries=5, base_delay_s=4.0, max_delay_s=60.0)
    with pytest.raises(Unavailable):
        await run(fn, timer, policy=policy, rng=Highest(), deadline=5.0)
    assert timer.sleeps == [4.0]  # the next wait (8 s) would end at 12 s, past the 5 s deadline
    assert fn.calls == 2


async def test_retry_after_beyond_deadline_is_not_waited() -> None:
    """A Retry-After longer than the time left raises the RateLimited at once."""
    timer = FakeTimer(start=0.0)
    fn = Script([RateLimited("busy", provider="p", retry_after=30.0)])
    with pytest.raises(RateLimited):
        await run(fn, timer, deadline=10.0)
    assert fn.calls == 1 and timer.sleeps == []


async def test_retry_after_above_policy_maximum_is_not_waited() -> None:
    """A Retry-After above max_retry_after_s raises the RateLimited at once."""
    timer = FakeTimer()
    fn = Script([RateLimited("busy", provider="p", retry_after=500.0)])
    with pytest.raises(RateLimited):
        await run(fn, timer, policy=RetryPolicy(max_retry_after_s=120.0))
    assert fn.calls == 1 and timer.sleeps == []


# ---------------------------------------------------------------------------------- circuit breaker


def breaker(timer: FakeTimer, *, failures: int = 3, reset_s: float = 60.0) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=failures, reset_after_s=reset_s, clock=timer.clock)


def test_breaker_starts_closed() -> None:
    """A new breaker is closed, allows calls and has nothing to wait for."""
    b = breaker(FakeTimer())
    assert b.state is BreakerState.CLOSED and b.allow() and b.retry_in() == 0.0


def test_breaker_opens_after_consecutive_failures() -> None:
    """It stays closed for threshold - 1 failures and opens on the threshold-th."""
    b = breaker(FakeTimer(), failures=3)
    states = []
    for _ in range(3):
        b.record_failure()
        states.append(b.state)
    assert states == [BreakerState.CLOSED, BreakerState.CLOSED, BreakerState.OPEN]


def test_open_breaker_refuses_and_says_how_long() -> None:
    """While open, allow() is False and retry_in() counts down to the reset."""
    timer = FakeTimer()
    b = breaker(timer, failures=1, reset_s=60.0)
    b.record_failure()
    timer.advance(20.0)
    assert not b.allow()
    assert b.retry_in() == pytest.approx(40.0)


def test_half_open_allows_exactly_one_probe() -> None:
    """After the reset time one allow() succeeds and a second concurrent one is refused."""
    timer = FakeTimer()
    b = breaker(timer, failures=1, reset_s=60.0)
    b.record_failure()
    timer.advance(60.0)
    assert b.state is BreakerState.HALF_OPEN
    assert b.allow()
    assert not b.allow()


def test_probe_success_closes_breaker() -> None:
    """A successful probe closes the breaker and calls flow again."""
    timer = FakeTimer()
    b = breaker(timer, failures=1, reset_s=60.0)
    b.record_failure()
    timer.advance(60.0)
    assert b.allow()
    b.record_success()
    assert b.state is BreakerState.CLOSED and b.allow() and b.allow()


def test_probe_failure_reopens_and_restarts_timer() -> None:
    """A failed probe opens the breaker again for a full reset period."""
    timer = FakeTimer()
    b = breaker(timer, failures=1, reset_s=60.0)
    b.record_failure()
    timer.advance(61.0)
    assert b.allow()
    b.record_failure()
    assert b.state is BreakerState.OPEN and not b.allow()
    assert b.retry_in() == pytest.approx(60.0)


def test_released_probe_frees_the_slot() -> None:
    """A probe that ends without a verdict (cancelled) lets the next call probe instead."""
    timer = FakeTimer()
    b = breaker(timer, failures=1, reset_s=10.0)
    b.record_failure()
    timer.advance(10.0)
    assert b.allow()
    b.release()
    assert b.state is BreakerState.HALF_OPEN and b.allow()


def test_success_resets_failure_count() -> None:
    """Failures must be consecutive: a success in between starts the count again."""
    b = breaker(FakeTimer(), failures=3)
    b.record_failure()
    b.record_failure()
    b.record_success()
    b.record_failure()
    b.record_failure()
    assert b.state is BreakerState.CLOSED and b.failures == 2


# ------------------------------------------------------------------------ the in-memory breaker store

ONE_FAILURE = BreakerPolicy(failure_threshold=1, reset_after_s=60.0)


async def opened_store(timer: FakeTimer) -> MemoryBreakers:
    """A store whose breaker for "a" has opened and reached half-open."""
    store = MemoryBreakers(clock=timer.clock)
    ticket = await store.allow("a", ONE_FAILURE)
    assert ticket is not None
    await store.record_failure(ticket, ONE_FAILURE)
    timer.advance(60.0)
    return store


async def test_memory_store_hands_out_the_half_open_probe_once() -> None:
    """In half-open the first pass is the probe (marked so) and the next caller is refused."""
    store = await opened_store(FakeTimer())
    probe = await store.allow("a", ONE_FAILURE)
    assert probe is not None and probe.probe is not None
    assert await store.allow("a", ONE_FAILURE) is None


async def test_memory_store_keeps_the_probe_when_an_ordinary_pass_is_released() -> None:
    """Releasing a pass taken while closed does not free the probe someone else holds."""
    timer = FakeTimer()
    store = MemoryBreakers(clock=timer.clock)
    early = await store.allow("a", ONE_FAILURE)
    assert early is not None and early.probe is None
    await store.record_failure(BreakerPass("a"), ONE_FAILURE)
    timer.advance(60.0)
    assert await store.allow("a", ONE_FAILURE) is not None
    await store.release(early)
    assert await store.allow("a", ONE_FAILURE) is None


async def test_memory_store_reports_state_failures_and_wait() -> None:
    """statuses() and last_known() agree: open with one failure and the time left."""
    timer = FakeTimer()
    store = await opened_store(timer)
    timer.advance(-20.0)
    status = (await store.statuses(["a", "b"], ONE_FAILURE))["a"]
    assert status.state is BreakerState.OPEN and status.failures == 1
    assert status.retry_in == pytest.approx(20.0)
    assert store.last_known(["b"], ONE_FAILURE)["b"].state is BreakerState.CLOSED


@pytest.mark.parametrize(
    ("opened_at", "probe_until", "now", "state", "retry_in"),
    [
        (None, None, 100.0, BreakerState.CLOSED, 0.0),
        (100.0, None, 130.0, BreakerState.OPEN, 30.0),
        (100.0, None, 160.0, BreakerState.HALF_OPEN, 0.0),
        (100.0, 200.0, 170.0, BreakerState.HALF_OPEN, 60.0),
        (100.0, 150.0, 170.0, BreakerState.HALF_OPEN, 0.0),
    ],
)
def test_status_of_stored_facts_follows_the_breaker_rules(
    opened_at: float | None, probe_until: float | None, now: float, state: BreakerState, retry_in: float
) -> None:
    """Closed, open (time left), half-open with a free, a taken and a lapsed probe."""
    status = status_of(failures=1, opened_at=opened_at, probe_until=probe_until, policy=ONE_FAILURE, now=now)
    assert status.state is state and status.retry_in == pytest.approx(retry_in)


def test_breaker_policy_refuses_a_threshold_below_one() -> None:
    """A breaker that opens before any failure is a configuration mistake."""
    with pytest.raises(ValueError, match="failure_threshold"):
        BreakerPolicy(failure_threshold=0)
