"""Waiting for a remote job: the poll loop of the asynchronous clouds (flux, replicate), written once.

A provider submits a job, then hands :func:`poll` a *step*: one look at the job, returning the result
when it is done, ``None`` while it is not, or raising the :class:`~bot.core.errors.ProviderError` the
job ended in. The loop sleeps ``interval_s`` between looks and gives up with ``ProviderTimeout`` at the
deadline; sleep and clock are injectable, so tests run without waiting::

    timing = PollTiming(interval_s=1.0, timeout_s=300.0, sleep=asyncio.sleep)
    result = await poll(step, provider="flux", timing=timing)     # step(elapsed_s) -> T | None

:class:`ProgressReporter` turns whatever a poll says about progress (a fraction, a percentage, or
nothing, then :func:`estimate`) into ``on_progress`` calls that only ever grow and stay below 1 until
the end. :func:`trusted_url` decides whether a URL handed out by the remote server (a polling URL) may
be fetched with the API key.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from bot.core.errors import ProviderTimeout
from bot.core.i18n import _
from bot.core.ports import ProgressCallback
from bot.providers._http.errors import TIMEOUT_TEXT
from bot.providers._http.media import base_is_local

__all__ = [
    "Clock",
    "PollTiming",
    "ProgressReporter",
    "Sleep",
    "as_fraction",
    "estimate",
    "poll",
    "poll_timeout_s",
    "trusted_url",
]

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

DEFAULT_POLL_TIMEOUT_S = 300.0
PROGRESS_CEILING = 0.95


@dataclass(frozen=True, slots=True)
class PollTiming:
    """How often to look and for how long; ``sleep`` and ``clock`` are swapped out in tests."""

    interval_s: float = 1.0
    timeout_s: float = DEFAULT_POLL_TIMEOUT_S
    sleep: Sleep = field(default=asyncio.sleep)
    clock: Clock = field(default=time.monotonic)


async def poll(step: Callable[[float], Awaitable[T | None]], *, provider: str, timing: PollTiming) -> T:
    """Call ``step(elapsed_s)`` until it returns a result; ``ProviderTimeout`` after ``timeout_s``."""
    start = timing.clock()
    looks = 0
    while True:
        result = await step(timing.clock() - start)
        looks += 1
        if result is not None:
            return result
        elapsed = timing.clock() - start
        if elapsed + timing.interval_s > timing.timeout_s:
            raise ProviderTimeout(
                f"{provider}: no result after {elapsed:.0f} s ({looks} polls)",
                provider=provider,
                user_message=_(TIMEOUT_TEXT),
            )
        await timing.sleep(timing.interval_s)


def poll_timeout_s(configured_s: float | None, client: httpx.AsyncClient) -> float:
    """The overall polling bound: ``timeout_s`` from the settings, else the client's read timeout."""
    if configured_s:
        return configured_s
    read = client.timeout.read
    return read if read else DEFAULT_POLL_TIMEOUT_S


def estimate(elapsed_s: float, typical_s: float) -> float:
    """A gentle made-up progress for APIs that report none: ~57 % at ``typical_s``, never past 0.9."""
    return 0.9 * (1.0 - math.exp(-max(0.0, elapsed_s) / max(typical_s, 0.001)))


def as_fraction(value: object) -> float | None:
    """A progress value that may be a fraction (0-1) or a percentage (0-100); None if it is neither."""
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    number = float(value)
    if number < 0:
        return None
    return min(1.0, number / 100 if number > 1 else number)


class ProgressReporter:
    """Forwards progress to ``on_progress``: growing only, capped below 1 until :meth:`done`."""

    def __init__(self, on_progress: ProgressCallback, *, ceiling: float = PROGRESS_CEILING) -> None:
        self._on_progress = on_progress
        self._ceiling = ceiling
        self.last = 0.0

    async def report(self, fraction: float | None) -> None:
        if fraction is None:
            return
        fraction = min(self._ceiling, max(0.0, fraction))
        if fraction >= self.last + 0.01:
            self.last = fraction
            await self._on_progress(fraction, None)

    async def done(self) -> None:
        self.last = 1.0
        await self._on_progress(1.0, None)


def trusted_url(url: str, *, base: str, hosts: tuple[str, ...]) -> bool:
    """Whether a URL the server handed out may be fetched with our key.

    Yes for the configured base's own origin; for ``https`` on one of ``hosts`` (exactly, or a
    subdomain of one written with a leading dot, e.g. ``.bfl.ai``); and for any http(s) URL when the
    configured base is itself a local server (tests, local proxies). No otherwise.
    """
    parts, origin = urlsplit(url), urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if (parts.scheme, parts.hostname, parts.port) == (origin.scheme, origin.hostname, origin.port):
        return True
    if base_is_local(base):
        return True
    if parts.scheme != "https" or parts.username or parts.password:
        return False
    host = parts.hostname.lower()
    return any(host == h or (h.startswith(".") and host.endswith(h)) for h in hosts)
