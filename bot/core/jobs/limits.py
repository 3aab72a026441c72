"""Admission control: request rates (per user, per chat, overall), exemptions, cost estimates.

Rates use the ``limits`` library's moving windows (``limits.aio``) on the storage the composition root
injects: in memory by default (one process; they reset on restart, which is fine for rates), or the
library's Redis storage, built outside the core, so that every replica counts in the same windows. The
daily image quota is not here: it is a database counter (``HistoryStore.reserve_usage``) so it survives
restarts and concurrent requests cannot overshoot it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from bot.core.errors import LimitExceeded
from bot.core.i18n import _

log = logging.getLogger(__name__)

LOCAL_PLATFORMS = frozenset({"console", "cli", "web"})
"""The operator's own consoles, never rate limited: the terminal, and the web chat (served on loopback
or behind ``web.auth_token``, which ``WebSettings`` requires off loopback: whoever uses it is the
operator, as its messages say with ``Incoming.is_admin``)."""


def humanize_seconds(seconds: float) -> str:
    seconds = max(1, math.ceil(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{math.ceil(seconds / 60)} min"
    hours = seconds / 3600
    return f"{hours:.0f} h" if hours >= 10 else f"{hours:.1f} h"


@dataclass(frozen=True, slots=True)
class Rates:
    user: str
    chat: str
    overall: str


class RateLimiter:
    """Moving-window rates; a request is counted only when every window has room for it.

    ``storage`` is a ``limits.aio`` storage with moving windows (default: ``MemoryStorage``, this
    process only); a shared one (Redis) makes the windows hold across replicas. A storage that fails
    (unreachable) admits the request and logs it: rates are protection, not a reason to stop serving.
    """

    def __init__(
        self,
        rates: Rates,
        *,
        admins: Iterable[str] = (),
        wall_clock: Callable[[], float] = time.time,
        storage: Storage | None = None,
    ) -> None:
        self._items: dict[str, RateLimitItem] = {
            "user": parse(rates.user),
            "chat": parse(rates.chat),
            "overall": parse(rates.overall),
        }
        self._limiter = MovingWindowRateLimiter(
            storage if storage is not None else MemoryStorage(wrap_exceptions=True)
        )
        self._admins = frozenset(admins)
        self._wall_clock = wall_clock
        self._lock = asyncio.Lock()  # one admission at a time in this process: exact, as before

    def is_exempt(self, platform: str, user_id: str) -> bool:
        return platform in LOCAL_PLATFORMS or f"{platform}:{user_id}" in self._admins

    async def admit(self, *, platform: str, chat_id: str, user_id: str) -> None:
        """Count one request or raise ``LimitExceeded`` naming the window and when it frees up.

        Every window is tested first, then each is hit (the storage's atomic check-and-add): another
        replica that took the last place in between makes the hit fail and the request is refused, so
        no window ever holds more than its rate (a window hit before the refused one keeps the count).
        """
        if self.is_exempt(platform, user_id):
            return
        keys = {
            "user": ("user", f"{platform}:{user_id}"),  # scoped: a private chat's id is its user's
            "chat": ("chat", f"{platform}:{chat_id}"),
            "overall": ("all",),
        }
        try:
            async with self._lock:
                for scope, item in self._items.items():
                    if not await self._limiter.test(item, *keys[scope]):
                        raise await self._exceeded(scope, item, keys[scope])
                for scope, item in self._items.items():
                    if not await self._limiter.hit(item, *keys[scope]):
                        raise await self._exceeded(scope, item, keys[scope])
        except StorageError as exc:
            log.warning("rate limits unavailable, request admitted: %s", exc.storage_error)

    async def _exceeded(self, scope: str, item: RateLimitItem, key: tuple[str, ...]) -> LimitExceeded:
        stats = await self._limiter.get_window_stats(item, *key)
        wait = max(1.0, stats.reset_time - self._wall_clock())
        text = {
            "user": _("You are sending requests too fast ({rate}). Try again in about {wait}."),
            "chat": _("This chat is sending requests too fast ({rate}). Try again in about {wait}."),
            "overall": _("Everyone is sending requests too fast ({rate}). Try again in about {wait}."),
        }[scope]
        return LimitExceeded(
            f"{scope} rate {item} exceeded",
            scope=scope,
            retry_after=wait,
            user_message=text.format(rate=item, wait=humanize_seconds(wait)),
        )


def estimate_cost(prices: Mapping[str, float], provider: str, model: str | None, images: int) -> float:
    """Estimated USD for ``images`` images: ``provider/model`` price, else ``provider``, else 0."""
    price = prices.get(f"{provider}/{model}") if model else None
    if price is None:
        price = prices.get(provider, 0.0)
    return round(price * images, 4)
