"""Circuit breakers shared by every replica: one Redis hash per provider, changed by Lua scripts.

``easel:breaker:<provider>`` holds ``failures`` (consecutive), ``opened_at`` and, while a half-open
probe is out, ``probe`` (its holder's token) and ``probe_until`` (when it is presumed lost). Times are
milliseconds of the injected wall clock (replicas keep their clocks in step with NTP). Each change is one
script, so two replicas cannot both take the probe or both miss the threshold-th failure. A closed
breaker with no failures has no key; every write renews the key's TTL, so nothing outlives its use.

The rules are ``CircuitBreaker``'s (``bot.core.generation.resilience``), shared. When Redis cannot be
reached a call is let through and the outcome is not recorded: a breaker is an optimisation, not a
reason to stop generating.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.core.generation.resilience import (
    BreakerPass,
    BreakerPolicy,
    BreakerStatus,
    status_of,
)

log = logging.getLogger(__name__)

KEY_TTL_S = 24 * 3600.0
"""A breaker nobody touched for a day is forgotten (closed)."""

_FACTS = "local f = redis.call('HMGET', k, 'failures', 'opened_at', 'probe_until')\n"
_RETURN = "return {verdict, tonumber(f[1]) or 0, tonumber(f[2]) or -1, tonumber(f[3]) or -1}\n"

ALLOW = (
    """
local k = KEYS[1]
local now, reset, probe_ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local token, key_ttl = ARGV[4], tonumber(ARGV[5])
"""
    + _FACTS
    + """
local opened, probe_until = tonumber(f[2]), tonumber(f[3])
local verdict = 0
if not opened then
  verdict = 1
elseif now - opened >= reset and not (probe_until and probe_until > now) then
  f[3] = now + probe_ttl
  redis.call('HSET', k, 'probe', token, 'probe_until', f[3])
  redis.call('PEXPIRE', k, key_ttl)
  verdict = 2
end
"""
    + _RETURN
)
"""0: refused (open, or half-open with the probe out); 1: closed, go; 2: go as the half-open probe."""

FAILURE = (
    """
local k = KEYS[1]
local now, reset = tonumber(ARGV[1]), tonumber(ARGV[2])
local threshold, key_ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local failures = redis.call('HINCRBY', k, 'failures', 1)
local opened = tonumber(redis.call('HGET', k, 'opened_at'))
if (opened and now - opened >= reset) or (not opened and failures >= threshold) then
  redis.call('HSET', k, 'opened_at', ARGV[1])
end
redis.call('HDEL', k, 'probe', 'probe_until')
redis.call('PEXPIRE', k, key_ttl)
local verdict = 1
"""
    + _FACTS
    + _RETURN
)
"""Count a failure; open (or reopen, restarting the timer) when due; the probe, if any, is over."""

RELEASE = (
    """
local k = KEYS[1]
if redis.call('HGET', k, 'probe') == ARGV[1] then
  redis.call('HDEL', k, 'probe', 'probe_until')
end
local verdict = 1
"""
    + _FACTS
    + _RETURN
)
"""Free the probe, only when the caller holds it."""

Facts = tuple[int, float | None, float | None]
"""failures, opened_at, probe_until (seconds)."""


class RedisBreakers:
    """``BreakerStore`` shared by every replica on one Redis (see the module docstring)."""

    def __init__(
        self,
        client: Redis,
        *,
        namespace: str = "easel",
        clock: Callable[[], float] = time.time,
        key_ttl_s: float = KEY_TTL_S,
    ) -> None:
        self._client = client
        self._prefix = f"{namespace}:breaker:"
        self._clock = clock
        self._key_ttl_s = key_ttl_s
        self._allow = client.register_script(ALLOW)
        self._failure = client.register_script(FAILURE)
        self._release = client.register_script(RELEASE)
        self._seen: dict[str, Facts] = {}

    def key(self, provider: str) -> str:
        return self._prefix + provider

    def _now_ms(self) -> int:
        return round(self._clock() * 1000)

    def _ttl_ms(self, policy: BreakerPolicy) -> int:
        return round(max(self._key_ttl_s, 2 * (policy.reset_after_s + policy.probe_ttl_s)) * 1000)

    def _remember(self, provider: str, answer: list[int]) -> int:
        verdict, failures, opened_at, probe_until = (int(value) for value in answer)
        self._seen[provider] = (
            failures,
            opened_at / 1000 if opened_at >= 0 else None,
            probe_until / 1000 if probe_until >= 0 else None,
        )
        return verdict

    async def allow(self, provider: str, policy: BreakerPolicy) -> BreakerPass | None:
        token = uuid.uuid4().hex
        args: list[str | int] = [
            self._now_ms(),
            round(policy.reset_after_s * 1000),
            round(policy.probe_ttl_s * 1000),
            token,
            self._ttl_ms(policy),
        ]
        try:
            verdict = self._remember(provider, await self._allow(keys=[self.key(provider)], args=args))
        except RedisError as exc:
            log.warning("circuit breaker of %s unavailable, call let through: %s", provider, exc)
            return BreakerPass(provider)
        if verdict == 0:
            return None
        return BreakerPass(provider, token if verdict == 2 else None)

    async def record_success(self, ticket: BreakerPass) -> None:
        try:
            await self._client.delete(self.key(ticket.provider))
        except RedisError as exc:
            log.warning("circuit breaker of %s unavailable, success not recorded: %s", ticket.provider, exc)
            return
        self._seen[ticket.provider] = (0, None, None)

    async def record_failure(self, ticket: BreakerPass, policy: BreakerPolicy) -> None:
        args = [
            self._now_ms(),
            round(policy.reset_after_s * 1000),
            policy.failure_threshold,
            self._ttl_ms(policy),
        ]
        try:
            self._remember(ticket.provider, await self._failure(keys=[self.key(ticket.provider)], args=args))
        except RedisError as exc:
            log.warning("circuit breaker of %s unavailable, failure not recorded: %s", ticket.provider, exc)

    async def release(self, ticket: BreakerPass) -> None:
        if ticket.probe is None:
            return
        try:
            answer = await self._release(keys=[self.key(ticket.provider)], args=[ticket.probe])
        except RedisError as exc:
            log.warning("circuit breaker of %s unavailable, probe left to expire: %s", ticket.provider, exc)
            return
        self._remember(ticket.provider, answer)

    async def statuses(self, providers: Sequence[str], policy: BreakerPolicy) -> dict[str, BreakerStatus]:
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for name in providers:
                    pipe.hmget(self.key(name), ["failures", "opened_at", "probe_until"])
                rows = await pipe.execute()
        except RedisError as exc:
            log.warning("circuit breakers unavailable, showing the last known states: %s", exc)
            return self.last_known(providers, policy)
        for name, (failures, opened_at, probe_until) in zip(providers, rows, strict=True):
            self._seen[name] = (
                int(failures or 0),
                int(opened_at) / 1000 if opened_at is not None else None,
                int(probe_until) / 1000 if probe_until is not None else None,
            )
        return self.last_known(providers, policy)

    def last_known(self, providers: Sequence[str], policy: BreakerPolicy) -> dict[str, BreakerStatus]:
        now = self._clock()
        known: dict[str, BreakerStatus] = {}
        for name in providers:
            failures, opened_at, probe_until = self._seen.get(name, (0, None, None))
            known[name] = status_of(
                failures=failures, opened_at=opened_at, probe_until=probe_until, policy=policy, now=now
            )
        return known
