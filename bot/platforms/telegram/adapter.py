"""The Telegram adapter: python-telegram-bot's Application, its handlers, and the Platform for replies.

Lifecycle (``bot.app.serve`` drives it): ``initialize()`` (getMe: the bot's id and username) →
``attach(front)`` → ``start()`` (setMyCommands, then polling or the webhook) → ``stop()`` →
``shutdown()``. Updates of different chats are handled concurrently, one chat's in order
(:mod:`.telegram_concurrency`). One handler per concern: messages, button presses (:mod:`.buttons`),
errors. Translation of updates lives in :mod:`.telegram_updates`, rendering in :mod:`.telegram_render`,
sending in :mod:`.telegram_delivery`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    BaseRateLimiter,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.core import i18n
from bot.core.chat.service import target_of
from bot.core.errors import ConfigError, DeliveryFailed, StorageError
from bot.core.front_door import FrontDoor
from bot.core.i18n import N_, _
from bot.core.messages import Attachment, Incoming
from bot.core.texts import UNEXPECTED
from bot.core.types import JobEvent, Reply, Target
from bot.platforms.base import PlatformUnreachable
from bot.platforms.telegram.admins import AdminDirectory
from bot.platforms.telegram.buttons import NOT_ALLOWED, ButtonPresses
from bot.platforms.telegram.concurrency import MAX_RUNNING, ChatOrderedUpdateProcessor
from bot.platforms.telegram.delivery import TelegramDelivery
from bot.platforms.telegram.flood import SharedFloodLimiter
from bot.platforms.telegram.inline import InlineMode, is_inline
from bot.platforms.telegram.lanes import PriorityFloodLimiter, RateArgs
from bot.platforms.telegram.settings import TelegramSettings
from bot.platforms.telegram.updates import MAX_DOWNLOAD_BYTES, PLATFORM, FileRef, translate

if TYPE_CHECKING:
    from bot.platforms.telegram.webhook import WebhookServer

log = logging.getLogger(__name__)
# Opt in to PTB's coming behaviour (durations such as RetryAfter.retry_after as timedelta); without it
# PTB warns on every flood-control answer. Easel reads none of those attributes as numbers.
os.environ.setdefault("PTB_TIMEDELTA", "true")

COMMANDS = (
    ("imagine", N_("Make an image: /imagine a red fox --ar 16:9")),
    ("img", N_("Same as /imagine")),
    ("draw", N_("Same as /imagine")),
    ("edit", N_("Change an image: reply to it with /edit make it warmer")),
    ("reroll", N_("The same prompt with a new seed")),
    ("vary", N_("A close variation of the last image")),
    ("history", N_("What this chat has made")),
    ("status", N_("Provider and your usage today")),
    ("settings", N_("This chat's defaults (aspect, n, ...)")),
    ("cancel", N_("Stop what is waiting or running")),
    ("hide", N_("Hide an image from the history and gallery: /hide #12")),
    ("unhide", N_("Show a hidden image again: /unhide #12")),
    ("schedule", N_("Scheduled posts: add, list, pause, resume, run, remove")),
    ("birthday", N_("Birthday cards: set, list, remove, preview")),
    ("id", N_("Your user id and this chat's id (for Easel's settings)")),
    ("help", N_("How to use Easel")),
    ("start", N_("Say hello")),
)


def command_list(language: str) -> list[BotCommand]:
    """The command menu with its descriptions in ``language`` (command names stay English)."""
    with i18n.using(language):
        return [BotCommand(command, _(description)) for command, description in COMMANDS]


ALLOWED_UPDATES = ["message", "callback_query", "inline_query", "chosen_inline_result"]
TOO_LARGE_TO_DOWNLOAD = N_("That image is too large for me to download (20 MB at most).")
DOWNLOAD_FAILED = N_("I couldn't download that image from Telegram; please send it again.")


def _flood_control(token: str, redis_url: str | None, retries: int) -> BaseRateLimiter[RateArgs]:
    """Flood limits for this process, or shared by every replica through Redis; results first."""
    if redis_url is None:
        return PriorityFloodLimiter(max_retries=retries)
    return SharedFloodLimiter(redis_url, bot_id=token.partition(":")[0], max_retries=retries)


class TelegramAdapter:
    """The ``telegram`` platform. It is the :class:`bot.core.ports.Platform` the core sends through."""

    name = PLATFORM

    def __init__(
        self,
        settings: TelegramSettings,
        *,
        rate_limit_retries: int = 3,
        max_concurrent_updates: int = MAX_RUNNING,
        status_delay_s: float | None = None,
        redis_url: str | None = None,
    ) -> None:
        if settings.token is None:
            raise ConfigError("telegram.token is not set")
        self._settings = settings
        # httpx logs every request URL at INFO, and Bot API URLs contain the token.
        logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
        builder = (
            Application.builder()
            .token(settings.token.get_secret_value())
            .concurrent_updates(ChatOrderedUpdateProcessor(max_concurrent_updates))
            .base_url(settings.base_url)
            .base_file_url(settings.base_file_url)
            .rate_limiter(_flood_control(settings.token.get_secret_value(), redis_url, rate_limit_retries))
        )
        if settings.mode == "webhook":
            builder = builder.updater(None)
        self.application = builder.build()
        self.delivery = TelegramDelivery(
            self.application.bot,
            status_delay_s=settings.status_delay_s if status_delay_s is None else status_delay_s,
        )
        self.inline = InlineMode(
            self.application.bot,
            self.delivery,
            storage_chat=settings.inline_storage_chat,
            allowed=self._allowed_inline,
        )
        """Inline mode (``@bot a red fox`` in any chat): answers, requests and inline messages."""
        self.admins = AdminDirectory(self.application.bot, operators=settings.admin_ids)
        """Tells the core who administers a chat (``Incoming.is_admin``); the core decides the rights."""
        self.buttons = ButtonPresses(admins=self.admins, delivery=self.delivery, allowed=self._allowed)
        """Button presses (:mod:`.buttons`)."""
        self.username = ""
        self.bot_id = 0
        self._front: FrontDoor | None = None
        self._webhook: WebhookServer | None = None
        self.application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self._on_message))
        self.application.add_handler(CallbackQueryHandler(self._on_button))
        self.application.add_handler(InlineQueryHandler(self._on_inline_query))
        self.application.add_handler(ChosenInlineResultHandler(self._on_chosen_inline_result))
        self.application.add_error_handler(self._on_error)

    # ---------------------------------------------------------------------------------- lifecycle

    async def initialize(self) -> None:
        """Meet the Bot API (getMe): ConfigError for a rejected token, PlatformUnreachable for a server
        that does not answer (called again, it tries again)."""
        try:
            await self.application.initialize()
        except InvalidToken as exc:
            raise ConfigError(f"Telegram rejected telegram.token ({exc.message})") from exc
        except NetworkError as exc:  # TimedOut and 5xx answers included
            raise PlatformUnreachable(
                f"Cannot reach the Telegram Bot API at {self._settings.base_url}: {exc}"
            ) from exc
        self.username = self.application.bot.username
        self.bot_id = self.application.bot.id

    def attach(self, front: FrontDoor) -> None:
        self._front = front

    async def start(self) -> None:
        """Register the commands, then take updates (polling or webhook). PlatformUnreachable, with
        everything stopped again, when the Bot API stops answering meanwhile (deleteWebhook/setWebhook)."""
        try:
            await self.application.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
            for language in i18n.LANGUAGES:  # each user sees the descriptions in their app's language
                if language != i18n.DEFAULT:
                    await self.application.bot.set_my_commands(command_list(language), language_code=language)
        except TelegramError as exc:
            log.warning("could not register the bot's commands: %s", exc)
        await self.application.start()
        try:
            if self._settings.mode == "webhook":
                await self._start_webhook()
            else:
                assert self.application.updater is not None
                await self.application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        except NetworkError as exc:
            await self.stop()
            raise PlatformUnreachable(
                f"Cannot reach the Telegram Bot API at {self._settings.base_url}: {exc}"
            ) from exc
        log.info("telegram: @%s is %s", self.username, self._settings.mode)

    async def _start_webhook(self) -> None:
        settings = self._settings
        assert settings.webhook_url is not None and settings.secret_token is not None
        secret = settings.secret_token.get_secret_value()
        from bot.platforms.telegram.webhook import WebhookServer  # aiohttp's server: webhook mode only

        self._webhook = WebhookServer(
            listen=settings.listen,
            port=settings.port,
            path=urlparse(settings.webhook_url).path,
            secret_token=secret,
            on_update=self._queue_update,
            answer_timeout_s=settings.webhook_answer_timeout_s,
        )
        await self._webhook.start()
        await self.application.bot.set_webhook(
            settings.webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
        )

    async def _queue_update(self, data: dict[str, Any]) -> None:
        """Handle one webhook update and return when its handler has finished (the webhook answers 200
        only then). It goes through the application's update processor, like a polled update, so one
        chat's updates still run in order (:mod:`.concurrency`), and through PTB's handlers and error
        handler; it just skips the update queue, which would only say "taken", not "handled"."""
        update = Update.de_json(data, self.application.bot)
        application = self.application
        await application.update_processor.process_update(update, application.process_update(update))

    async def stop(self) -> None:
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self._webhook is not None:
            await self._webhook.stop()
            self._webhook = None
        if self.application.running:
            await self.application.stop()

    async def shutdown(self) -> None:
        await self.delivery.aclose()
        await self.application.shutdown()
        # an initialize that failed at getMe left the bot's HTTP clients open (the application, not
        # initialized, does not shut them): a no-op otherwise
        await self.application.bot.shutdown()

    @property
    def webhook_port(self) -> int | None:
        return self._webhook.port if self._webhook is not None else None

    # ----------------------------------------------------------------------------------- Platform

    async def send(self, target: Target, reply: Reply) -> list[str]:
        if is_inline(target):
            return await self.inline.send(target, reply)
        return await self.delivery.send(target, reply)

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        """Progress is best effort: a status message that cannot be shown never stops the job. An inline
        message shows it in its own text until the image or the reason replaces it."""
        try:
            if is_inline(target):
                await self.inline.event(target, job_id, event)
                return
            await self.delivery.event(target, job_id, event)
        except DeliveryFailed as exc:
            log.info("telegram: progress of job %s not shown: %s", job_id, exc)

    async def delete(self, target: Target, message_ids: Sequence[str]) -> None:
        """deleteMessages in the target's chat (an inline result lives in no chat of ours: kept)."""
        if not is_inline(target):
            await self.delivery.delete(target, list(message_ids))

    # ----------------------------------------------------------------------------------- handlers

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None or message.from_user is None or self._front is None:
            return
        if not self._allowed(message.chat.id, message.from_user.id):
            if message.chat.type == "private":
                with i18n.using(message.from_user.language_code):
                    await message.reply_text(_(NOT_ALLOWED))
            return
        self.delivery.unblock(message.chat.id)
        inbound = translate(message, bot_id=self.bot_id, bot_username=self.username)
        if inbound is None:
            return
        admin = await self.admins.is_admin(
            message.chat.id, message.from_user.id, private=message.chat.type == "private"
        )
        incoming = dataclasses.replace(inbound.incoming, is_admin=admin)
        if inbound.image is not None:
            data = await self._download(inbound.image, incoming)
            if data is None:
                return
            attachment = Attachment(data=data, mime=inbound.image.mime)
            incoming = dataclasses.replace(incoming, attachments=(attachment,))
        try:
            await self._front.handle(incoming, addressed=inbound.addressed)
        except DeliveryFailed as exc:  # the answer could not be sent (e.g. the bot was blocked meanwhile)
            log.info("telegram: could not answer in %s: %s", incoming.chat_id, exc)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or self._front is None:
            return
        await self.buttons.handle(query, self._front)

    async def _on_inline_query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.inline_query is not None:
            await self.inline.answer(update.inline_query)

    async def _on_chosen_inline_result(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A user sent our "Drawing…" result: the request it makes (rates, quota and all) is handled like
        a message's, its answers edit that inline message."""
        chosen = update.chosen_inline_result
        incoming = self.inline.incoming(chosen) if chosen is not None else None
        if incoming is None or self._front is None:
            return
        try:
            await self._front.handle(incoming)
        except DeliveryFailed as exc:
            log.info("telegram: could not answer inline message of %s: %s", incoming.user_id, exc)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log first (with the traceback), then tell the user something went wrong."""
        log.error("telegram update failed: %r", update, exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        user = update.effective_user
        try:
            with i18n.using(user.language_code if user else None):
                unexpected = _(UNEXPECTED)
            if update.callback_query is not None:
                await update.callback_query.answer(unexpected, show_alert=True)
            else:
                await context.bot.send_message(update.effective_chat.id, unexpected)
        except TelegramError as exc:
            log.info("could not tell the user about the error: %s", exc)

    # ------------------------------------------------------------------------------------ helpers

    def _allowed_inline(self, user_id: int) -> bool:
        """Inline messages land in any chat: with ``allowed_chats`` set nobody may send them."""
        return not self._settings.allowed_chats and self._allowed(user_id, user_id)

    def _allowed(self, chat_id: int, user_id: int) -> bool:
        users, chats = self._settings.allowed_users, self._settings.allowed_chats
        return (not users or user_id in users) and (not chats or chat_id in chats)

    async def _download(self, ref: FileRef, incoming: Incoming) -> bytes | None:
        """The image's bytes, or None after telling the user why not."""
        if ref.size is not None and ref.size > MAX_DOWNLOAD_BYTES:
            await self._tell(incoming, TOO_LARGE_TO_DOWNLOAD)
            return None
        try:
            file = await self.application.bot.get_file(ref.file_id)
            if file.file_size is not None and file.file_size > MAX_DOWNLOAD_BYTES:
                await self._tell(incoming, TOO_LARGE_TO_DOWNLOAD)
                return None
            return bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            log.warning("downloading %s failed: %s", ref.file_id, exc)
            await self._tell(incoming, DOWNLOAD_FAILED)
            return None

    async def _tell(self, incoming: Incoming, text: str) -> None:
        """Tell the sender ``text`` (an ``N_`` constant) in the chat: in its ``/settings language``
        when it has one (what everyone there reads, as the core's answers), else in the sender's."""
        chosen = None
        if self._front is not None:
            try:
                chosen = await self._front.chat_language(PLATFORM, incoming.chat_id)
            except StorageError as exc:
                log.warning("telegram: the chat's language could not be read: %s", exc)
        with i18n.using(chosen or incoming.locale):
            text = _(text)
        try:
            await self.delivery.send(target_of(incoming), Reply(text=text, is_error=True))
        except DeliveryFailed as exc:
            log.info("could not answer in %s: %s", incoming.chat_id, exc)
