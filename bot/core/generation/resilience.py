"""Retries with backoff and a circuit breaker, for calls into image providers.

``call_with_retries`` runs one provider call up to ``1 + retries`` times. Only
``TransientProviderError`` (rate limits, outages, time-outs) is retried; the wait before each retry is
exponential backoff with full jitter, never shorter than a ``RateLimited.retry_after``, and never past
the caller's deadline. When it gives up, the last original error is raised (never tenacity's
``RetryError``), so the caller can fail over.

``CircuitBreaker`` remembers consecutive failures of one provider and switches it off for a while, so a
provider that is down costs one probe per ``reset_after_s`` instead of a time-out per request. The chain
reaches breakers through the ``BreakerStore`` port: ``MemoryBreakers`` (one ``CircuitBreaker`` per
provider, this process only) here, a shared one in Redis in ``bot.coordination`` for several replicas.

Both are deterministic under an injected clock and sleep; nothing here knows HTTP, Redis or a platform.
"""

from __future__ import annotations

import asyncio
import enum
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from bot.core.errors import ProviderTimeout, RateLimited, TransientProviderError
from bot.core.i18n import _

T = TypeVar("T")

Sleep = Callable[[float], Awaitable[None]]
MonotonicClock = Callable[[], float]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one provider before giving up on it."""

    retries: int = 2
    """Extra tries after the first, on transient errors only."""
    base_delay_s: float = 1.0
    """The backoff cap before the first retry; it doubles for each further retry."""
    max_delay_s: float = 30.0
    """The backoff never exceeds this (a longer ``retry_after`` is still honoured)."""
    attempt_timeout_s: float | None = None
    """Seconds one attempt may take before it becomes ``ProviderTimeout``; None means no limit."""
    max_retry_after_s: float = 120.0
    """A ``retry_after`` longer than this is not waited for: the caller should fail over instead."""

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError("retries must be >= 0")
        if self.base_delay_s < 0 or self.max_delay_s < 0 or self.max_retry_after_s < 0:
            raise ValueError("delays must be >= 0")
        if self.attempt_timeout_s is not None and self.attempt_timeout_s <= 0:
            raise ValueError("attempt_timeout_s must be > 0 or None")

    def backoff_cap(self, retry_number: int) -> float:
        """The upper bound of the jittered wait before retry ``retry_number`` (1 for the first retry)."""
        exponent = max(retry_number - 1, 0)
        # Cap the exponent so huge retry counts cannot overflow a float.
        return min(self.max_delay_s, self.base_delay_s * 2.0 ** min(exponent, 64))


def too_long_to_wait(error: BaseException, policy: RetryPolicy) -> bool:
    """Whether ``error`` is a rate limit whose ``retry_after`` exceeds what the policy will wait."""
    return (
        isinstance(error, RateLimited)
        and error.retry_after is not None
        and error.retry_after > policy.max_retry_after_s
    )


async def call_with_retries(
    fn: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    provider: str,
    sleep: Sleep = asyncio.sleep,
    deadline: float | None = None,
    clock: MonotonicClock = time.monotonic,
    rng: random.Random | None = None,
) -> T:
    """Await ``fn()``, retrying transient provider errors as ``policy`` says.

    ``deadline`` is in ``clock`` seconds: a retry whose wait would end after it is not made and the
    last error is raised instead. Every other exception propagates from the first attempt, unretried.
    """
    random_source = rng if rng is not None else random.Random()

    async def attempt() -> T:
        try:
            async with asyncio.timeout(policy.attempt_timeout_s):
                return await fn()
        except TimeoutError as exc:
            limit = f"{policy.attempt_timeout_s:.0f} s" if policy.attempt_timeout_s is not None else "time"
            raise ProviderTimeout(
                f"{provider} did not answer within {limit}",
                provider=provider,
                user_message=_("The image service took too long to answer; please try again later."),
            ) from exc

    def wait(state: RetryCallState) -> float:
        delay = random_source.uniform(0.0, policy.backoff_cap(state.attempt_number))
        error = _error_of(state)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return delay

    def give_up(state: RetryCallState) -> bool:
        if state.attempt_number > policy.retries:
            return True
        error = _error_of(state)
        if error is not None and too_long_to_wait(error, policy):
            return True
        return deadline is not None and clock() + state.upcoming_sleep > deadline

    retrying = AsyncRetrying(
        sleep=sleep,
        retry=retry_if_exception_type(TransientProviderError),
        wait=wait,
        stop=give_up,
        reraise=True,
    )
    result: T = await retrying(attempt)
    return result


def _error_of(state: RetryCallState) -> BaseException | None:
    outcome = state.outcome
    if outcome is None or not outcome.failed:
        return None
    return outcome.exception()


# ------------------------------------------------------------------------------------ circuit breaker


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    """Calls go through; consecutive failures are counted."""
    OPEN = "open"
    """Calls are refused until ``reset_after_s`` has passed since the last failure that opened it."""
    HALF_OPEN = "half_open"
    """One probe call at a time may go through; its outcome closes or reopens the breaker."""


class CircuitBreaker:
    """Consecutive-failure circuit breaker for one provider.

    Call ``allow()`` before a call and then exactly one of ``record_success()``, ``record_failure()``
    or ``release()`` after it. Only transient failures should be recorded as failures; an answer that is
    the provider's verdict (a refusal, an invalid request) shows it is up and counts as a success. Use
    ``release()`` when the call ended without saying anything about the provider (cancelled, a bug).
    """

    def __init__(
        self, *, failure_threshold: int, reset_after_s: float, clock: MonotonicClock = time.monotonic
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be >= 1")
        if reset_after_s < 0:
            raise ValueError("reset_after_s must be >= 0")
        self._threshold = failure_threshold
        self._reset_after_s = reset_after_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self._reset_after_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    @property
    def failures(self) -> int:
        """Consecutive failures counted so far."""
        return self._failures

    def allow(self) -> bool:
        """Whether a call may go ahead now; in half-open this takes the single probe slot."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def record_success(self) -> None:
        """The provider answered: close the breaker and forget earlier failures."""
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        """A transient failure: count it; open (or reopen, restarting the timer) when due."""
        self._failures += 1
        state = self.state
        if state is BreakerState.HALF_OPEN or (
            state is BreakerState.CLOSED and self._failures >= self._threshold
        ):
            self._opened_at = self._clock()
        self._probing = False

    def release(self) -> None:
        """The call ended without a verdict on the provider's health: free the probe slot, if taken."""
        self._probing = False

    def retry_in(self) -> float:
        """Seconds until a call would be allowed: 0 when closed or a probe slot is free.

        While a probe is in flight the answer is ``reset_after_s``, the wait should that probe fail.
        """
        state = self.state
        if state is BreakerState.CLOSED:
            return 0.0
        if state is BreakerState.HALF_OPEN:
            return self._reset_after_s if self._probing else 0.0
        assert self._opened_at is not None
        return max(0.0, self._opened_at + self._reset_after_s - self._clock())


# ------------------------------------------------------------------------------ the breaker store port


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a provider is paused, for how long, and how long a half-open probe may stay unanswered."""

    failure_threshold: int = 5
    reset_after_s: float = 60.0
    probe_ttl_s: float = 300.0
    """A probe with no outcome after this long is presumed lost (its replica died): another may probe."""

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be >= 1")
        if self.reset_after_s < 0 or self.probe_ttl_s <= 0:
            raise ValueError("reset_after_s must be >= 0 and probe_ttl_s > 0")


@dataclass(frozen=True, slots=True)
class BreakerPass:
    """Leave to call ``provider`` once; ``probe`` is set when this call is the half-open probe."""

    provider: str
    probe: str | None = None


@dataclass(frozen=True, slots=True)
class BreakerStatus:
    state: BreakerState
    failures: int = 0
    retry_in: float = 0.0
    """Seconds until a call would be allowed (see ``CircuitBreaker.retry_in``)."""


CLOSED = BreakerStatus(BreakerState.CLOSED)


def status_of(
    *, failures: int, opened_at: float | None, probe_until: float | None, policy: BreakerPolicy, now: float
) -> BreakerStatus:
    """The state of a breaker from its stored facts: the same rules as ``CircuitBreaker`` (``now`` in the
    clock ``opened_at`` and ``probe_until`` were written in)."""
    if opened_at is None:
        return BreakerStatus(BreakerState.CLOSED, failures)
    if now - opened_at < policy.reset_after_s:
        return BreakerStatus(BreakerState.OPEN, failures, max(0.0, opened_at + policy.reset_after_s - now))
    probing = probe_until is not None and probe_until > now
    return BreakerStatus(BreakerState.HALF_OPEN, failures, policy.reset_after_s if probing else 0.0)


class BreakerStore(Protocol):
    """Circuit breakers by provider name, in this process or shared by every replica.

    ``allow`` before a call, then exactly one of ``record_success``, ``record_failure`` or ``release``
    with the pass it gave (the rules of ``CircuitBreaker``). A store that cannot reach its backend lets
    calls through rather than stopping generation.
    """

    async def allow(self, provider: str, policy: BreakerPolicy) -> BreakerPass | None:
        """A pass when a call may go ahead now (in half-open: the single probe), else None."""
        ...

    async def record_success(self, ticket: BreakerPass) -> None: ...

    async def record_failure(self, ticket: BreakerPass, policy: BreakerPolicy) -> None: ...

    async def release(self, ticket: BreakerPass) -> None:
        """No verdict on the provider: frees the probe if ``ticket`` holds it."""
        ...

    async def statuses(self, providers: Sequence[str], policy: BreakerPolicy) -> dict[str, BreakerStatus]:
        """Each provider's breaker as stored now."""
        ...

    def last_known(self, providers: Sequence[str], policy: BreakerPolicy) -> dict[str, BreakerStatus]:
        """Each provider's breaker as last seen by this process, without I/O (for synchronous callers)."""
        ...


LOCAL_PROBE = "local"


class MemoryBreakers:
    """``BreakerStore`` for one process: a ``CircuitBreaker`` per provider (the single-process default)."""

    def __init__(self, *, clock: MonotonicClock = time.monotonic) -> None:
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}

    def _breaker(self, provider: str, policy: BreakerPolicy) -> CircuitBreaker:
        breaker = self._breakers.get(provider)
        if breaker is None:
            breaker = self._breakers[provider] = CircuitBreaker(
                failure_threshold=policy.failure_threshold,
                reset_after_s=policy.reset_after_s,
                clock=self._clock,
            )
        return breaker

    async def allow(self, provider: str, policy: BreakerPolicy) -> BreakerPass | None:
        breaker = self._breaker(provider, policy)
        half_open = breaker.state is BreakerState.HALF_OPEN
        if not breaker.allow():
            return None
        return BreakerPass(provider, LOCAL_PROBE if half_open else None)

    async def record_success(self, ticket: BreakerPass) -> None:
        if (breaker := self._breakers.get(ticket.provider)) is not None:
            breaker.record_success()

    async def record_failure(self, ticket: BreakerPass, policy: BreakerPolicy) -> None:
        self._breaker(ticket.provider, policy).record_failure()

    async def release(self, ticket: BreakerPass) -> None:
        if ticket.probe is not None and (breaker := self._breakers.get(ticket.provider)) is not None:
            breaker.release()

    async def statuses(self, providers: Sequence[str], policy: BreakerPolicy) -> dict[str, BreakerStatus]:
        return self.last_known(providers, policy)

    def last_known(self, providers: Sequence[str], policy: BreakerPolicy) -> dict[str, BreakerStatus]:
        known: dict[str, BreakerStatus] = {}
        for name in providers:
            breaker = self._breakers.get(name)
            known[name] = (
                CLOSED
                if breaker is None
                else BreakerStatus(breaker.state, breaker.failures, breaker.retry_in())
            )
        return known


def about(seconds: float) -> str:
    """A rounded, human duration for messages: "45 s", "3 min"."""
    whole = max(1, math.ceil(seconds))
    if whole < 120:
        return f"{whole} s"
    return f"{math.ceil(whole / 60)} min"
