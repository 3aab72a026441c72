"""The adapter's pure parts: update translation and rendering."""

from __future__ import annotations

from typing import Any

from telegram import Message

from bot.core.types import Action, Reply
from bot.platforms.telegram import render
from bot.platforms.telegram.updates import chat_key, generation_ref, split_chat_key, translate
from tests.fakes.telegram_world import BOT_ID, BOT_USER, BOT_USERNAME, World


def message(data: dict[str, Any]) -> Message:
    parsed = Message.de_json(data, None)
    assert parsed is not None
    return parsed


def test_generation_ref_prefers_the_id_line_over_the_prompt() -> None:
    """'#3' in a prompt does not win over the '#12 · seed' line the bot writes."""
    assert generation_ref("a #3 jersey\n#12 · seed 5 · 1:1 · builtin") == 12
    assert generation_ref("edit: warmer\n#7 · seed 1") == 7 and generation_ref("no id") is None


def test_forum_topics_are_conversations_of_their_own() -> None:
    """A forum topic's chat key carries the thread, and splits back."""
    assert split_chat_key(chat_key(-100, 7)) == (-100, 7) and split_chat_key("42") == (42, None)


def test_group_chatter_is_not_translated() -> None:
    """A plain group message not addressed to the bot is dropped before routing."""
    world = World()
    world.chat(-5).type = "supergroup"
    sent = world.user_message(-5, 1, text="a red fox")
    assert translate(message(sent), bot_id=BOT_ID, bot_username=BOT_USERNAME) is None


def test_mid_text_mention_addresses_the_bot_and_is_removed() -> None:
    """'hey @Bot draw a fox' in a group is addressed, with the mention taken out."""
    world = World()
    world.chat(-5).type = "supergroup"
    sent = world.user_message(-5, 1, text=f"hey @{BOT_USERNAME} draw a fox")
    inbound = translate(message(sent), bot_id=BOT_ID, bot_username=BOT_USERNAME)
    assert inbound is not None and inbound.addressed and inbound.incoming.text == "hey draw a fox"


def test_reply_to_the_bots_photo_names_its_generation() -> None:
    """A reply to the bot's photo carries the generation id from its caption and downloads nothing."""
    world = World()
    chat = world.chat(9)
    photo = world.new_message(chat, dict(BOT_USER), photo=world.photo_sizes(b"x"), caption="fox\n#4 · seed 1")
    sent = world.user_message(9, 9, text="make it warmer", reply_to=photo["message_id"])
    inbound = translate(message(sent), bot_id=BOT_ID, bot_username=BOT_USERNAME)
    assert inbound is not None and inbound.incoming.reply_to_generation_id == 4 and inbound.image is None


def test_callback_data_names_only_the_action_and_generation() -> None:
    """Callback data is ``d:<id>`` within 64 bytes; an old Delete's requester and count are ignored;
    an id no row can have names nothing."""
    button = render.Button(Action.DELETE, 2_147_483_647)
    data = render.encode(button)
    assert data == "d:2147483647" and render.decode(data) == button and len(data.encode()) <= 64
    assert render.decode("d:999999999999") is None
    assert render.decode("d:12:99999:11") == render.Button(Action.DELETE, 12)
    assert render.decode("garbage") is None and render.decode("d:\u0663") is None


def test_caption_drops_notes_before_cutting_the_text() -> None:
    """Long notes are dropped so the caption (with its #id line) fits 1024 characters."""
    reply = Reply(text="a fox\n#3 · seed 1", notes=("x" * 2000,))
    assert render.caption(reply) == "a fox\n#3 · seed 1"


def test_long_text_is_split_at_4096() -> None:
    """Text over 4096 characters is sent in pieces, none longer than the limit."""
    pieces = render.split_text("line\n" * 2000)
    assert len(pieces) == 3 and all(len(p) <= 4096 for p in pieces)
