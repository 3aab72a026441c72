"""A semaphore shared by every replica: the holders of ``name`` in a Redis sorted set with expiries.

``easel:slots:<name>`` scores each holder's token by the moment its claim runs out (milliseconds of the
injected wall clock; replicas keep their clocks in step with NTP). Taking a slot is one Lua script:
drop the expired claims, then join if fewer than ``limit`` remain. A holder renews its claim every
``ttl_s / 3`` while it holds the slot and removes it on exit, also when cancelled; a replica that is
killed stops renewing, so its slot frees itself ``ttl_s`` later. Waiters poll (jittered, ``poll_s``);
a release in this process wakes this process's waiters at once. Waiting is not first-come first-served
across replicas (the job queue decides fairness); a waiter only ever joins when there is room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.core.waiting import raise_if_cancelled, wait_event

log = logging.getLogger(__name__)

ACQUIRE = """
local k, now, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local token, expiry, key_ttl = ARGV[3], ARGV[4], tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
if redis.call('ZSCORE', k, token) or redis.call('ZCARD', k) < limit then
  redis.call('ZADD', k, expiry, token)
  redis.call('PEXPIRE', k, key_ttl)
  return 1
end
return 0
"""
"""1 when ``token`` holds one of the ``limit`` slots (now or already), else 0."""

RENEW = """
local k, token, expiry, key_ttl = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('ZSCORE', k, token) then
  redis.call('ZADD', k, 'XX', expiry, token)
  redis.call('PEXPIRE', k, key_ttl)
  return 1
end
return 0
"""
"""Push a held claim's expiry on; 0 when the claim is gone (it ran out and another took the slot)."""


class RedisSlots:
    """``Slots`` shared by every replica on one Redis (see the module docstring)."""

    def __init__(
        self,
        client: Redis,
        *,
        namespace: str = "easel",
        clock: Callable[[], float] = time.time,
        ttl_s: float = 30.0,
        poll_s: float = 0.1,
        renew_s: float | None = None,
    ) -> None:
        if ttl_s <= 0 or poll_s <= 0:
            raise ValueError("ttl_s and poll_s must be > 0")
        self._client = client
        self._prefix = f"{namespace}:slots:"
        self._clock = clock
        self._ttl_s = ttl_s
        self._poll_s = poll_s
        self._renew_s = renew_s if renew_s is not None else ttl_s / 3
        self._acquire = client.register_script(ACQUIRE)
        self._renew = client.register_script(RENEW)
        self._released: dict[str, asyncio.Event] = {}

    def key(self, name: str) -> str:
        return self._prefix + name

    def _expiry_ms(self) -> int:
        return round((self._clock() + self._ttl_s) * 1000)

    def _key_ttl_ms(self) -> int:
        return round(self._ttl_s * 2000)

    async def try_acquire(self, name: str, limit: int, token: str) -> bool:
        """Take one of ``name``'s ``limit`` slots for ``token`` if one is free (no renewal: see ``hold``)."""
        now_ms = round(self._clock() * 1000)
        args: list[str | int] = [now_ms, limit, token, self._expiry_ms(), self._key_ttl_ms()]
        return bool(await self._acquire(keys=[self.key(name)], args=args))

    async def release(self, name: str, token: str) -> None:
        """Give ``token``'s slot back (nothing happens when it holds none)."""
        await self._client.zrem(self.key(name), token)

    async def claim(self, name: str, limit: int) -> Callable[[], Awaitable[None]] | None:
        """``SlotClaims``: one of ``name``'s slots now (renewed until the returned function gives it
        back), or ``None`` when all are taken or Redis is unreachable (the caller tries again)."""
        token = uuid.uuid4().hex
        try:
            taken = await self.try_acquire(name, limit, token)
        except RedisError as exc:
            log.warning("concurrency slots of %s unavailable, waiting: %s", name, exc)
            return None
        except BaseException:
            await asyncio.shield(self._give_back(name, token))
            raise
        try:
            raise_if_cancelled()  # redis-py may have swallowed a cancellation during the call
        except asyncio.CancelledError:
            await asyncio.shield(self._give_back(name, token))
            raise
        if not taken:
            return None
        renewing = asyncio.create_task(self._keep(name, token), name=f"slot renewal {name}")

        async def give_back() -> None:
            renewing.cancel()
            await asyncio.shield(self._give_back(name, token))

        return give_back

    @contextlib.asynccontextmanager
    async def hold(self, name: str, limit: int) -> AsyncIterator[None]:
        """Wait for one of ``name``'s ``limit`` slots, hold (and renew) it for the body, then free it."""
        token = uuid.uuid4().hex
        try:
            await self._wait_for_slot(name, limit, token)
        except BaseException:
            # Cancelled (the deadline) while asking: the last script may have run; never keep a slot.
            await asyncio.shield(self._give_back(name, token))
            raise
        renewing = asyncio.create_task(self._keep(name, token), name=f"slot renewal {name}")
        try:
            yield
        finally:
            renewing.cancel()
            await asyncio.shield(self._give_back(name, token))

    async def _wait_for_slot(self, name: str, limit: int, token: str) -> None:
        while True:
            released = self._released.setdefault(name, asyncio.Event())
            try:
                taken = await self.try_acquire(name, limit, token)
            except RedisError as exc:
                log.warning("concurrency slots of %s unavailable, waiting: %s", name, exc)
                taken = False
            raise_if_cancelled()  # redis-py may have swallowed a cancellation during the call
            if taken:
                return
            await wait_event(released, self._poll_s * random.uniform(0.5, 1.5))

    async def _keep(self, name: str, token: str) -> None:
        while True:
            await asyncio.sleep(self._renew_s)
            raise_if_cancelled()
            try:
                held = await self._renew(
                    keys=[self.key(name)], args=[token, self._expiry_ms(), self._key_ttl_ms()]
                )
            except RedisError as exc:
                log.warning(
                    "could not renew a slot of %s (it frees itself in %.0f s): %s", name, self._ttl_s, exc
                )
                continue
            if not held:
                log.warning("a slot of %s ran out before it was renewed; another replica may have it", name)
                return

    async def _give_back(self, name: str, token: str) -> None:
        try:
            await self.release(name, token)
        except RedisError as exc:
            log.warning("could not free a slot of %s (it frees itself in %.0f s): %s", name, self._ttl_s, exc)
        released = self._released.pop(name, None)
        if released is not None:
            released.set()
