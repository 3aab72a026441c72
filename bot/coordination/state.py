"""The state several replicas must share, in Redis when ``redis_url`` is set, in memory otherwise.

``open_shared_state`` is what the composition root calls once at start: it returns the rate-limit
storage for ``RateLimiter(storage=...)`` and the breaker store and slots for
``ProviderChain(breakers=..., slots=...)``, then ``aclose()`` at the end. Without Redis these are the
in-process defaults the core uses anyway (one process, no Redis needed). With Redis: the ``limits``
library's Redis storage (keys ``easel:limits:…``), ``RedisBreakers`` (``easel:breaker:<provider>``) and
``RedisSlots`` (``easel:slots:<provider>``), all on one connection pool.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from limits.aio.storage import MemoryStorage, Storage

from bot.core.errors import ConfigError
from bot.core.generation.chain import MemorySlots, Slots
from bot.core.generation.resilience import BreakerStore, MemoryBreakers
from bot.core.ports import SlotClaims
from bot.observability.masking import redact_url

if TYPE_CHECKING:
    from redis.asyncio import Redis

NAMESPACE = "easel"
CONNECT_TIMEOUT_S = 5.0


@dataclass
class SharedState:
    """What ``open_shared_state`` hands the composition root."""

    rate_storage: Storage
    """For ``RateLimiter(..., storage=...)``."""
    breakers: BreakerStore
    """For ``ProviderChain(..., breakers=...)``."""
    slots: Slots
    """For ``ProviderChain(..., slots=...)``."""
    claims: SlotClaims | None = None
    """For each backend pool's ``share(...)`` (None in memory: a pool's own caps are enough)."""
    redis: Redis | None = None
    """The shared client (None in memory), for whatever else wants Redis on the same pool."""
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list, repr=False)

    @property
    def shared(self) -> bool:
        """Whether these hold across replicas (Redis) rather than in this process only."""
        return self.redis is not None

    async def aclose(self) -> None:
        """Close the Redis connections (nothing to do in memory). Safe to call twice."""
        closers, self._closers = self._closers, []
        for close in closers:
            await close()


def in_memory() -> SharedState:
    """This process only: the single-process default."""
    return SharedState(
        rate_storage=MemoryStorage(wrap_exceptions=True), breakers=MemoryBreakers(), slots=MemorySlots()
    )


async def open_shared_state(
    redis_url: str | None,
    *,
    namespace: str = NAMESPACE,
    clock: Callable[[], float] = time.time,
    slot_ttl_s: float = 30.0,
) -> SharedState:
    """Shared state on Redis at ``redis_url`` (checked with a PING), or in memory when it is None.

    Raises ``ConfigError`` naming the (redacted) URL when Redis does not answer: replicas that were
    meant to share limits must not start without them. ``clock`` (wall seconds) stamps breakers and
    slots; ``namespace`` prefixes every key (tests use their own).
    """
    if redis_url is None:
        return in_memory()
    # imported only with Redis configured (~50 ms at start otherwise)
    from limits.aio.storage import RedisStorage
    from redis.asyncio import ConnectionPool, Redis
    from redis.exceptions import RedisError

    from bot.coordination.breakers import RedisBreakers
    from bot.coordination.slots import RedisSlots

    pool = ConnectionPool.from_url(
        redis_url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=CONNECT_TIMEOUT_S
    )
    client = Redis(connection_pool=pool)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        await pool.aclose()
        raise ConfigError(f"Cannot reach Redis at {redact_url(redis_url)} (redis_url): {exc}") from exc
    rate_storage = RedisStorage(
        "async+redis://",
        implementation="redispy",
        key_prefix=f"{namespace}:limits",
        wrap_exceptions=True,
        connection_pool=pool,  # type: ignore[arg-type]  # documented; typed as the URL options
    )

    async def close() -> None:
        await client.aclose()
        await pool.aclose()

    slots = RedisSlots(client, namespace=namespace, clock=clock, ttl_s=slot_ttl_s)
    return SharedState(
        rate_storage=rate_storage,
        breakers=RedisBreakers(client, namespace=namespace, clock=clock),
        slots=slots,
        claims=slots,
        redis=client,
        _closers=[close],
    )


async def redis_latency_ms(redis_url: str) -> float:
    """Milliseconds of one PING to Redis at ``redis_url``; raises ``ConfigError`` when it does not answer."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(
        redis_url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=CONNECT_TIMEOUT_S
    )
    try:
        await client.ping()  # connect first: the latency is one round trip, not the handshake
        started = time.perf_counter()
        await client.ping()
        return (time.perf_counter() - started) * 1000
    except (RedisError, OSError) as exc:
        raise ConfigError(f"Redis at {redact_url(redis_url)} does not answer: {exc}") from exc
    finally:
        await client.aclose()
