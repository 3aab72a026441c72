"""Several base URLs behind one provider: the one that will finish first, a per-backend cap, cool-down
and failover.

``providers.<name>.base_url`` may be a list of servers doing the same work (two GPUs, two hosts), not
necessarily equally fast. A :class:`BackendPool` hands out one URL per call::

    async with pool.acquire() as backend:       # the up backend to finish first; waits while all full
        await post(backend.url)                 # an Unavailable escaping the block marks it down

    images = await pool.call(lambda url: post(url))   # the same, failing over on Unavailable

Choice: each backend keeps an estimate of how long a call on it takes, a moving average (EWMA, weight
``ESTIMATE_WEIGHT`` for the newest) of its successful calls' durations (the time a caller held it, on the
pool's clock; failures and other errors are not counted). Of the up backends below their cap, the one with
the least expected completion ``(in_flight + 1) * estimate`` is taken: the fastest while idle, the next
fastest once queueing on it would take longer. A backend not measured yet counts as fast as the fastest
measured one (optimistic, so each gets tried and measured); ties go to the least busy, then an unmeasured
one, then round-robin from the last one handed out (so with no durations, e.g. a frozen test clock, this is
least busy with round-robin ties). A backend that turns slow is measured slow and loses its share; one that
turns fast again is re-measured once the faster ones are busy enough to send calls its way. A duration
includes any queueing at the server, so with ``max_per_backend`` above 1 on a server that works one call
at a time, a backend that had a queue reads slower for a few calls after it.

Rules: a backend is *down* for ``cooldown_s`` after a connection-level failure (``backend.failed()``,
or an :class:`~bot.core.errors.Unavailable` leaving the ``async with``) and skipped while another is
up; after the cool-down it is tried again, and a success makes it up at once. When every backend is
down, the one that has been down longest is tried. Pure asyncio; the clock is injectable for tests.

Several replicas calling one server: ``pool.share(claims)`` makes each backend's cap hold across all of
them (``SlotClaims``, on Redis): a call also claims its backend's slot under the backend's address
(hashed), tries the next backend in the order above when another replica holds it, and waits (polling)
when all are. Estimates are per replica (each measures the calls it makes).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from bot.core.errors import Unavailable
from bot.core.ports import SlotClaims
from bot.core.waiting import wait_event

__all__ = ["Backend", "BackendPool", "BackendStatus"]

T = TypeVar("T")
Release = Callable[[], Awaitable[None]]

ESTIMATE_WEIGHT = 0.3
"""How much a backend's newest successful call counts in its duration estimate (EWMA); the rest is the
previous estimate, so a change of speed shows within a few calls and one odd call moves it only part way."""


@dataclass(frozen=True, slots=True)
class BackendStatus:
    """One backend as ``easel doctor`` shows it."""

    url: str
    in_flight: int
    healthy: bool
    last_error: str | None
    estimate_s: float | None = None  # the moving average of its successful calls; None: not measured yet


class _State:
    __slots__ = ("down_since", "down_until", "estimate", "in_flight", "last_error", "url")

    def __init__(self, url: str) -> None:
        self.url = url
        self.in_flight = 0
        self.down_since: float | None = None
        self.down_until: float | None = None
        self.last_error: str | None = None
        self.estimate: float | None = None  # seconds a successful call takes (EWMA); None: unmeasured

    def up(self, now: float) -> bool:
        return self.down_until is None or now >= self.down_until

    def measured(self, duration: float) -> None:
        duration = max(0.0, duration)
        if self.estimate is None:
            self.estimate = duration
        else:
            self.estimate += ESTIMATE_WEIGHT * (duration - self.estimate)


class Backend:
    """The backend a caller holds inside ``pool.acquire()``."""

    __slots__ = ("_failed", "_pool", "_state")

    def __init__(self, pool: BackendPool, state: _State) -> None:
        self._pool = pool
        self._state = state
        self._failed = False

    @property
    def url(self) -> str:
        return self._state.url

    def failed(self, error: BaseException | str | None = None) -> None:
        """Report a connection-level failure: the backend is down for the pool's cool-down."""
        self._failed = True
        self._pool._mark_down(self._state, error)


class BackendPool:
    """Hands out the healthy base URL expected to finish a call first, at most ``max_per_backend``
    calls each at a time (see the module doc)."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        max_per_backend: int,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("a backend pool needs at least one URL")
        if len(set(urls)) != len(urls):
            raise ValueError("backend URLs must be distinct")
        if max_per_backend < 1:
            raise ValueError("max_per_backend must be at least 1")
        self._states = [_State(url) for url in urls]
        self.max_per_backend = max_per_backend
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._next = 0  # round-robin start for ties
        self._changed = asyncio.Event()
        self._claims: SlotClaims | None = None
        self._poll_s = 0.1

    def share(self, claims: SlotClaims, *, poll_s: float = 0.1) -> None:
        """Hold each backend's cap across every replica that shares ``claims`` (see the module doc)."""
        self._claims, self._poll_s = claims, poll_s

    @staticmethod
    def slot_name(url: str) -> str:
        """The shared name of a backend's slots: its address, hashed (a URL may carry credentials)."""
        return "backend:" + hashlib.sha256(url.encode()).hexdigest()[:16]

    @property
    def urls(self) -> list[str]:
        return [state.url for state in self._states]

    def status(self) -> list[BackendStatus]:
        now = self._clock()
        return [BackendStatus(s.url, s.in_flight, s.up(now), s.last_error, s.estimate) for s in self._states]

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Backend]:
        """Hold a slot on the up backend expected to finish first (waiting while all are full) for the
        block."""
        taken = await self._take(exclude=frozenset(), only_up=False)
        assert taken is not None  # with nothing excluded there is always a candidate
        async with self._holding(*taken) as backend:
            yield backend

    async def call(self, fn: Callable[[str], Awaitable[T]]) -> T:
        """``await fn(url)`` on a backend; on ``Unavailable`` mark it down and try the next up one.

        Each backend is tried at most once per call; the last ``Unavailable`` is raised when no
        untried backend is up. Any other error propagates at once.
        """
        tried: set[str] = set()
        last: Unavailable | None = None
        while True:
            taken = await self._take(exclude=frozenset(tried), only_up=last is not None)
            if taken is None:
                assert last is not None
                raise last
            state = taken[0]
            tried.add(state.url)
            try:
                async with self._holding(*taken):
                    return await fn(state.url)
            except Unavailable as exc:
                last = exc

    # ------------------------------------------------------------------------------------- internals

    @asynccontextmanager
    async def _holding(self, state: _State, release: Release | None) -> AsyncIterator[Backend]:
        backend = Backend(self, state)
        start = self._clock()
        try:
            yield backend
        except Unavailable as exc:
            if not backend._failed:
                backend.failed(exc)
            raise
        else:
            if not backend._failed:
                self._mark_up(state)
                state.measured(self._clock() - start)
        finally:
            state.in_flight -= 1
            if release is not None:
                await release()
            self._notify()

    async def _take(self, *, exclude: frozenset[str], only_up: bool) -> tuple[_State, Release | None] | None:
        """Reserve a slot (and its shared claim); wait while the candidates are full. None: no
        candidate at all."""
        while True:
            candidates = self._candidates(exclude, only_up)
            if not candidates:
                return None
            free = [s for s in candidates if s.in_flight < self.max_per_backend]
            for state in self._by_preference(free):
                state.in_flight += 1
                try:
                    claimed, release = await self._claim(state)
                except BaseException:
                    self._give_up(state)
                    raise
                if claimed:
                    self._next = (self._states.index(state) + 1) % len(self._states)
                    return state, release
                self._give_up(state)  # another replica holds it
            changed = self._changed  # after the give-ups, which would wake this very waiter
            if not free:
                await changed.wait()
                continue
            # Full elsewhere: poll, or wake on a local release.
            await wait_event(changed, self._poll_s * random.uniform(0.5, 1.5))

    async def _claim(self, state: _State) -> tuple[bool, Release | None]:
        """Whether ``state``'s backend may be called (its shared claim is free, or nothing is
        shared), and what gives the claim back."""
        if self._claims is None:
            return True, None
        release = await self._claims.claim(self.slot_name(state.url), self.max_per_backend)
        return release is not None, release

    def _give_up(self, state: _State) -> None:
        state.in_flight -= 1
        self._notify()

    def _candidates(self, exclude: frozenset[str], only_up: bool) -> list[_State]:
        now = self._clock()
        usable = [s for s in self._states if s.url not in exclude]
        up = [s for s in usable if s.up(now)]
        if up or only_up or not usable:
            return up
        return [min(usable, key=lambda s: s.down_since or 0.0)]  # all down: the longest-down one

    def _by_preference(self, free: list[_State]) -> list[_State]:
        """Soonest expected finish first, ``(in_flight + 1) * estimate`` with an unmeasured backend as
        fast as the fastest measured one; ties: least busy, then unmeasured, then round-robin order
        from the last one handed out."""
        count = len(self._states)
        order = [self._states[(self._next + i) % count] for i in range(count)]
        optimistic = min((s.estimate for s in self._states if s.estimate is not None), default=0.0)

        def key(state: _State) -> tuple[float, int, bool]:
            estimate = optimistic if state.estimate is None else state.estimate
            return (state.in_flight + 1) * estimate, state.in_flight, state.estimate is not None

        return sorted((s for s in order if s in free), key=key)

    def _mark_down(self, state: _State, error: BaseException | str | None) -> None:
        now = self._clock()
        state.down_since = now  # "down longest" = failed least recently, so all-down probing rotates
        state.down_until = now + self.cooldown_s
        state.last_error = str(error) if error is not None else "failed"
        self._notify()

    def _mark_up(self, state: _State) -> None:
        state.down_since = state.down_until = None
        state.last_error = None

    def _notify(self) -> None:
        """Wake every waiter (a condition variable without a lock, so releasing never awaits)."""
        self._changed.set()
        self._changed = asyncio.Event()
