"""Inline mode (``@bot a red fox`` in any chat) through the real adapter against the fake Bot API: the
query answered, the chosen result's inline message edited into the image uploaded to the storage chat."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.core.errors import Refused
from bot.platforms.telegram.adapter import ALLOWED_UPDATES
from tests.fakes.scripted import ScriptedProvider
from tests.platforms.conftest import USER, Running

STORAGE = -1009876
INLINE = {"EASEL__TELEGRAM__INLINE_STORAGE_CHAT": str(STORAGE)}


async def answered(running: Running, query: str, user: int = USER) -> tuple[str, dict[str, Any]]:
    """Type ``@bot <query>``; the query id and the bot's answerInlineQuery parameters."""
    tg = running.tg
    query_id = tg.inline(user, query)
    await tg.wait_for(lambda: query_id in tg.inline_answers)
    return query_id, tg.inline_answers[query_id]


async def chosen(running: Running, query: str, user: int = USER) -> str:
    """Type ``@bot <query>`` and tap the first result; the inline message's id."""
    query_id, _ = await answered(running, query, user)
    inline_message_id = running.tg.choose(query_id)
    assert inline_message_id is not None
    return inline_message_id


@pytest.mark.easel(env=INLINE)
async def test_an_inline_query_is_answered_with_one_drawing_article_and_makes_nothing(
    running: Running,
) -> None:
    """@bot a red fox is answered with one article (a placeholder with a keyboard); no image is made."""
    running.tg.group(STORAGE)
    _, answer = await answered(running, "a red fox")
    [article] = answer["results"]
    assert article["type"] == "article" and "a red fox" in article["title"]
    assert "a red fox" in article["input_message_content"]["message_text"]
    assert article["reply_markup"]["inline_keyboard"]  # what makes Telegram give an inline_message_id
    await asyncio.sleep(0.2)
    assert not running.tg.calls_to("sendPhoto")


@pytest.mark.easel(env=INLINE)
async def test_a_chosen_result_becomes_the_image_uploaded_to_the_storage_chat(running: Running) -> None:
    """Tapping the result: the image goes silently to the storage chat, then into the inline message by
    its file_id, captioned with the prompt."""
    tg = running.tg
    tg.group(STORAGE)
    inline_message_id = await chosen(running, "a red fox")
    await tg.wait_for(lambda: "photo" in tg.inline_message(inline_message_id))
    message = tg.inline_message(inline_message_id)
    [stored] = tg.photos(STORAGE)
    assert message["photo"][-1]["file_id"] == stored["photo"][-1]["file_id"]
    assert "red fox" in message["caption"] and "text" not in message
    upload = tg.calls_to("sendPhoto")[0]
    assert upload.params["chat_id"] == STORAGE and upload.params.get("disable_notification") is True
    [edit] = tg.calls_to("editMessageMedia")
    assert edit.params["inline_message_id"] == inline_message_id and not edit.files


@pytest.mark.easel(env=INLINE)
async def test_an_inline_request_makes_one_image_whatever_n_it_asks(running: Running) -> None:
    """An inline message holds one image: --n 3 in the query still makes and uploads one."""
    tg = running.tg
    tg.group(STORAGE)
    inline_message_id = await chosen(running, "three foxes --n 3")
    await tg.wait_for(lambda: "photo" in tg.inline_message(inline_message_id))
    assert len(tg.photos(STORAGE)) == 1 and not tg.calls_to("sendMediaGroup")


@pytest.mark.easel(env=INLINE | {"EASEL__LIMITS__USER_RATE": "1/minute"})
async def test_inline_requests_count_against_the_users_rate_limit(running: Running) -> None:
    """The user's rate limit holds for inline requests: the second is refused in its inline message."""
    tg = running.tg
    tg.group(STORAGE)
    first = await chosen(running, "a red fox")
    await tg.wait_for(lambda: "photo" in tg.inline_message(first))
    second = await chosen(running, "a blue fox")
    await tg.wait_for(lambda: "too fast" in tg.inline_message(second).get("text", ""))
    assert "photo" not in tg.inline_message(second) and len(tg.photos(STORAGE)) == 1


def _refusing() -> list[Any]:
    return [ScriptedProvider(errors=[Refused("no", provider="scripted", user_message="not this prompt")])]


@pytest.mark.easel(env=INLINE, providers=_refusing)
async def test_a_failed_inline_request_says_why_in_its_message(running: Running) -> None:
    """A provider's refusal replaces the placeholder's text with the reason."""
    tg = running.tg
    tg.group(STORAGE)
    inline_message_id = await chosen(running, "a red fox")
    await tg.wait_for(lambda: "not this prompt" in tg.inline_message(inline_message_id).get("text", ""))
    assert not tg.photos(STORAGE)


async def test_without_a_storage_chat_inline_queries_are_answered_not_set_up(running: Running) -> None:
    """No telegram.inline_storage_chat: one "Inline mode is not set up" article; choosing it makes nothing."""
    tg = running.tg
    query_id, answer = await answered(running, "a red fox")
    [article] = answer["results"]
    assert article["title"] == "Inline mode is not set up"
    assert "inline_storage_chat" in article["input_message_content"]["message_text"]
    tg.choose(query_id)
    await asyncio.sleep(0.3)
    assert not tg.calls_to("sendPhoto") and not tg.calls_to("editMessageMedia")


@pytest.mark.easel(env=INLINE | {"EASEL__TELEGRAM__ALLOWED_USERS": "[1]"})
async def test_inline_queries_of_users_not_allowed_get_no_results(running: Running) -> None:
    """A user outside allowed_users gets no results, only a "private" button."""
    running.tg.group(STORAGE)
    _, answer = await answered(running, "a red fox")
    assert answer["results"] == [] and "private" in answer["button"]["text"]


@pytest.mark.easel(env=INLINE)
async def test_an_empty_inline_query_asks_for_a_prompt(running: Running) -> None:
    """@bot with nothing typed yet: no results, a button saying what to type."""
    running.tg.group(STORAGE)
    _, answer = await answered(running, "")
    assert answer["results"] == [] and "Type what to draw" in answer["button"]["text"]


async def test_the_bot_asks_telegram_for_inline_updates(running: Running) -> None:
    """getUpdates names inline_query and chosen_inline_result (Telegram sends only the kinds named)."""
    await running.tg.wait_for(lambda: running.tg.calls_to("getUpdates"))
    asked = running.tg.calls_to("getUpdates")[-1].params["allowed_updates"]
    assert {"inline_query", "chosen_inline_result"} <= set(asked) and asked == ALLOWED_UPDATES


@pytest.mark.easel(env=INLINE)
async def test_format_file_in_the_users_chat_makes_the_inline_message_a_document(running: Running) -> None:
    """The user's /settings format file (their private chat's) holds inline: the message becomes a file."""
    tg = running.tg
    tg.group(STORAGE)
    tg.say(USER, USER, "/settings format file")
    await tg.wait_for(lambda: any("format: file" in t for t in tg.texts(USER)))
    inline_message_id = await chosen(running, "a red fox")
    await tg.wait_for(lambda: "document" in tg.inline_message(inline_message_id))
    [stored] = tg.documents(STORAGE)
    assert tg.inline_message(inline_message_id)["document"]["file_id"] == stored["document"]["file_id"]
