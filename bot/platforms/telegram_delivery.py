"""The ``telegram`` Platform: replies and job progress out through PTB's bot.

Telegram's errors are converted here (``raise DeliveryFailed(...) from exc``): ``Forbidden`` (blocked,
kicked) is permanent and marks the chat so nothing more is sent there until its user writes again;
``RetryAfter`` left over after the rate limiter's retries, time-outs and other network errors are
transient (the job runner delivers later); other ``BadRequest`` answers are permanent. A group that
became a supergroup (``ChatMigrated``) is remembered and the send is made again at its new id.

Fewer Bot API calls per job (each is a round trip, and Telegram rate-limits them): a chat action is not
repeated while the previous one still shows (Telegram shows it for 5 s, or until the bot sends a
message), and a progress update that would replace a status line shown for under a second is skipped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram import Bot, InputMediaPhoto, Message, ReplyParameters
from telegram.constants import ChatAction
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.core import imaging
from bot.core.errors import DeliveryFailed
from bot.core.types import Done, Failed, JobEvent, Progress, Reply, Started, StoredImage, Target
from bot.platforms import telegram_render as render
from bot.platforms.telegram_updates import PLATFORM, split_chat_key

log = logging.getLogger(__name__)
T = TypeVar("T")
NETWORK_RETRIES = 2
NETWORK_BACKOFF_S = 0.5
ACTION_SHOWN_S = 4.0
"""Telegram shows a chat action for 5 s: one sent here less than this ago is not sent again."""
PROGRESS_MIN_GAP_S = 1.0
"""A progress update is not shown when the status line changed less than this ago."""
ACTIONS_REMEMBERED = 10_000


@dataclass
class _Status:
    chat_id: int
    message_id: int
    text: str
    reply_to: str | None
    changed_at: float = 0.0


class TelegramDelivery:
    """Implements :class:`bot.core.ports.Platform` for one bot."""

    name = PLATFORM

    def __init__(self, bot: Bot, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._bot = bot
        self._clock = clock
        self._actions: dict[tuple[int, int | None], float] = {}
        """(chat, thread) → when a chat action was sent there; forgotten when a message is sent."""
        self._blocked: set[int] = set()
        self._moved: dict[int, int] = {}
        """Group id → the id of the supergroup it became."""
        self._status: dict[int, _Status] = {}
        """Job id → its status message ("Queued (#2)", "Generating… 40%")."""
        self._failed_status: dict[tuple[int, str | None], _Status] = {}
        """(chat, replied message) → a status message already showing a failure reason."""

    def unblock(self, chat_id: int) -> None:
        """The chat's user wrote again: sending there works again."""
        self._blocked.discard(chat_id)

    def is_blocked(self, chat_id: int) -> bool:
        return chat_id in self._blocked

    # --------------------------------------------------------------------------------------- send

    async def send(self, target: Target, reply: Reply) -> list[str]:
        chat_id, thread_id = self._where(target)
        try:
            return await self._send(chat_id, thread_id, target, reply)
        except DeliveryFailed as exc:
            if self._note_move(chat_id, exc):
                return await self._send(self._moved[chat_id], thread_id, target, reply)
            self._note_block(chat_id, exc)
            raise

    async def _send(self, chat_id: int, thread_id: int | None, target: Target, reply: Reply) -> list[str]:
        if reply.is_error:
            shown = self._failed_status.pop((chat_id, target.reply_to_message_id), None)
            if shown is not None:  # the status message already says why: do not say it twice
                if shown.text != render.status_text(Failed(reason=reply.text)):
                    await self._try(lambda: self._edit_status(shown, render.caption(reply, render.MAX_TEXT)))
                return [str(shown.message_id)]
        common: dict[str, Any] = {"chat_id": chat_id, "message_thread_id": thread_id}
        reply_to = _reply_id(target)
        if reply_to is not None:
            common["reply_parameters"] = ReplyParameters(reply_to, allow_sending_without_reply=True)
        requester = int(target.user_id) if target.user_id.isdigit() else None
        if not reply.images:
            ids: list[str] = []
            for piece in render.split_text(render.caption(reply, render.MAX_TEXT * 4)):
                sent = await self._call(functools.partial(self._bot.send_message, text=piece, **common))
                ids.append(str(sent.message_id))
            self._message_sent(chat_id, thread_id)
            return ids
        photos = await asyncio.gather(*(asyncio.to_thread(_fitted, image) for image in reply.images))
        await self._try(lambda: self._action(chat_id, thread_id))
        if len(photos) == 1:
            markup = render.keyboard(reply, requester=requester, count=1)
            message = await self._call(
                lambda: self._bot.send_photo(
                    photo=photos[0], caption=render.caption(reply), reply_markup=markup, **common
                )
            )
            self._message_sent(chat_id, thread_id)
            return [str(message.message_id)]
        try:
            return await self._send_album(reply, photos, common, requester)
        finally:
            self._message_sent(chat_id, thread_id)

    async def _send_album(
        self, reply: Reply, photos: list[bytes], common: dict[str, Any], requester: int | None
    ) -> list[str]:
        messages: list[Message] = []
        total = len(photos)
        for start in range(0, total, render.ALBUM_MAX):
            chunk = photos[start : start + render.ALBUM_MAX]
            if len(chunk) == 1:  # an album needs two: a lone eleventh photo goes on its own
                lone = render.album_caption(reply, start, total)
                messages.append(
                    await self._call(
                        functools.partial(self._bot.send_photo, photo=chunk[0], caption=lone, **common)
                    )
                )
                continue
            media = [
                InputMediaPhoto(data, caption=render.album_caption(reply, start + i, total))
                for i, data in enumerate(chunk)
            ]
            messages.extend(
                await self._call(functools.partial(self._bot.send_media_group, media=media, **common))
            )
        ids = [str(m.message_id) for m in messages]
        markup = render.keyboard(reply, requester=requester, count=len(messages) + 1)
        if markup is not None:
            under = dict(common, reply_parameters=ReplyParameters(messages[0].message_id))
            text = render.keyboard_text(reply, total)
            keys = await self._call(lambda: self._bot.send_message(text=text, reply_markup=markup, **under))
            ids.append(str(keys.message_id))
        return ids

    # -------------------------------------------------------------------------------------- event

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        chat_id, thread_id = self._where(target)
        try:
            await self._event(chat_id, thread_id, target, job_id, event)
        except DeliveryFailed as exc:
            if self._note_move(chat_id, exc):
                await self._event(self._moved[chat_id], thread_id, target, job_id, event)
                return
            self._note_block(chat_id, exc)
            raise

    async def _event(
        self, chat_id: int, thread_id: int | None, target: Target, job_id: int, event: JobEvent
    ) -> None:
        status = self._status.get(job_id)
        text = render.status_text(event)
        if isinstance(event, Started | Progress):
            await self._try(lambda: self._action(chat_id, thread_id))
        if text is None:  # done: the result speaks for itself
            if status is not None and isinstance(event, Done):
                del self._status[job_id]
                await self._try(
                    functools.partial(self._bot.delete_message, status.chat_id, status.message_id)
                )
            return
        if status is None:
            reply_to = _reply_id(target)
            reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
            message = await self._call(
                lambda: self._bot.send_message(
                    chat_id, text, message_thread_id=thread_id, reply_parameters=reply
                )
            )
            self._message_sent(chat_id, thread_id)
            status = _Status(chat_id, message.message_id, text, target.reply_to_message_id, self._clock())
            self._status[job_id] = status
        elif text != status.text:
            if isinstance(event, Progress) and self._clock() - status.changed_at < PROGRESS_MIN_GAP_S:
                return
            await self._edit_status(status, text)
        if isinstance(event, Failed):
            self._status.pop(job_id, None)
            self._failed_status[(chat_id, status.reply_to)] = status

    async def _edit_status(self, status: _Status, text: str) -> None:
        try:
            await self._call(lambda: self._bot.edit_message_text(text, status.chat_id, status.message_id))
        except DeliveryFailed as exc:
            if "not modified" not in str(exc).lower():
                raise
        status.text = text
        status.changed_at = self._clock()

    # ------------------------------------------------------------------------------------ helpers

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
            except Forbidden as exc:
                raise DeliveryFailed(f"telegram forbids sending: {exc.message}", permanent=True) from exc
            except ChatMigrated as exc:
                raise DeliveryFailed(f"chat moved to {exc.new_chat_id}", permanent=True) from exc
            except RetryAfter as exc:
                raise DeliveryFailed(f"flood control: {exc}", permanent=False) from exc
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
        if len(self._actions) >= ACTIONS_REMEMBERED:
            self._actions.clear()
        self._actions[where] = now
        try:
            return await self._bot.send_chat_action(
                chat_id, ChatAction.UPLOAD_PHOTO, message_thread_id=thread_id
            )
        except BaseException:
            self._actions.pop(where, None)
            raise

    def _message_sent(self, chat_id: int, thread_id: int | None) -> None:
        """A message from the bot ends the chat action in Telegram's clients."""
        self._actions.pop((chat_id, thread_id), None)


def _reply_id(target: Target) -> int | None:
    """The message to answer: ``extra["reply_to"]`` (a pressed button's message), else the request."""
    value = target.extra.get("reply_to", target.reply_to_message_id)
    return int(value) if value is not None and str(value).isdigit() else None


def _fitted(image: StoredImage) -> bytes:
    return imaging.fit_photo(image.path.read_bytes())
