"""Button presses (callback queries): who may press, the request a press makes, and the presses the
adapter answers itself (the edit question, the original files, deleting a set). A press on an inline
message (no message, only its ``inline_message_id``) acts for the presser's private chat."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from telegram import CallbackQuery, ForceReply, Message, ReplyParameters
from telegram.error import BadRequest

from bot.core import i18n
from bot.core.chat.buttons import command_text, job_intent
from bot.core.errors import DeliveryFailed, EaselError, StorageError
from bot.core.front_door import FrontDoor
from bot.core.i18n import N_, _
from bot.core.messages import Incoming
from bot.core.types import Action
from bot.platforms.telegram import render
from bot.platforms.telegram.admins import AdminDirectory
from bot.platforms.telegram.delivery import TelegramDelivery
from bot.platforms.telegram.inline import INLINE_MESSAGE, INLINE_SHOWN
from bot.platforms.telegram.updates import PLATFORM, chat_key

log = logging.getLogger(__name__)

NOT_ALLOWED = N_("Sorry, this bot is private.")
NOT_YOURS = N_("Only the person who drew this picture can use its buttons.")
NO_LONGER_WORKS = N_("This button no longer works.")


class ButtonPresses:
    """Handles one callback query at a time for the adapter; ``allowed(chat_id, user_id)`` is its
    access rule."""

    def __init__(
        self,
        *,
        admins: AdminDirectory,
        delivery: TelegramDelivery,
        allowed: Callable[[int, int], bool],
    ) -> None:
        self._admins = admins
        self._delivery = delivery
        self._allowed = allowed

    async def handle(self, query: CallbackQuery, front: FrontDoor) -> None:
        button = render.decode(query.data)
        message = query.message
        if button is not None and query.inline_message_id is not None:
            await self._inline_press(query, front, button, query.inline_message_id)
            return
        if button is None or not isinstance(message, Message):
            with i18n.using(query.from_user.language_code):
                await query.answer(_(NO_LONGER_WORKS))
            return
        if not self._allowed(message.chat.id, query.from_user.id):
            with i18n.using(query.from_user.language_code):
                await query.answer(_(NOT_ALLOWED), show_alert=True)
            return
        thread_id = message.message_thread_id if message.is_topic_message else None
        extra: dict[str, int] = {"reply_to": message.message_id}
        if thread_id is not None:
            extra["thread_id"] = thread_id
        incoming = Incoming(
            platform=PLATFORM,
            chat_id=chat_key(message.chat.id, thread_id),
            user_id=str(query.from_user.id),
            display_name=query.from_user.full_name,
            text=command_text(button),
            message_id=f"cb{query.id}",  # the idempotency key: one job per press
            reply_to_message_id=str(message.message_id),
            is_admin=await self._admins.is_admin(
                message.chat.id, query.from_user.id, private=message.chat.type == "private"
            ),
            locale=query.from_user.language_code,
            extra=extra,
        )
        intent = job_intent(button)
        match button.action:
            case Action.REROLL | Action.VARY | Action.UPSCALE if intent is not None:
                await self._ack(query)
                try:
                    await front.handle(dataclasses.replace(incoming, intent=intent))
                except DeliveryFailed as exc:
                    log.info("telegram: could not answer in %s: %s", incoming.chat_id, exc)
            case Action.EDIT:
                await self._ack(query)
                # a message everyone in the chat reads: the chat's /settings language, else the presser's
                chosen = await _chat_language(front, incoming)
                with i18n.using(chosen or incoming.locale):
                    question, placeholder = (
                        render.edit_prompt(button.generation_id, button.image),
                        _("make it warmer"),
                    )
                await message.reply_text(
                    question,
                    reply_markup=ForceReply(input_field_placeholder=placeholder),
                    reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
                )
            case Action.ORIGINAL:
                await self._send_original(front, query, message, incoming, button.generation_id, button.image)
            case Action.DELETE:
                await self._delete(front, query, incoming, button.generation_id)

    async def _inline_press(
        self, query: CallbackQuery, front: FrontDoor, button: render.Button, inline_id: str
    ) -> None:
        """Reroll, Vary or Upscale pressed on an inline message: the request of the presser's private
        chat, answered in that inline message. The core says first (``generation_in_chat``, from the
        stored generation) whether the picture is that chat's, so a press by anyone else in the chat
        the message landed in makes nothing and gets an alert, and never replaces the picture. The
        request carries the pressed generation (``INLINE_SHOWN``, the picture the message shows, as the
        core has checked): a failure keeps that picture's buttons."""
        user = query.from_user
        incoming = Incoming(
            platform=PLATFORM,
            chat_id=str(user.id),  # where an inline request's generation is kept (InlineMode.incoming)
            user_id=str(user.id),
            display_name=user.full_name,
            text=command_text(button),
            message_id=f"cb{query.id}",  # the idempotency key: one job per press
            locale=user.language_code,
            extra={INLINE_MESSAGE: inline_id, INLINE_SHOWN: button.generation_id},
        )
        intent = job_intent(button)
        allowed = self._allowed(user.id, user.id)
        ours = allowed and intent is not None
        if not ours or await front.generation_in_chat(incoming, button.generation_id) is None:
            with i18n.using(user.language_code):
                alert = _(NOT_ALLOWED) if not allowed else _(NOT_YOURS) if intent else _(NO_LONGER_WORKS)
            await query.answer(alert, show_alert=True)
            return
        await self._ack(query)
        try:
            await front.handle(dataclasses.replace(incoming, intent=intent))
        except DeliveryFailed as exc:
            log.info("telegram: could not answer inline message of %s: %s", user.id, exc)

    @staticmethod
    async def _ack(query: CallbackQuery) -> None:
        """Stop the button's spinner; a press Telegram delivered again (the replica that took it first
        died) is "too old" to answer by then, and must still be handled, not lost."""
        try:
            await query.answer()
        except BadRequest as exc:
            log.info("telegram: could not answer a button press (%s); handling it anyway", exc.message)

    async def _send_original(
        self,
        front: FrontDoor,
        query: CallbackQuery,
        message: Message,
        incoming: Incoming,
        generation_id: int,
        image_index: int | None = None,
    ) -> None:
        """The original files of the set (or of its image ``image_index``), if the generation is this
        chat's (the core says) and has that image (the stored set says)."""
        record = await front.generation_in_chat(incoming, generation_id)
        with i18n.using(incoming.locale):  # the presser's language
            if record is None or not record.images:
                await query.answer(_("That image is gone."), show_alert=True)
                return
            chosen = list(enumerate(record.images, start=1))
            if image_index is not None:
                if image_index >= len(record.images):
                    count = len(record.images)
                    text = (
                        _("#{id} has {count} image; there is no image {number}.")
                        if count == 1
                        else _("#{id} has {count} images; there is no image {number}.")
                    )
                    await query.answer(
                        text.format(id=generation_id, count=count, number=image_index + 1), show_alert=True
                    )
                    return
                chosen = [chosen[image_index]]
            await query.answer(_("Sending the original file…"))
        for index, image in chosen:
            data = await front.image_bytes(image)
            await message.reply_document(
                data,
                filename=f"easel-{generation_id}-{index}{image.path.suffix}",
                reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
            )

    async def _delete(
        self, front: FrontDoor, query: CallbackQuery, incoming: Incoming, generation_id: int
    ) -> None:
        """The core decides from the database whose image it is and which messages showed it; the
        button only names the generation."""
        try:
            deletion = await front.authorize_delete(incoming, generation_id)
        except EaselError as exc:
            await query.answer(exc.user_message, show_alert=True)
            return
        with i18n.using(incoming.locale):
            await query.answer(_("Deleted."))
        for target, message_ids in deletion.messages:
            try:
                await self._delivery.delete(target, list(message_ids))
            except DeliveryFailed as exc:
                log.info("could not delete the messages of #%s in %s: %s", generation_id, target.chat_id, exc)


async def _chat_language(front: FrontDoor, incoming: Incoming) -> str | None:
    """The chat's ``/settings language`` (None: not set, or the database did not answer)."""
    try:
        return await front.chat_language(PLATFORM, incoming.chat_id)
    except StorageError as exc:
        log.warning("telegram: the chat's language could not be read: %s", exc)
        return None
