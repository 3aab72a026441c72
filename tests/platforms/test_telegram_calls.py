"""Bot API calls the Telegram delivery saves: no repeated chat action while one shows, no progress edit
right after the status line changed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.core.types import Progress, Queued, Reply, Started, Target
from bot.platforms.telegram.calls import ACTION_SHOWN_S
from bot.platforms.telegram.delivery import TelegramDelivery
from tests.fakes.scripted import ScriptedProvider
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.platforms.conftest import CHAT, USER, Running

TARGET = Target(platform="telegram", chat_id=str(CHAT), user_id=str(USER))


@pytest.mark.easel(providers=lambda: [ScriptedProvider()])
async def test_one_request_sends_one_chat_action_and_no_instant_progress_edit(running: Running) -> None:
    """Started, an immediate 100% progress and the photo: one chat action, no "Generating… 100%" edit."""
    await running.photo_after("/imagine a fox")
    assert len(running.tg.calls_to("sendChatAction")) == 1
    edits = [str(c.params.get("text")) for c in running.tg.calls_to("editMessageText")]
    assert not any("100%" in text for text in edits)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def delivery() -> AsyncIterator[tuple[TelegramDelivery, FakeTelegram, Clock]]:
    async with FakeTelegram() as tg:
        tg.world.chat(CHAT)
        bot = Bot(TOKEN, base_url=tg.base_url)
        await bot.initialize()
        clock = Clock()
        try:
            yield TelegramDelivery(bot, clock=clock, status_delay_s=0), tg, clock
        finally:
            await bot.shutdown()


async def test_chat_action_is_sent_again_once_it_has_faded(
    delivery: tuple[TelegramDelivery, FakeTelegram, Clock],
) -> None:
    """A second job event within the action's lifetime sends none; after it, one again."""
    sender, tg, clock = delivery
    await sender.event(TARGET, 1, Queued(position=1))
    await sender.event(TARGET, 1, Started(provider="p"))
    await sender.event(TARGET, 1, Progress(fraction=0.5))
    assert len(tg.calls_to("sendChatAction")) == 1
    clock.now += ACTION_SHOWN_S
    await sender.event(TARGET, 1, Progress(fraction=0.9))
    assert len(tg.calls_to("sendChatAction")) == 2


async def test_a_message_from_the_bot_ends_the_chat_action(
    delivery: tuple[TelegramDelivery, FakeTelegram, Clock],
) -> None:
    """After the bot sent a message to the chat, the next job event shows the action again."""
    sender, tg, _ = delivery
    await sender.event(TARGET, 1, Started(provider="p"))
    await sender.send(TARGET, Reply(text="hello"))
    await sender.event(TARGET, 2, Started(provider="p"))
    assert len(tg.calls_to("sendChatAction")) == 2


async def test_progress_is_shown_once_the_status_line_is_a_second_old(
    delivery: tuple[TelegramDelivery, FakeTelegram, Clock],
) -> None:
    """A progress update right after the status changed is skipped; a second later it is shown."""
    sender, tg, clock = delivery
    await sender.event(TARGET, 1, Queued(position=1))
    await sender.event(TARGET, 1, Started(provider="p"))
    await sender.event(TARGET, 1, Progress(fraction=0.4))
    clock.now += 1.0
    await sender.event(TARGET, 1, Progress(fraction=0.6))
    texts = [str(c.params.get("text")) for c in tg.calls_to("editMessageText")]
    assert texts == ["Generating with p…", "Generating… 60%"]
