"""Discord's errors → ``DeliveryFailed`` (``raise ... from exc``), so the core only sees its own tree.

403 is permanent and carries a message for the invoker; 429s reach this point only when discord.py gave
up on them (it sleeps on and retries every 429 whose response has a ``Via`` header), so they are
transient, as are 5xx and network errors; 404 and other 4xx are permanent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp
import discord

from bot.core.errors import DeliveryFailed
from bot.core.i18n import N_, _

log = logging.getLogger(__name__)
T = TypeVar("T")
MISSING_PERMISSIONS = N_(
    "I can't post in this channel: I'm missing permissions here (I need View Channel, Send Messages, "
    "Attach Files and Embed Links). Ask a server admin to grant them, or use me in another channel."
)
"""Shown translated (``_(MISSING_PERMISSIONS)``) in the language of the request."""


async def call(request: Awaitable[T]) -> T:
    """Await one Discord call with its errors turned into ``DeliveryFailed``."""
    try:
        return await request
    except discord.Forbidden as exc:
        raise DeliveryFailed(
            f"discord forbids it: {exc.code} {exc.text}", permanent=True, user_message=_(MISSING_PERMISSIONS)
        ) from exc
    except discord.NotFound as exc:
        raise DeliveryFailed(f"discord: not found: {exc.code} {exc.text}", permanent=True) from exc
    except discord.DiscordServerError as exc:
        raise DeliveryFailed(f"discord server error: {exc.status}", permanent=False) from exc
    except discord.RateLimited as exc:
        raise DeliveryFailed(
            f"discord rate limit: retry after {exc.retry_after}s",
            permanent=False,
            retry_after=exc.retry_after,
        ) from exc
    except discord.HTTPException as exc:
        transient = exc.status == 429 or exc.status >= 500
        raise DeliveryFailed(
            f"discord refused: {exc.status} {exc.code} {exc.text}", permanent=not transient
        ) from exc
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise DeliveryFailed(f"discord unreachable: {exc!r}", permanent=False) from exc


async def attempt(request: Awaitable[Any]) -> None:
    """A best-effort call (cleaning up, telling someone): a failure is only logged."""
    try:
        await call(request)
    except DeliveryFailed as exc:
        log.info("discord best-effort call failed: %s", exc)


def forbidden(exc: DeliveryFailed) -> bool:
    return isinstance(exc.__cause__, discord.Forbidden)


def gone(exc: DeliveryFailed) -> bool:
    """Discord no longer knows the interaction (unknown webhook/interaction, expired token)."""
    cause = exc.__cause__
    if isinstance(cause, discord.NotFound):
        return True
    return isinstance(cause, discord.HTTPException) and cause.status == 401
