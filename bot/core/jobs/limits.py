"""Admission control: request rates (per user, per chat, overall), exemptions, cost estimates.

Rates use the ``limits`` library's moving windows in memory (they reset on restart, which is fine for
rates). The daily image quota is not here: it is a database counter (``HistoryStore.reserve_usage``)
so it survives restarts and concurrent requests cannot overshoot it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from limits import RateLimitItem, parse, storage, strategies

from bot.core.errors import LimitExceeded

LOCAL_PLATFORMS = frozenset({"console", "cli"})
"""The operator's own terminal: never rate limited."""


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
    """Moving-window rates; a request is counted only when every window has room for it."""

    def __init__(
        self, rates: Rates, *, admins: Iterable[str] = (), wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._items: dict[str, RateLimitItem] = {
            "user": parse(rates.user),
            "chat": parse(rates.chat),
            "overall": parse(rates.overall),
        }
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self._admins = frozenset(admins)
        self._wall_clock = wall_clock

    def is_exempt(self, platform: str, user_id: str) -> bool:
        return platform in LOCAL_PLATFORMS or f"{platform}:{user_id}" in self._admins

    def admit(self, *, platform: str, chat_id: str, user_id: str) -> None:
        """Count one request or raise ``LimitExceeded`` naming the window and when it frees up."""
        if self.is_exempt(platform, user_id):
            return
        keys = {
            "user": (f"{platform}:{user_id}",),
            "chat": (f"{platform}:{chat_id}",),
            "overall": ("all",),
        }
        for scope, item in self._items.items():
            if not self._limiter.test(item, *keys[scope]):
                stats = self._limiter.get_window_stats(item, *keys[scope])
                wait = max(1.0, stats.reset_time - self._wall_clock())
                whose = {"user": "You are", "chat": "This chat is", "overall": "Everyone is"}[scope]
                raise LimitExceeded(
                    f"{scope} rate {item} exceeded",
                    scope=scope,
                    retry_after=wait,
                    user_message=f"{whose} sending requests too fast ({item}). "
                    f"Try again in about {humanize_seconds(wait)}.",
                )
        for scope, item in self._items.items():
            self._limiter.hit(item, *keys[scope])


def estimate_cost(prices: Mapping[str, float], provider: str, model: str | None, images: int) -> float:
    """Estimated USD for ``images`` images: ``provider/model`` price, else ``provider``, else 0."""
    price = prices.get(f"{provider}/{model}") if model else None
    if price is None:
        price = prices.get(provider, 0.0)
    return round(price * images, 4)
