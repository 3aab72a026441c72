"""Inline mode: ``@bot a red fox`` typed in any chat.

The inline query is answered with one article, "🎨 Draw: a red fox"; tapping it posts a placeholder
("🎨 Drawing “a red fox”…") with a 🎨 Draw another button. That keyboard is what makes Telegram give the
bot the message's ``inline_message_id`` in the ``chosen_inline_result`` update (with inline feedback on
in @BotFather): only then is a job made, a Generate of one image held to the same rules, rate limits and
quota as any other request. It belongs to the user's private chat with the bot (their settings, their
history), and its answers go to the inline message (a :class:`Target` whose ``extra`` holds
``inline_message_id``): the image replaces the placeholder (editMessageMedia), a refusal or failure
replaces its text. While the job runs its text shows the job's status line under the prompt ("Queued
(#2)", "Generating… 40%"; editMessageText by ``inline_message_id``), throttled as a chat's status message
is, and never after the answer (an edit that came late would turn the image back into text). The finished
image carries 🎲 Reroll, 🔀 Vary and ⬆️ Upscale (the actions an inline message can show: Edit asks in a
chat, Original sends a file to one, Delete has no message to delete) above 🎨 Draw another; their
presses are :meth:`bot.platforms.telegram.buttons.ButtonPresses.handle`'s, and their answers replace
the image again. A failure told to an inline message that shows an image goes in its caption, and the
message keeps that picture's buttons: a press carries the generation it was made on
(``Target.extra[INLINE_SHOWN]``; the core has checked it is the one the message shows), and the failure's
caption edit sends that generation's keyboard again (an edit without one would drop it).

An inline message cannot take an upload, only a file Telegram already has: the image is uploaded first,
silently, to ``telegram.inline_storage_chat``, and its ``file_id`` used. Without that setting every
inline query is answered with one "Inline mode is not set up" article. Users outside ``allowed_users``,
and everyone when ``allowed_chats`` is set (an inline message may land in any chat), get no results.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import (
    Bot,
    ChosenInlineResult,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputMediaDocument,
    InputMediaPhoto,
    InputTextMessageContent,
)

from bot.core import i18n
from bot.core.errors import DeliveryFailed
from bot.core.i18n import N_, _
from bot.core.messages import Generate, GenerationOptions, Incoming
from bot.core.texts import shorten
from bot.core.types import Action, Failed, JobEvent, Progress, Reply, Target
from bot.platforms.telegram import render
from bot.platforms.telegram.calls import BotCalls, skipped
from bot.platforms.telegram.delivery import PROGRESS_MIN_GAP_S
from bot.platforms.telegram.lanes import ANSWER, COSMETIC, RESULT
from bot.platforms.telegram.updates import PLATFORM

if TYPE_CHECKING:
    from bot.platforms.telegram.delivery import TelegramDelivery

log = logging.getLogger(__name__)
INLINE_MESSAGE = "inline_message_id"
"""``Incoming.extra`` / ``Target.extra`` key: the answers go to this inline message."""
INLINE_PROMPT = "inline_prompt"
"""``Target.extra`` key: the prompt the inline message shows above its status line."""
INLINE_SHOWN = "inline_shown"
"""``Incoming.extra`` / ``Target.extra`` key of a press on an inline message: the generation id of the
picture the message shows (its buttons are sent again with a failure's caption)."""
INLINE_ACTIONS = (Action.REROLL, Action.VARY, Action.UPSCALE)
"""The result buttons an inline message gets (the others need a chat of ours)."""
NO_TEXT = "there is no text in the message to edit"
"""Telegram's answer to editMessageText on a message that shows an image."""
FINISHED_REMEMBERED = 10_000
"""Inline messages answered lately (a progress event that comes after the answer is dropped)."""
RESULT_PREFIX = "draw:"
OFF_RESULT = "off"
NOT_SET_UP = N_("Inline mode is not set up")
NOT_SET_UP_TEXT = N_(
    "Inline mode of this bot is not set up: its operator has to set telegram.inline_storage_chat "
    "(a chat the bot uploads images to first)."
)
NOT_SET_UP_DESCRIPTION = N_("The bot's operator has to set telegram.inline_storage_chat.")
NOT_ALLOWED = N_("Sorry, this bot is private.")
TYPE_A_PROMPT = N_("Type what to draw, e.g. a red fox --ar 16:9")
DRAW_DESCRIPTION = N_("The picture replaces this message when it is ready.")
STORAGE_FAILED = N_("I made your image but could not upload it for this message. Please try again.")
"""These are translated where they are shown: an inline query's answer in the typer's app language,
an inline message's text in the job's language (the core's)."""


def is_inline(target: Target) -> bool:
    """Whether the target is an inline message (not a chat)."""
    return INLINE_MESSAGE in target.extra


def result_id(prompt: str) -> str:
    """A result id of 37 bytes (Telegram allows 1-64) naming the prompt."""
    return RESULT_PREFIX + hashlib.sha256(prompt.encode()).hexdigest()[:32]


def drawing_text(prompt: str) -> str:
    """The inline message's text while its image is made: 🎨 Drawing “a red fox”…"""
    return _("🎨 Drawing “{prompt}”…").format(prompt=prompt)


@dataclass
class _Shown:
    text: str
    changed_at: float


def draw_another() -> InlineKeyboardMarkup:
    """The keyboard of an inline message: 🎨 Draw another (starts ``@bot `` in the same chat), in the
    current language."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(_("🎨 Draw another"), switch_inline_query_current_chat="")]]
    )


def result_keyboard(reply: Reply) -> InlineKeyboardMarkup:
    """The finished inline message's keyboard: the reply's Reroll/Vary/Upscale, then 🎨 Draw another."""
    actions = tuple(action for action in reply.actions if action in INLINE_ACTIONS)
    markup = render.keyboard(dataclasses.replace(reply, actions=actions, images=reply.images[:1]))
    rows = [list(row) for row in markup.inline_keyboard] if markup is not None else []
    return InlineKeyboardMarkup([*rows, *draw_another().inline_keyboard])


def picture_keyboard(generation_id: int) -> InlineKeyboardMarkup:
    """The keyboard of an inline message showing generation ``generation_id``'s picture (as
    :func:`result_keyboard` made it for its result)."""
    return result_keyboard(Reply(text="", generation_id=generation_id, actions=INLINE_ACTIONS))


def shown_generation(target: Target) -> int | None:
    """The generation the target's inline message shows, when the request was a press on it."""
    shown = target.extra.get(INLINE_SHOWN)
    return shown if isinstance(shown, int) and not isinstance(shown, bool) and shown > 0 else None


class InlineMode(BotCalls):
    """Answers inline queries, turns chosen results into requests, and delivers to inline messages."""

    def __init__(
        self,
        bot: Bot,
        delivery: TelegramDelivery,
        *,
        storage_chat: int | None,
        allowed: Callable[[int], bool],
    ) -> None:
        super().__init__(bot)
        self._delivery = delivery
        self._storage_chat = storage_chat
        self._allowed = allowed
        """Whether a user may use inline mode (``allowed_users``; nobody when ``allowed_chats`` is set)."""
        self._shown: dict[str, _Shown] = {}
        """Inline message id → the status text it shows now."""
        self._locks: dict[str, asyncio.Lock] = {}
        """One edit at a time per inline message (progress, then the answer)."""
        self._finished: OrderedDict[str, None] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self._storage_chat is not None

    # ------------------------------------------------------------------------------------ queries

    async def answer(self, query: InlineQuery) -> None:
        """Answer an inline query (every keystroke makes one: nothing is generated here), in the
        language of the typer's app."""
        with i18n.using(query.from_user.language_code):
            await self._answer(query)

    async def _answer(self, query: InlineQuery) -> None:
        prompt = " ".join(query.query.split())
        results: list[InlineQueryResultArticle] = []
        button: InlineQueryResultsButton | None = None
        if not self.enabled:
            results = [
                InlineQueryResultArticle(
                    OFF_RESULT,
                    _(NOT_SET_UP),
                    InputTextMessageContent(_(NOT_SET_UP_TEXT)),
                    description=_(NOT_SET_UP_DESCRIPTION),
                )
            ]
        elif not self._allowed(query.from_user.id):
            button = InlineQueryResultsButton(_(NOT_ALLOWED), start_parameter="private")
        elif not prompt:
            button = InlineQueryResultsButton(_(TYPE_A_PROMPT), start_parameter="inline")
        else:
            results = [
                InlineQueryResultArticle(
                    result_id(prompt),
                    _("🎨 Draw: {prompt}").format(prompt=shorten(prompt, 60)),
                    InputTextMessageContent(drawing_text(prompt)),
                    reply_markup=draw_another(),  # without a keyboard Telegram gives no inline_message_id
                    description=_(DRAW_DESCRIPTION),
                )
            ]
        try:
            await self._call(
                lambda: self._bot.answer_inline_query(
                    query.id, results, cache_time=0, is_personal=True, button=button, **self._lane(ANSWER)
                )
            )
        except DeliveryFailed as exc:  # the user typed on: this query is too old to answer
            log.info("telegram: inline query not answered: %s", exc)

    def incoming(self, chosen: ChosenInlineResult) -> Incoming | None:
        """The request a chosen result makes: one image of the query, for the inline message; None for
        results that make none (inline mode off, not allowed, or no inline message to deliver to)."""
        if not self.enabled or not chosen.result_id.startswith(RESULT_PREFIX):
            return None
        if chosen.inline_message_id is None:
            log.warning("telegram: a chosen inline result came without inline_message_id; nothing made")
            return None
        user = chosen.from_user
        if not self._allowed(user.id):
            return None
        prompt = " ".join(chosen.query.split())
        key = hashlib.sha256(chosen.inline_message_id.encode()).hexdigest()[:32]
        return Incoming(
            platform=PLATFORM,
            chat_id=str(user.id),  # the user's private chat with the bot: their settings and history
            user_id=str(user.id),
            display_name=user.full_name,
            text=prompt,
            message_id=f"inline-{key}",  # the idempotency key: one job per inline message
            locale=user.language_code,
            extra={INLINE_MESSAGE: chosen.inline_message_id, INLINE_PROMPT: prompt},
            intent=Generate(prompt=prompt, options=GenerationOptions(n=1)),  # one message, one image
        )

    # ----------------------------------------------------------------------------------- delivery

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        """The job's status line in the inline message's text, under its prompt (best effort): the same
        text is not sent again, a progress step shown for under ``PROGRESS_MIN_GAP_S`` is not replaced,
        and nothing is shown once the answer was sent. Done and Failed show nothing: the answer does."""
        inline_id = str(target.extra[INLINE_MESSAGE])
        status = render.status_text(event)
        if status is None or isinstance(event, Failed) or inline_id in self._finished:
            return
        prompt = target.extra.get(INLINE_PROMPT)
        text = shorten(f"{drawing_text(str(prompt))}\n{status}" if prompt else status, render.MAX_TEXT)
        async with self._lock(inline_id):
            if inline_id in self._finished:  # answered while this event waited
                self._locks.pop(inline_id, None)
                return
            shown = self._shown.get(inline_id)
            if shown is not None and (
                shown.text == text
                or (isinstance(event, Progress) and self._clock() - shown.changed_at < PROGRESS_MIN_GAP_S)
            ):
                return
            try:
                await self._call(
                    lambda: self._bot.edit_message_text(
                        text, inline_message_id=inline_id, reply_markup=draw_another(), **self._lane(COSMETIC)
                    )
                )
            except DeliveryFailed as exc:
                if skipped(exc):
                    return  # the flood budget went to results: a later step shows the news
                if NO_TEXT in str(exc).lower():  # it shows an image (a press on its buttons runs)
                    self._finish(inline_id)
                    return
                if "not modified" not in str(exc).lower():
                    raise
            self._shown[inline_id] = _Shown(text, self._clock())

    def _lock(self, inline_id: str) -> asyncio.Lock:
        return self._locks.setdefault(inline_id, asyncio.Lock())

    def _finish(self, inline_id: str) -> None:
        """No more progress for this inline message: its answer is being sent."""
        self._finished[inline_id] = None
        while len(self._finished) > FINISHED_REMEMBERED:
            self._finished.popitem(last=False)
        self._shown.pop(inline_id, None)
        self._locks.pop(inline_id, None)

    async def send(self, target: Target, reply: Reply) -> list[str]:
        """The image replaces the inline message (uploaded to the storage chat first, then edited in by
        its file_id); a text (a refusal, a failure, a cost to confirm) replaces its text. No message ids
        are returned: an inline message belongs to no chat the bot can delete in. A progress edit on
        its way is waited for first, and none is made after."""
        inline_id = str(target.extra[INLINE_MESSAGE])
        async with self._lock(inline_id):
            self._finish(inline_id)
        return await self._answer_with(inline_id, reply, shown_generation(target))

    async def _answer_with(self, inline_id: str, reply: Reply, shown: int | None) -> list[str]:
        if not reply.images:
            text = render.caption(reply, render.MAX_TEXT)
            await self._edit_text(inline_id, f"⚠️ {text}" if reply.is_error else text, reply.is_error, shown)
            return []
        if self._storage_chat is None:  # turned off since the request: say so rather than stay silent
            await self._edit_text(inline_id, "⚠️ " + _(NOT_SET_UP_TEXT), True, shown)
            return []
        try:
            file_id, document = await self._delivery.store(self._storage_chat, reply)
        except DeliveryFailed as exc:
            if exc.permanent:
                await self._try(lambda: self._edit_text(inline_id, "⚠️ " + _(STORAGE_FAILED), True, shown))
            raise
        caption = render.caption(reply)
        media = (
            InputMediaDocument(file_id, caption=caption)
            if document
            else InputMediaPhoto(file_id, caption=caption, has_spoiler=reply.spoiler or None)
        )
        markup = result_keyboard(reply)
        try:
            await self._call(
                lambda: self._bot.edit_message_media(
                    media, inline_message_id=inline_id, reply_markup=markup, **self._lane(RESULT)
                )
            )
        except DeliveryFailed as exc:
            if "not modified" not in str(exc).lower():  # an earlier try got through
                raise
        return []

    async def _edit_text(self, inline_id: str, text: str, error: bool, shown: int | None) -> None:
        """The inline message's text; when it shows an image by now (a press on its buttons failed),
        its caption instead, so the picture stays, with its buttons when ``shown`` names it."""
        markup = None if error else draw_another()
        try:
            await self._call(
                lambda: self._bot.edit_message_text(
                    shorten(text, render.MAX_TEXT),
                    inline_message_id=inline_id,
                    reply_markup=markup,
                    **self._lane(RESULT),
                )
            )
        except DeliveryFailed as exc:
            if NO_TEXT in str(exc).lower():
                await self._edit_caption(inline_id, text, shown)
            elif "not modified" not in str(exc).lower():
                raise

    async def _edit_caption(self, inline_id: str, text: str, shown: int | None) -> None:
        markup = draw_another() if shown is None else picture_keyboard(shown)
        try:
            await self._call(
                lambda: self._bot.edit_message_caption(
                    inline_message_id=inline_id,
                    caption=shorten(text, render.MAX_CAPTION),
                    reply_markup=markup,
                    **self._lane(RESULT),
                )
            )
        except DeliveryFailed as exc:
            if "not modified" not in str(exc).lower():
                raise
