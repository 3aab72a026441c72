"""Telegram's flood limits for one bot token, held across every replica through Redis.

python-telegram-bot's ``AIORateLimiter`` counts in one process; replicas sharing a bot token would
together send several times too much. ``SharedFloodLimiter`` is a ``BaseRateLimiter`` that throttles
every request carrying a ``chat_id`` (as ``AIORateLimiter`` does) through moving windows in Redis:

- 30 requests per second for the whole bot (``overall``),
- about one per second per chat (``per_chat``, a window of 3 in 3 s: Telegram allows short bursts),
- 20 per minute per group or channel (``per_group``: a negative ``chat_id`` or an ``@username``).

A request waits (sleeps) until every window it belongs to has room; one Lua script checks and takes
the places in all of them at once. Telegram's own ``RetryAfter`` pauses every replica (a shared
``pause`` key) for ``retry_after`` + 0.1 s, and the request is retried at most ``max_retries`` times,
as ``AIORateLimiter`` does (which pauses only its own process). Requests without a ``chat_id`` only
wait for such a pause. Keys live under ``<namespace>:telegram:<bot id>:`` (the token's public half).
Times are milliseconds of the injected wall clock (replicas keep their clocks in step with NTP). When
Redis cannot be reached the request goes ahead: Telegram's ``RetryAfter`` still protects the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.core.waiting import raise_if_cancelled
from bot.platforms.telegram.lanes import FloodSkipped, RateArgs, as_call, group_of

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

Window = tuple[int, float]
"""At most this many requests in this many seconds."""

OVERALL: Window = (30, 1.0)
PER_CHAT: Window = (3, 3.0)
PER_GROUP: Window = (20, 60.0)
RETRY_MARGIN_S = 0.1

TAKE = """
local now, member = tonumber(ARGV[1]), ARGV[2]
local paused = tonumber(redis.call('GET', KEYS[1]))
if paused and paused > now then return paused - now end
local wait = 0
for i = 2, #KEYS do
  local limit, period = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - period)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    local oldest = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + period - now)
  end
end
if wait > 0 then return wait end
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[1], member)
  redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
end
return 0
"""
"""0 when the request took its place in every window (KEYS[2..]); else milliseconds to wait first."""

PAUSE = """
local deadline = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]))
if not current or current < deadline then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 0
"""
"""Pause every replica until ARGV[1] (never shortening a pause already set)."""


class SharedFloodLimiter(BaseRateLimiter[RateArgs]):
    """A ``BaseRateLimiter`` whose windows are shared by every replica (see the module docstring).

    ``rate_limit_args`` is a :class:`~bot.platforms.telegram.lanes.Call` (a droppable one is not sent,
    ``FloodSkipped``, when it would have to wait) or an ``int``, ``max_retries`` for that call.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        bot_id: str,
        max_retries: int = 0,
        overall: Window = OVERALL,
        per_chat: Window = PER_CHAT,
        per_group: Window = PER_GROUP,
        namespace: str = "easel",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        client: Redis | None = None,
    ) -> None:
        from redis.asyncio import Redis  # only with Redis configured (~0.2 s of start-up otherwise)
        from redis.exceptions import RedisError

        self._redis_errors = RedisError
        self._own_client = client is None
        self._client = client if client is not None else Redis.from_url(redis_url)
        self._prefix = f"{namespace}:telegram:{bot_id}:"
        self._max_retries = max_retries
        self._windows = {"all": overall, "chat": per_chat, "group": per_group}
        self._clock = clock
        self._sleep = sleep
        self._take = self._client.register_script(TAKE)
        self._pause = self._client.register_script(PAUSE)

    async def initialize(self) -> None:
        """Nothing to prepare: the client connects on first use."""

    async def shutdown(self) -> None:
        """Close the Redis connections (when this limiter opened them)."""
        if self._own_client:
            await self._client.aclose()

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
        max_retries = call.retries(self._max_retries)
        windows = self._windows_for(data.get("chat_id"))
        for attempt in range(max_retries + 1):
            if not await self._wait_turn(windows, droppable=call.droppable):
                raise FloodSkipped(f"{endpoint} skipped: the shared flood budget is spent")
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                # The timedelta, as AIORateLimiter reads it (the public attribute may still be an int).
                wait = exc._retry_after.total_seconds() + RETRY_MARGIN_S
                await self._pause_all(wait)  # the answer is for the bot token: every replica waits
                if attempt == max_retries:
                    log.warning("Telegram flood control on %s after %d retries", endpoint, max_retries)
                    raise
                log.info("Telegram flood control on %s: every replica waits %.1f s", endpoint, wait)
        raise AssertionError("unreachable")  # pragma: no cover: the loop returns or raises

    def _windows_for(self, chat_id: object) -> list[tuple[str, Window]]:
        """The windows a request to ``chat_id`` counts in: none without a chat, the group's for groups."""
        if chat_id is None:
            return []
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)  # type: ignore[call-overload]
        windows = [(self._prefix + "all", self._windows["all"])]
        windows.append((f"{self._prefix}chat:{chat_id}", self._windows["chat"]))
        group = group_of(chat_id)
        if group is not None:
            windows.append((f"{self._prefix}group:{group}", self._windows["group"]))
        return windows

    async def _wait_turn(self, windows: list[tuple[str, Window]], *, droppable: bool = False) -> bool:
        """Sleep until every window has room, then take a place in each (one script, all or none).
        False, at once, for a ``droppable`` call that would have to wait."""
        keys = [self._prefix + "pause", *(key for key, _ in windows)]
        member = uuid.uuid4().hex
        while True:
            args: list[str | int] = [self._now_ms(), member]
            for _, (limit, period_s) in windows:
                args += [limit, round(period_s * 1000)]
            try:
                wait_ms = int(await self._take(keys=keys, args=args))
            except self._redis_errors as exc:
                log.warning("shared Telegram flood control unavailable, sending anyway: %s", exc)
                return True
            finally:
                raise_if_cancelled()  # redis-py may have swallowed a cancellation during the call
            if wait_ms <= 0:
                return True
            if droppable:
                return False
            # A little jitter so replicas woken by the same free place do not all ask at once.
            await self._sleep(wait_ms / 1000 + random.uniform(0.0, 0.005))

    async def _pause_all(self, seconds: float) -> None:
        until = self._now_ms() + round(seconds * 1000)
        try:
            await self._pause(keys=[self._prefix + "pause"], args=[until, round(seconds * 1000) + 60_000])
        except self._redis_errors as exc:
            log.warning("could not share Telegram's retry-after with the other replicas: %s", exc)
            await self._sleep(seconds)

    def _now_ms(self) -> int:
        return round(self._clock() * 1000)
