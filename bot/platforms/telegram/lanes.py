"""Results first under Telegram's flood limits: every Bot API call goes in a lane, and when the budget
(30 calls a second for the bot, 20 a minute per group) is spent, waiting calls are let through by
lane, not by arrival: text answers (``/status`` in a burst is answered at once), results, then
clean-ups, then status lines. Cosmetic calls (a chat action, a
status message, a progress edit) are *droppable*: when they would have to wait, or anything more
important is waiting, they are not sent at all (``FloodSkipped``), so a burst of users gets its photos
at the platform's rate instead of sharing it with chatter about them.

A call says its lane through PTB's ``rate_limit_args`` (``bot.send_photo(..., rate_limit_args=RESULT)``);
an ``int`` there is the number of ``RetryAfter`` retries, as for ``AIORateLimiter``, and a call without
one is a result. ``PriorityFloodLimiter`` is this process's limiter (``AIORateLimiter``'s windows, as
sliding windows, with lanes); the replicas' ``SharedFloodLimiter`` drops droppable calls the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from telegram._utils.types import JSONDict
from telegram.error import RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

RETRY_MARGIN_S = 0.1
DROPPABLE_SHARE = 0.5
"""A droppable call goes only while the bot's window is under this share full: the rest is kept for
results, so the first second of a burst is not spent on chat actions before the photos queue up."""
GROUPS_REMEMBERED = 512


class Lane(IntEnum):
    """Lower goes first."""

    ANSWER = 0
    """A text answer to someone who just asked (/status, /help, /cancel, an error): never behind photos."""
    RESULT = 1
    CLEANUP = 2
    STATUS = 3
    COSMETIC = 4


@dataclass(frozen=True, slots=True)
class Call:
    """What a Bot API call passes as ``rate_limit_args``."""

    lane: Lane = Lane.RESULT
    droppable: bool = False
    max_retries: int | None = None

    def retries(self, default: int) -> int:
        """How often a ``RetryAfter`` is waited out for this call (its own count, else the limiter's)."""
        return self.max_retries if self.max_retries is not None else default


ANSWER = Call(Lane.ANSWER)
RESULT = Call()
CLEANUP = Call(Lane.CLEANUP)
STATUS = Call(Lane.STATUS, droppable=True)
COSMETIC = Call(Lane.COSMETIC, droppable=True)
RateArgs = Call | int | None


class FloodSkipped(TelegramError):
    """A droppable call that was not sent: the flood budget is needed for something more important."""


def as_call(rate_limit_args: RateArgs) -> Call:
    if isinstance(rate_limit_args, Call):
        return rate_limit_args
    return Call(max_retries=rate_limit_args)


def group_of(chat_id: object) -> str | int | None:
    """The group a request counts against (a negative id or an ``@channel``), or None for a private chat."""
    with contextlib.suppress(ValueError, TypeError):
        chat_id = int(chat_id)  # type: ignore[call-overload]
    if isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0):
        return chat_id
    return None


class _Window:
    """At most ``limit`` admissions in any ``period_s``: the times of the last ``limit`` of them."""

    __slots__ = ("limit", "period_s", "times")

    def __init__(self, limit: int, period_s: float) -> None:
        self.limit, self.period_s = limit, period_s
        self.times: deque[float] = deque()

    def free_in(self, now: float) -> float:
        """Seconds until there is room (0: now)."""
        while self.times and self.times[0] <= now - self.period_s:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[0] + self.period_s - now

    def take(self, now: float) -> None:
        self.times.append(now)

    def share(self) -> float:
        """How full the window is (as of the last ``free_in``)."""
        return len(self.times) / self.limit


@dataclass(order=True)
class _Waiter:
    lane: int
    seq: int
    group: str | int | None = None
    future: asyncio.Future[None] | None = None


class PriorityFloodLimiter(BaseRateLimiter[RateArgs]):
    """Telegram's flood limits for one process, with lanes (see the module docstring)."""

    def __init__(
        self,
        *,
        overall: tuple[int, float] = (30, 1.0),
        per_group: tuple[int, float] = (20, 60.0),
        max_retries: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._overall = _Window(*overall)
        self._per_group = per_group
        self._groups: dict[str | int, _Window] = {}
        self._max_retries = max_retries
        self._clock = clock
        self._waiting: list[_Waiter] = []
        self._live = 0
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._unpaused = asyncio.Event()
        self._unpaused.set()

    async def initialize(self) -> None:
        """Nothing to prepare."""

    async def shutdown(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    @property
    def waiting(self) -> int:
        """Calls waiting for room now."""
        return self._live

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: RateArgs,
    ) -> bool | JSONDict | list[JSONDict]:
        call = as_call(rate_limit_args)
        retries = call.retries(self._max_retries)
        counted = data.get("chat_id") is not None
        for attempt in range(retries + 1):
            await self._unpaused.wait()
            if counted:
                await self._admit(call, group_of(data.get("chat_id")), endpoint)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                wait = exc._retry_after.total_seconds() + RETRY_MARGIN_S
                log.info("Telegram flood control on %s: waiting %.1f s", endpoint, wait)
                self._unpaused.clear()
                try:
                    await asyncio.sleep(wait)
                finally:
                    self._unpaused.set()
        raise AssertionError("unreachable")  # pragma: no cover: the loop returns or raises

    def would_drop(self, call: Call, chat_id: object) -> bool:
        """Whether ``call`` to ``chat_id`` would be skipped now (``FloodSkipped``): asked before a
        droppable call is even built, so a burst does not pay for thousands of requests never sent."""
        if not call.droppable:
            return False
        room = not self._live and self._free_in(group_of(chat_id), self._clock()) == 0
        return not (room and self._overall.share() < DROPPABLE_SHARE)

    async def _admit(self, call: Call, group: str | int | None, endpoint: str) -> None:
        now = self._clock()
        room = not self._live and self._free_in(group, now) == 0
        if call.droppable and not (room and self._overall.share() < DROPPABLE_SHARE):
            raise FloodSkipped(f"{endpoint} skipped: the flood budget is kept for results")
        if room:
            self._take(group, now)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, _Waiter(int(call.lane), next(self._seq), group, future))
        self._live += 1
        self._dispatch()
        try:
            await future
        except asyncio.CancelledError:
            if not future.done() or future.cancelled():
                self._live -= 1  # still in the heap: skipped when its turn comes
            raise

    def _free_in(self, group: str | int | None, now: float) -> float:
        wait = self._overall.free_in(now)
        if group is not None:
            wait = max(wait, self._group(group).free_in(now))
        return wait

    def _group(self, group: str | int) -> _Window:
        window = self._groups.get(group)
        if window is None:
            if len(self._groups) >= GROUPS_REMEMBERED:  # forget the groups whose windows are empty
                now = self._clock()
                for key, old in list(self._groups.items()):
                    old.free_in(now)  # drops the times that left the window
                    if not old.times:
                        del self._groups[key]
            window = self._groups[group] = _Window(*self._per_group)
        return window

    def _take(self, group: str | int | None, now: float) -> None:
        self._overall.take(now)
        if group is not None:
            self._group(group).take(now)

    def _dispatch(self) -> None:
        """Let waiting calls through by lane while there is room; wake again when room comes."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = self._clock()
        held_back: list[_Waiter] = []
        next_room: float | None = None
        while self._waiting:
            overall = self._overall.free_in(now)
            if overall > 0:
                next_room = overall
                break
            waiter = heapq.heappop(self._waiting)
            assert waiter.future is not None
            if waiter.future.done():
                continue  # cancelled while waiting
            group_wait = self._free_in(waiter.group, now)
            if group_wait > 0:  # this group's minute is full: it must not hold up the others
                held_back.append(waiter)
                next_room = group_wait if next_room is None else min(next_room, group_wait)
                continue
            self._take(waiter.group, now)
            self._live -= 1
            waiter.future.set_result(None)
        for waiter in held_back:
            heapq.heappush(self._waiting, waiter)
        if self._waiting and next_room is not None:
            self._timer = asyncio.get_running_loop().call_later(next_room, self._dispatch)
