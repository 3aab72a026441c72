"""The ``telegram`` Platform: replies and job progress out through PTB's bot (the calls themselves,
Telegram's errors and moved or blocked chats are :mod:`.telegram_calls`).

Fewer Bot API calls per job (each is a round trip, and Telegram rate-limits them): a chat action is not
repeated while the previous one still shows (Telegram shows it for 5 s, or until the bot sends a
message), and a progress update that would replace a status line shown for under a second is skipped.

The status message ("Queued (#2)", "Generating… 40%") is shown lazily: only when the job has not
finished ``status_delay_s`` after its first event. A quick job costs a chat action and its photo, not a
status message sent, edited and deleted. A failure that came before its status was shown is said once,
by the failure reply that follows (``Reply.is_error``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters

from bot.core.errors import DeliveryFailed
from bot.core.types import Done, Failed, JobEvent, Progress, Reply, Started, StoredImage, Target
from bot.platforms.telegram import media, render
from bot.platforms.telegram.calls import BotCalls, reply_id, skipped
from bot.platforms.telegram.lanes import ANSWER, CLEANUP, COSMETIC, RESULT, STATUS, Call
from bot.platforms.telegram.updates import PLATFORM

log = logging.getLogger(__name__)
PROGRESS_MIN_GAP_S = 1.0
"""A progress update is not shown when the status line changed less than this ago."""
PHOTO_LIMITS = media.PHOTO_LIMITS
DELETE_BATCH = 100
"""deleteMessages takes 1 to 100 message ids."""
STATUS_DELAY_S = 1.0
"""A job's status message is shown only if the job has not finished this long after its first event."""


@dataclass
class _Status:
    chat_id: int
    message_id: int
    text: str
    reply_to: str | None
    changed_at: float = 0.0


@dataclass
class _Pending:
    """A job whose status message is not shown yet: its target, its latest status line, its timer."""

    target: Target
    text: str
    timer: asyncio.Task[None] | None = None
    showing: bool = False


class TelegramDelivery(BotCalls):
    """Implements :class:`bot.core.ports.Platform` for one bot."""

    name = PLATFORM

    def __init__(
        self,
        bot: Bot,
        *,
        clock: Callable[[], float] = time.monotonic,
        status_delay_s: float = STATUS_DELAY_S,
    ) -> None:
        super().__init__(bot, clock=clock)
        self._status_delay_s = status_delay_s
        self._pending: dict[int, _Pending] = {}
        """Job id → its status message to show once the delay is over (0 s: shown at once)."""
        self._closed = False
        self._status: dict[int, _Status] = {}
        """Job id → its status message ("Queued (#2)", "Generating… 40%")."""
        self._failed_status: dict[tuple[int, str | None], _Status] = {}
        """(chat, replied message) → a status message already showing a failure reason."""

    # --------------------------------------------------------------------------------------- send

    async def send(self, target: Target, reply: Reply) -> list[str]:
        return await self._at(
            target, lambda chat_id, thread_id: self._send(chat_id, thread_id, target, reply)
        )

    async def _send(self, chat_id: int, thread_id: int | None, target: Target, reply: Reply) -> list[str]:
        if reply.is_error:
            shown = self._failed_status.pop((chat_id, target.reply_to_message_id), None)
            if shown is not None:  # the status message already says why: do not say it twice
                if shown.text != render.status_text(Failed(reason=reply.text)):
                    await self._try(lambda: self._edit_status(shown, render.caption(reply, render.MAX_TEXT)))
                return [str(shown.message_id)]
        common: dict[str, Any] = {"chat_id": chat_id, "message_thread_id": thread_id}
        reply_to = reply_id(target)
        if reply_to is not None:
            common["reply_parameters"] = ReplyParameters(reply_to, allow_sending_without_reply=True)
        if not reply.images:
            ids: list[str] = []
            for piece in render.split_text(render.caption(reply, render.MAX_TEXT * 4)):
                answer = functools.partial(self._bot.send_message, text=piece, **common, **self._lane(ANSWER))
                sent = await self._call(answer)
                ids.append(str(sent.message_id))
            self._message_sent(chat_id, thread_id)
            return ids
        uploads = await asyncio.to_thread(_prepared, reply)
        await self._try(lambda: self._action(chat_id, thread_id))
        try:
            if len(uploads) == 1:
                markup = render.keyboard(reply)
                image = reply.images[0]
                message = await self._upload(image, uploads[0], render.caption(reply), markup, common)
                return [str(message.message_id)]
            return await self._send_album(reply, uploads, common)
        finally:
            self._message_sent(chat_id, thread_id)

    async def store(self, chat_id: int, reply: Reply) -> tuple[str, bool]:
        """Upload the reply's first image to ``chat_id`` without a notification (inline mode's storage
        chat), as a photo or, by the same rules as any result, a document; return its ``file_id`` and
        whether it is a document's."""
        first = dataclasses.replace(reply, images=reply.images[:1])
        [upload] = await asyncio.to_thread(_prepared, first)
        caption = render.caption(first)

        async def store_at(chat: int, thread_id: int | None) -> Message:
            common = {"chat_id": chat, "disable_notification": True}
            return await self._upload(first.images[0], upload, caption, None, common)

        message = await self._at(Target(PLATFORM, str(chat_id)), store_at)
        if message.photo:
            return message.photo[-1].file_id, False
        if message.document is not None:
            return message.document.file_id, True
        raise DeliveryFailed("telegram kept no file of the stored image", permanent=True)

    async def _upload(
        self,
        image: StoredImage,
        upload: media.Upload,
        caption: str,
        markup: InlineKeyboardMarkup | None,
        common: dict[str, Any],
    ) -> Message:
        """One photo or document; a photo Telegram refuses as one goes again as the original file."""
        try:
            return await self._call(lambda: self._send_upload(upload, caption, markup, common))
        except DeliveryFailed as exc:
            if upload.document or not media.refused_as_photo(exc):
                raise
            document = await asyncio.to_thread(media.as_document, image, upload)
            if document is None:
                raise
            log.info("telegram: %s refused as a photo (%s); sending it as a document", upload.filename, exc)
            return await self._call(lambda: self._send_upload(document, caption, markup, common))

    def _send_upload(
        self, upload: media.Upload, caption: str, markup: InlineKeyboardMarkup | None, common: dict[str, Any]
    ) -> Awaitable[Message]:
        if upload.document:
            return self._bot.send_document(
                document=upload.data, filename=upload.filename, caption=caption, reply_markup=markup, **common
            )
        return self._bot.send_photo(
            photo=upload.data,
            caption=caption,
            reply_markup=markup,
            has_spoiler=upload.spoiler or None,
            **common,
        )

    async def _send_album(
        self, reply: Reply, uploads: list[media.Upload], common: dict[str, Any]
    ) -> list[str]:
        messages: list[Message] = []
        total = len(uploads)
        for start in range(0, total, render.ALBUM_MAX):
            chunk = uploads[start : start + render.ALBUM_MAX]
            images = reply.images[start : start + render.ALBUM_MAX]
            if len(chunk) == 1:  # an album needs two: a lone eleventh image goes on its own
                lone = render.album_caption(reply, start, total)
                messages.append(await self._upload(images[0], chunk[0], lone, None, common))
                continue
            messages.extend(await self._album(reply, start, images, chunk, common))
        ids = [str(m.message_id) for m in messages]
        markup = render.keyboard(reply)
        if markup is not None:
            under = dict(common, reply_parameters=ReplyParameters(messages[0].message_id))
            text = render.keyboard_text(reply, total)
            keys = await self._call(lambda: self._bot.send_message(text=text, reply_markup=markup, **under))
            ids.append(str(keys.message_id))
        return ids

    async def _album(
        self,
        reply: Reply,
        start: int,
        images: tuple[StoredImage, ...],
        chunk: list[media.Upload],
        common: dict[str, Any],
    ) -> tuple[Message, ...]:
        """2-10 photos or documents; photos Telegram refuses as photos go again as their files."""

        def send(uploads: list[media.Upload]) -> Awaitable[tuple[Message, ...]]:
            items = [
                media.input_media(up, render.album_caption(reply, start + i, len(reply.images)))
                for i, up in enumerate(uploads)
            ]
            return self._bot.send_media_group(media=items, **common)

        try:
            return await self._call(lambda: send(chunk))
        except DeliveryFailed as exc:
            if chunk[0].document or not media.refused_as_photo(exc):
                raise
            documents = await asyncio.to_thread(media.as_documents, images, chunk)
            if documents is None:
                raise
            log.info("telegram: an album was refused as photos (%s); sending the files", exc)
            return await self._call(lambda: send(documents))

    async def delete(self, target: Target, message_ids: list[str]) -> None:
        """Delete messages the bot sent to the target's chat (deleteMessages: 100 a call; ones already
        gone are skipped by Telegram)."""
        ids = [int(i) for i in message_ids if i.isascii() and i.isdigit()]

        async def delete_at(chat_id: int, thread_id: int | None) -> None:
            for start in range(0, len(ids), DELETE_BATCH):
                batch = ids[start : start + DELETE_BATCH]
                await self._call(functools.partial(self._bot.delete_messages, chat_id, batch))

        if ids:
            await self._at(target, delete_at)

    # -------------------------------------------------------------------------------------- event

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        await self._at(
            target, lambda chat_id, thread_id: self._event(chat_id, thread_id, target, job_id, event)
        )

    async def _event(
        self, chat_id: int, thread_id: int | None, target: Target, job_id: int, event: JobEvent
    ) -> None:
        if isinstance(event, Started | Progress):
            await self._try(lambda: self._action(chat_id, thread_id))
        pending = self._pending.get(job_id)
        if pending is not None and pending.showing and pending.timer is not None:
            await asyncio.wait({pending.timer})  # its status message is on its way: wait for its id
        status = self._status.get(job_id)
        if status is None:
            await self._wait_to_show(chat_id, thread_id, target, job_id, event)
            return
        text = render.status_text(event)
        if text is None:  # done: the result speaks for itself
            if isinstance(event, Done):
                del self._status[job_id]
                await self._try(
                    functools.partial(
                        self._bot.delete_message, status.chat_id, status.message_id, **self._lane(CLEANUP)
                    )
                )
            return
        if text != status.text:
            if isinstance(event, Progress) and self._clock() - status.changed_at < PROGRESS_MIN_GAP_S:
                return
            try:
                await self._edit_status(status, text, RESULT if isinstance(event, Failed) else COSMETIC)
            except DeliveryFailed as exc:
                if not skipped(exc):
                    raise
                return  # flood control is busy with results: a later event shows the news
        if isinstance(event, Failed):
            self._status.pop(job_id, None)
            self._failed_status[(chat_id, status.reply_to)] = status

    async def _wait_to_show(
        self, chat_id: int, thread_id: int | None, target: Target, job_id: int, event: JobEvent
    ) -> None:
        """No status message yet: arm its timer (or show it now with no delay), or drop it once the job
        finished. A failure before the status was shown is not shown here: the failure reply says why."""
        text = render.status_text(event)
        if text is None or isinstance(event, Failed) or self._closed:
            self._drop_pending(job_id)
            return
        pending = self._pending.get(job_id)
        if pending is not None:
            pending.text = text
            return
        pending = self._pending[job_id] = _Pending(target, text)
        if self._status_delay_s > 0:
            pending.timer = asyncio.create_task(self._show_later(job_id), name=f"telegram-status-{job_id}")
            return
        pending.showing = True
        try:
            await self._show(chat_id, thread_id, job_id, pending)
        finally:
            self._pending.pop(job_id, None)

    def _drop_pending(self, job_id: int) -> None:
        pending = self._pending.pop(job_id, None)
        if pending is not None and pending.timer is not None and not pending.showing:
            pending.timer.cancel()

    async def aclose(self) -> None:
        """Stop the timers of status messages not shown yet (and wait for those being sent)."""
        self._closed = True
        timers = [p.timer for p in self._pending.values() if p.timer is not None]
        for job_id in list(self._pending):
            self._drop_pending(job_id)
        if timers:
            await asyncio.wait(timers)

    async def _show_later(self, job_id: int) -> None:
        """The timer of a job's status message: show it unless the job finished meanwhile; when flood
        control had no room for it (results first), try again after another delay."""
        await asyncio.sleep(self._status_delay_s)
        pending = self._pending.get(job_id)
        if pending is None:
            return
        pending.showing = True
        again = False
        try:
            await self._at(
                pending.target, lambda chat_id, thread_id: self._show(chat_id, thread_id, job_id, pending)
            )
        except DeliveryFailed as exc:
            again = skipped(exc) and not self._closed
            if not again:
                log.info("telegram: status of job %s not shown: %s", job_id, exc)
        except Exception:
            log.exception("telegram: showing the status of job %s failed", job_id)
        finally:
            if again:
                pending.showing = False
                pending.timer = asyncio.create_task(
                    self._show_later(job_id), name=f"telegram-status-{job_id}"
                )
            else:
                self._pending.pop(job_id, None)

    async def _show(self, chat_id: int, thread_id: int | None, job_id: int, pending: _Pending) -> None:
        target = pending.target
        self._skip_if_dropped(STATUS, chat_id, "status message")  # tried again after another delay
        reply_to = reply_id(target)
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        message = await self._call(
            lambda: self._bot.send_message(
                chat_id,
                pending.text,
                message_thread_id=thread_id,
                reply_parameters=reply,
                **self._lane(STATUS),
            )
        )
        self._message_sent(chat_id, thread_id)
        self._status[job_id] = _Status(
            chat_id, message.message_id, pending.text, target.reply_to_message_id, self._clock()
        )

    async def _edit_status(self, status: _Status, text: str, call: Call = RESULT) -> None:
        if call.droppable:
            self._skip_if_dropped(call, status.chat_id, "status edit")
        lane = self._lane(call)
        try:
            await self._call(
                lambda: self._bot.edit_message_text(text, status.chat_id, status.message_id, **lane)
            )
        except DeliveryFailed as exc:
            if "not modified" not in str(exc).lower():
                raise
        status.text = text
        status.changed_at = self._clock()


def _prepared(reply: Reply) -> list[media.Upload]:
    """Each image as it goes (in a thread: reads files, fits photos); a set with a document goes as
    documents (an album takes one kind)."""
    as_file = media.wants_files(reply)
    uploads = [
        media.prepare(image, media.file_name(reply, i, image), as_file=as_file)
        for i, image in enumerate(reply.images)
    ]
    if any(upload.document for upload in uploads):
        uploads = media.as_documents(reply.images, uploads) or uploads
    if reply.spoiler:  # the chat's content policy: photos hidden until tapped
        uploads = [dataclasses.replace(u, spoiler=not u.document) for u in uploads]
    return uploads
