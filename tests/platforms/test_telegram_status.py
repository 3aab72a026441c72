"""The lazy status message: shown only for a job still running after the delay, and never left behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from telegram import Bot

from bot.core.types import Done, Failed, Progress, Queued, Reply, Started, Target
from bot.platforms.telegram.delivery import TelegramDelivery
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.platforms.conftest import CHAT, USER

TARGET = Target(platform="telegram", chat_id=str(CHAT), user_id=str(USER))
SHORT_S = 0.01
NEVER_S = 600.0

Make = Callable[[float], TelegramDelivery]


@pytest.fixture
async def world() -> AsyncIterator[tuple[Make, FakeTelegram]]:
    """A delivery maker (status delay → delivery, closed at the end) and the fake it talks to."""
    async with FakeTelegram() as tg:
        tg.world.chat(CHAT)
        bot = Bot(TOKEN, base_url=tg.base_url)
        await bot.initialize()
        tg.calls.clear()  # getMe
        made: list[TelegramDelivery] = []

        def make(delay_s: float) -> TelegramDelivery:
            made.append(TelegramDelivery(bot, status_delay_s=delay_s))
            return made[-1]

        try:
            yield make, tg
        finally:
            for delivery in made:
                await delivery.aclose()
            await bot.shutdown()


def status_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("telegram-status-") and not t.done()]


async def test_a_job_done_before_the_delay_sends_no_status(world: tuple[Make, FakeTelegram]) -> None:
    """Queued → Started → Progress → Done within the delay: a chat action, no message, no timer left."""
    make, tg = world
    sender = make(NEVER_S)
    for event in (Queued(position=1), Started(provider="p"), Progress(fraction=0.5), Done(generation_id=1)):
        await sender.event(TARGET, 1, event)
    await asyncio.sleep(0)
    assert [c.method for c in tg.calls] == ["sendChatAction"] and status_tasks() == []


async def test_a_slow_job_shows_its_latest_status_then_deletes_it(world: tuple[Make, FakeTelegram]) -> None:
    """After the delay the status shows the latest line; later lines edit it; Done deletes it."""
    make, tg = world
    sender = make(SHORT_S)
    await sender.event(TARGET, 1, Queued(position=1))
    await sender.event(TARGET, 1, Started(provider="p"))
    await tg.wait_for(lambda: tg.calls_to("sendMessage"))
    assert tg.texts(CHAT) == ["Generating with p…"]
    await sender.event(TARGET, 1, Progress(fraction=0.5))
    await sender.event(TARGET, 1, Done(generation_id=1))
    (status,) = tg.sent_to(CHAT)
    assert tg.current(CHAT, status["message_id"]) is None


async def test_done_while_the_status_is_being_sent_still_deletes_it(world: tuple[Make, FakeTelegram]) -> None:
    """Done arriving while sendMessage is in flight waits for its id and deletes the message."""
    make, tg = world
    sender = make(SHORT_S)
    gate = tg.hold_next("sendMessage")
    await sender.event(TARGET, 1, Queued(position=1))
    await tg.wait_for(lambda: tg.calls_to("sendMessage"))
    done = asyncio.create_task(sender.event(TARGET, 1, Done(generation_id=1)))
    await asyncio.sleep(0.05)
    assert not done.done()
    gate.set()
    await done
    (status,) = tg.sent_to(CHAT)
    assert tg.current(CHAT, status["message_id"]) is None


async def test_a_quick_failure_is_said_once_by_the_failure_reply(world: tuple[Make, FakeTelegram]) -> None:
    """Failed before the status showed sends nothing; the failure reply that follows says the reason."""
    make, tg = world
    sender = make(NEVER_S)
    await sender.event(TARGET, 1, Queued(position=1))
    await sender.event(TARGET, 1, Failed(reason="The provider refused this prompt."))
    assert tg.calls == []
    await sender.send(TARGET, Reply(text="The provider refused this prompt.", is_error=True))
    assert tg.texts(CHAT) == ["The provider refused this prompt."]


async def test_a_failure_after_the_status_showed_is_said_in_it_once(world: tuple[Make, FakeTelegram]) -> None:
    """Failed after the status showed edits it into the reason; the failure reply adds no message."""
    make, tg = world
    sender = make(SHORT_S)
    await sender.event(TARGET, 1, Queued(position=1))
    await tg.wait_for(lambda: tg.calls_to("sendMessage"))
    await sender.event(TARGET, 1, Failed(reason="The provider refused this prompt."))
    await sender.send(TARGET, Reply(text="The provider refused this prompt.", is_error=True))
    (status,) = tg.sent_to(CHAT)
    current = tg.current(CHAT, status["message_id"])
    assert current is not None and current["text"] == "⚠️ The provider refused this prompt."


async def test_closing_cancels_the_timers(world: tuple[Make, FakeTelegram]) -> None:
    """aclose stops pending status timers: no task left, nothing sent, later events arm none."""
    make, tg = world
    sender = make(NEVER_S)
    await sender.event(TARGET, 1, Queued(position=1))
    assert len(status_tasks()) == 1
    await sender.aclose()
    await sender.event(TARGET, 2, Queued(position=2))
    assert status_tasks() == [] and tg.calls == []


async def test_no_delay_shows_the_status_at_once(world: tuple[Make, FakeTelegram]) -> None:
    """With a delay of 0 the status message is sent within the first event, as before."""
    make, tg = world
    sender = make(0.0)
    await sender.event(TARGET, 1, Queued(position=3))
    assert tg.texts(CHAT) == ["Queued (#3)"] and status_tasks() == []
