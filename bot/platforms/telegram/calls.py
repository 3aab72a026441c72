"""Bot API calls for the Telegram delivery: Telegram's errors converted, moved and blocked chats
remembered, chat actions not repeated while one still shows.

Telegram's errors are converted here (``raise DeliveryFailed(...) from exc``): ``Forbidden`` (blocked,
kicked) is permanent and marks the chat so nothing more is sent there until its user writes again;
``RetryAfter`` left over after the rate limiter's retries, time-outs and other network errors are
transient (the job runner delivers later); other ``BadRequest`` answers are permanent. A group that
became a supergroup (``ChatMigrated``) is remembered and the call is made again at its new id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.core.errors import DeliveryFailed
from bot.core.types import Target
from bot.platforms.telegram.flood import SharedFloodLimiter
from bot.platforms.telegram.lanes import COSMETIC, Call, FloodSkipped, PriorityFloodLimiter
from bot.platforms.telegram.updates import split_chat_key

log = logging.getLogger(__name__)
T = TypeVar("T")
NETWORK_RETRIES = 2
NETWORK_BACKOFF_S = 0.5
ACTION_SHOWN_S = 4.0
"""Telegram shows a chat action for 5 s: one sent here less than this ago is not sent again."""
ACTIONS_REMEMBERED = 10_000
LANED = (PriorityFloodLimiter, SharedFloodLimiter)
"""The rate limiters that understand lanes (PTB's own read ``rate_limit_args`` as a retry count)."""


class BotCalls:
    """The call plumbing :class:`~bot.platforms.telegram.delivery.TelegramDelivery` sends through."""

    def __init__(self, bot: Bot, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._bot = bot
        self._clock = clock
        self._actions: dict[tuple[int, int | None], float] = {}
        """(chat, thread) → when a chat action was sent there; forgotten when a message is sent."""
        self._blocked: set[int] = set()
        self._moved: dict[int, int] = {}
        """Group id → the id of the supergroup it became."""

    def _lane(self, call: Call) -> dict[str, Any]:
        """The keyword that puts a call in ``call``'s lane (a bot without Easel's limiters takes none)."""
        if isinstance(self._bot, ExtBot) and isinstance(self._bot.rate_limiter, LANED):
            return {"rate_limit_args": call}
        return {}

    def _dropped(self, call: Call, chat_id: int) -> bool:
        """Whether the flood limiter would skip this droppable call now (checked before building it)."""
        limiter = self._bot.rate_limiter if isinstance(self._bot, ExtBot) else None
        return isinstance(limiter, PriorityFloodLimiter) and limiter.would_drop(call, chat_id)

    def _skip_if_dropped(self, call: Call, chat_id: int, what: str) -> None:
        """Raise what the limiter would (``DeliveryFailed`` from ``FloodSkipped``) without the call."""
        if self._dropped(call, chat_id):
            skip = FloodSkipped(f"{what} skipped: the flood budget is kept for results")
            raise DeliveryFailed(str(skip), permanent=False) from skip

    def unblock(self, chat_id: int) -> None:
        """The chat's user wrote again: sending there works again."""
        self._blocked.discard(chat_id)

    def is_blocked(self, chat_id: int) -> bool:
        return chat_id in self._blocked

    async def _at(self, target: Target, op: Callable[[int, int | None], Awaitable[T]]) -> T:
        """``op(chat, thread)`` at the target's chat: once more at its new id if it became a supergroup;
        a chat that blocked the bot is remembered."""
        chat_id, thread_id = self._where(target)
        try:
            return await op(chat_id, thread_id)
        except DeliveryFailed as exc:
            if self._note_move(chat_id, exc):
                return await op(self._moved[chat_id], thread_id)
            self._note_block(chat_id, exc)
            raise

    def _where(self, target: Target) -> tuple[int, int | None]:
        chat_id, thread_id = split_chat_key(target.chat_id)
        chat_id = self._moved.get(chat_id, chat_id)
        thread = target.extra.get("thread_id", thread_id)
        if chat_id in self._blocked:
            raise DeliveryFailed(f"telegram chat {chat_id} has blocked the bot", permanent=True)
        return chat_id, int(thread) if thread is not None else None

    async def _call(self, make: Callable[[], Awaitable[T]]) -> T:
        """One Bot API call with Telegram's errors turned into ``DeliveryFailed``."""
        for attempt in range(NETWORK_RETRIES + 1):
            try:
                return await make()
            except FloodSkipped as exc:
                raise DeliveryFailed(str(exc), permanent=False) from exc
            except Forbidden as exc:
                raise DeliveryFailed(f"telegram forbids sending: {exc.message}", permanent=True) from exc
            except ChatMigrated as exc:
                raise DeliveryFailed(f"chat moved to {exc.new_chat_id}", permanent=True) from exc
            except RetryAfter as exc:
                wait = exc.retry_after
                seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
                raise DeliveryFailed(f"flood control: {exc}", permanent=False, retry_after=seconds) from exc
            except BadRequest as exc:
                raise DeliveryFailed(f"telegram refused: {exc.message}", permanent=True) from exc
            except NetworkError as exc:  # time-outs, 5xx, connection errors
                if attempt == NETWORK_RETRIES:
                    raise DeliveryFailed(f"telegram unreachable: {exc}", permanent=False) from exc
                log.info("telegram call failed (%s); retrying", exc)
                await asyncio.sleep(NETWORK_BACKOFF_S * 2**attempt)
            except TelegramError as exc:
                raise DeliveryFailed(f"telegram error: {exc}", permanent=False) from exc
        raise AssertionError("unreachable")

    async def _try(self, make: Callable[[], Awaitable[Any]]) -> None:
        """Best-effort calls (chat actions, cleaning up status messages): failures are only logged."""
        try:
            await self._call(make)
        except DeliveryFailed as exc:
            if isinstance(exc.__cause__, Forbidden):
                raise
            if not skipped(exc):
                log.info("telegram best-effort call failed: %s", exc)

    def _note_move(self, chat_id: int, exc: DeliveryFailed) -> bool:
        """True when ``exc`` says the chat became a supergroup (now remembered): send there instead."""
        if not isinstance(exc.__cause__, ChatMigrated) or chat_id in self._moved:
            return False
        log.info("telegram chat %s became supergroup %s", chat_id, exc.__cause__.new_chat_id)
        self._moved[chat_id] = int(exc.__cause__.new_chat_id)
        return True

    def _note_block(self, chat_id: int, exc: DeliveryFailed) -> None:
        if isinstance(exc.__cause__, Forbidden) and chat_id not in self._blocked:
            log.warning("telegram chat %s: %s; not sending there any more", chat_id, exc)
            self._blocked.add(chat_id)

    async def _action(self, chat_id: int, thread_id: int | None) -> bool:
        """Show "sending a photo…", unless the action sent here under ``ACTION_SHOWN_S`` ago still shows."""
        where = (chat_id, thread_id)
        now = self._clock()
        sent_at = self._actions.get(where)
        if sent_at is not None and now - sent_at < ACTION_SHOWN_S:
            return True
        if self._dropped(COSMETIC, chat_id):
            return False  # flood control keeps its room for results: not even built
        if len(self._actions) >= ACTIONS_REMEMBERED:
            self._actions.clear()
        self._actions[where] = now
        try:
            return await self._bot.send_chat_action(
                chat_id, ChatAction.UPLOAD_PHOTO, message_thread_id=thread_id, **self._lane(COSMETIC)
            )
        except BaseException:
            self._actions.pop(where, None)
            raise

    def _message_sent(self, chat_id: int, thread_id: int | None) -> None:
        """A message from the bot ends the chat action in Telegram's clients."""
        self._actions.pop((chat_id, thread_id), None)


def skipped(exc: DeliveryFailed) -> bool:
    """Whether a call was not sent because the flood budget went to results (``FloodSkipped``)."""
    return isinstance(exc.__cause__, FloodSkipped)


def reply_id(target: Target) -> int | None:
    """The message to answer: ``extra["reply_to"]`` (a pressed button's message), else the request."""
    value = target.extra.get("reply_to", target.reply_to_message_id)
    return int(value) if value is not None and str(value).isdigit() else None
