"""Throttling access-token guesses: a few wrong tokens per client address in a moving window, then
429 with ``Retry-After`` for that address only (the right token still works from any other). Every
way of presenting the token counts: the login form, ``?token=`` and ``Authorization: Bearer``.

Keyed by ``request.remote``: behind a reverse proxy every browser shares the proxy's address, so a
guesser there slows everyone down (which is still better than letting the guessing go on).
"""

from __future__ import annotations

import math
import time

from aiohttp import web
from limits import parse, storage, strategies

from bot.core.i18n import _

WRONG_TOKENS = "5/minute"
"""Wrong access tokens one address may send before it has to wait."""


class LoginThrottle:
    def __init__(self, rate: str = WRONG_TOKENS) -> None:
        self._item = parse(rate)
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def check(self, request: web.Request) -> None:
        """Raise 429 while ``request``'s address has used up its wrong guesses."""
        address = _address(request)
        if self._limiter.test(self._item, address):
            return
        reset, _remaining = self._limiter.get_window_stats(self._item, address)
        wait = max(1, math.ceil(reset - time.time()))
        raise web.HTTPTooManyRequests(
            text=_("Too many wrong access tokens from your address. Try again in {seconds} s.").format(
                seconds=wait
            )
            + "\n",
            headers={"Retry-After": str(wait)},
        )

    def wrong(self, request: web.Request) -> None:
        """Count one wrong token from ``request``'s address."""
        self._limiter.hit(self._item, _address(request))


def _address(request: web.Request) -> str:
    return request.remote or "unknown"
