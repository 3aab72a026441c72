"""The fake Bot API holds inline mode to Telegram's rules (spoken to by the real python-telegram-bot)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputMediaPhoto,
    InputTextMessageContent,
)
from telegram.error import BadRequest

from tests.fakes.scripted import png
from tests.fakes.telegram import TOKEN, FakeTelegram

USER = 4242
KEYS = InlineKeyboardMarkup([[InlineKeyboardButton("more", switch_inline_query_current_chat="")]])


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    async with FakeTelegram() as tg:
        bot = Bot(TOKEN, base_url=tg.base_url, base_file_url=tg.base_file_url)
        async with bot:
            yield tg, bot


def article(result_id: str, *, markup: InlineKeyboardMarkup | None = KEYS) -> InlineQueryResultArticle:
    return InlineQueryResultArticle(result_id, "title", InputTextMessageContent("text"), reply_markup=markup)


async def posted(tg: FakeTelegram, bot: Bot, result: Any = None) -> str:
    """An answered query whose first result the user chose; the inline message id."""
    query_id = tg.inline(USER, "a fox")
    await bot.answer_inline_query(query_id, [result or article("a")])
    inline_message_id = tg.choose(query_id)
    assert inline_message_id is not None
    return inline_message_id


async def test_more_than_50_results_are_refused(fake: tuple[FakeTelegram, Bot]) -> None:
    """answerInlineQuery takes at most 50 results."""
    tg, bot = fake
    query_id = tg.inline(USER, "a fox")
    with pytest.raises(BadRequest, match="Too many inline query results"):
        await bot.answer_inline_query(query_id, [article(str(i)) for i in range(51)])


async def test_a_result_id_over_64_bytes_is_refused(fake: tuple[FakeTelegram, Bot]) -> None:
    """InlineQueryResult ids are 1-64 bytes."""
    tg, bot = fake
    query_id = tg.inline(USER, "a fox")
    with pytest.raises(BadRequest, match=r"(?i)result_id_invalid"):
        await bot.answer_inline_query(query_id, [article("é" * 33)])


async def test_duplicate_result_ids_are_refused(fake: tuple[FakeTelegram, Bot]) -> None:
    """Two results with one id are refused."""
    tg, bot = fake
    query_id = tg.inline(USER, "a fox")
    with pytest.raises(BadRequest, match=r"(?i)result_id_duplicate"):
        await bot.answer_inline_query(query_id, [article("a"), article("a")])


async def test_a_query_is_answered_once(fake: tuple[FakeTelegram, Bot]) -> None:
    """A second answer to the same inline query is "too old"."""
    tg, bot = fake
    query_id = tg.inline(USER, "a fox")
    await bot.answer_inline_query(query_id, [article("a")])
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_inline_query(query_id, [article("a")])


async def test_an_inline_query_is_at_most_256_characters(fake: tuple[FakeTelegram, Bot]) -> None:
    """Telegram's clients send at most 256 characters of query."""
    tg, _ = fake
    with pytest.raises(AssertionError):
        tg.inline(USER, "x" * 257)


async def test_a_chosen_result_without_a_keyboard_has_no_inline_message_id(
    fake: tuple[FakeTelegram, Bot],
) -> None:
    """Only a result with an inline keyboard gives the bot the inline_message_id it can edit."""
    tg, bot = fake
    await posted(tg, bot, article("a", markup=None))
    [update] = [u for u in tg.world.updates if "chosen_inline_result" in u]
    assert "inline_message_id" not in update["chosen_inline_result"]


async def test_an_inline_message_cannot_take_an_upload(fake: tuple[FakeTelegram, Bot]) -> None:
    """editMessageMedia with inline_message_id and a new file is refused."""
    tg, bot = fake
    inline_message_id = await posted(tg, bot)
    with pytest.raises(BadRequest, match="inline message"):
        await bot.edit_message_media(InputMediaPhoto(png()), inline_message_id=inline_message_id)


async def test_an_inline_message_takes_a_photo_by_file_id(fake: tuple[FakeTelegram, Bot]) -> None:
    """editMessageMedia with a known photo's file_id turns the text message into that photo (True)."""
    tg, bot = fake
    tg.group(-100)
    stored = await bot.send_photo(-100, png())
    inline_message_id = await posted(tg, bot)
    file_id = stored.photo[-1].file_id
    assert await bot.edit_message_media(InputMediaPhoto(file_id), inline_message_id=inline_message_id) is True
    assert tg.inline_message(inline_message_id)["photo"][-1]["file_id"] == file_id


async def test_an_unknown_inline_message_id_is_refused(fake: tuple[FakeTelegram, Bot]) -> None:
    """An inline_message_id Telegram never gave is MESSAGE_ID_INVALID."""
    _, bot = fake
    with pytest.raises(BadRequest, match=r"(?i)message_id_invalid"):
        await bot.edit_message_text("hi", inline_message_id="AgAAAnotreal")


async def test_update_kinds_not_asked_for_are_not_delivered(fake: tuple[FakeTelegram, Bot]) -> None:
    """After getUpdates(allowed_updates=["message"]) an inline query never reaches the bot."""
    tg, bot = fake
    await bot.get_updates(timeout=0, allowed_updates=["message"])
    tg.inline(USER, "a fox")
    assert await bot.get_updates(timeout=0) == ()
