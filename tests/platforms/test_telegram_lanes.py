"""Results first under flood control: the lanes of ``PriorityFloodLimiter``, and what the Telegram
delivery spends of the budget in a burst."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage
from telegram.ext import ExtBot

from bot.core.types import Reply, Started, StoredImage, Target
from bot.platforms.telegram.delivery import TelegramDelivery
from bot.platforms.telegram.lanes import (
    ANSWER,
    CLEANUP,
    COSMETIC,
    RESULT,
    STATUS,
    Call,
    FloodSkipped,
    PriorityFloodLimiter,
)
from tests.fakes.telegram import TOKEN, FakeTelegram

PRIVATE = {"chat_id": 7}


async def send(
    limiter: PriorityFloodLimiter, call: Call, data: dict[str, Any], log: list[str], name: str
) -> None:
    async def callback() -> bool:
        log.append(name)
        return True

    await limiter.process_request(callback, (), {}, "sendMessage", data, call)


async def test_a_waiting_result_goes_before_a_cleanup_that_waited_longer() -> None:
    """With the window full, the result queued second is sent before the clean-up queued first."""
    limiter = PriorityFloodLimiter(overall=(1, 0.05))
    log: list[str] = []
    await send(limiter, RESULT, PRIVATE, log, "first")
    cleanup = asyncio.create_task(send(limiter, CLEANUP, PRIVATE, log, "cleanup"))
    await asyncio.sleep(0)
    result = asyncio.create_task(send(limiter, RESULT, PRIVATE, log, "result"))
    await asyncio.wait_for(asyncio.gather(cleanup, result), 2)
    assert log == ["first", "result", "cleanup"]


async def test_a_text_answer_goes_before_waiting_photos() -> None:
    """/status asked during a burst is answered before the photos that were waiting already."""
    limiter = PriorityFloodLimiter(overall=(1, 0.05))
    log: list[str] = []
    await send(limiter, RESULT, PRIVATE, log, "first")
    photos = [asyncio.create_task(send(limiter, RESULT, PRIVATE, log, f"photo {i}")) for i in range(2)]
    await asyncio.sleep(0)
    answer = asyncio.create_task(send(limiter, ANSWER, PRIVATE, log, "status"))
    await asyncio.wait_for(asyncio.gather(answer, *photos), 2)
    assert log == ["first", "status", "photo 0", "photo 1"]


async def test_a_droppable_call_is_skipped_while_a_result_waits() -> None:
    """A chat action asked for while a photo waits for room is not sent at all."""
    limiter = PriorityFloodLimiter(overall=(1, 0.05))
    log: list[str] = []
    await send(limiter, RESULT, PRIVATE, log, "first")
    waiting = asyncio.create_task(send(limiter, RESULT, PRIVATE, log, "photo"))
    await asyncio.sleep(0)
    with pytest.raises(FloodSkipped):
        await send(limiter, COSMETIC, PRIVATE, log, "action")
    await asyncio.wait_for(waiting, 2)
    assert log == ["first", "photo"]


async def test_a_droppable_call_goes_when_the_budget_is_idle() -> None:
    """One user at a quiet moment still gets the chat action and the status line."""
    limiter = PriorityFloodLimiter(overall=(30, 1.0))
    log: list[str] = []
    await send(limiter, COSMETIC, PRIVATE, log, "action")
    await send(limiter, STATUS, PRIVATE, log, "status")
    assert log == ["action", "status"]


async def test_half_the_window_is_kept_for_results() -> None:
    """Once half of the second's budget is used, droppable calls stop; results still go at once."""
    limiter = PriorityFloodLimiter(overall=(4, 10.0))
    log: list[str] = []
    for name in ("a", "b"):
        await send(limiter, RESULT, PRIVATE, log, name)
    with pytest.raises(FloodSkipped):
        await send(limiter, COSMETIC, PRIVATE, log, "action")
    await send(limiter, RESULT, PRIVATE, log, "c")
    assert log == ["a", "b", "c"]


async def test_a_full_group_does_not_hold_up_private_chats() -> None:
    """A group past its 20 a minute waits; a private chat's photo behind it goes at once."""
    limiter = PriorityFloodLimiter(overall=(100, 1.0), per_group=(1, 60.0))
    log: list[str] = []
    group = {"chat_id": -100}
    await send(limiter, RESULT, group, log, "group 1")
    stuck = asyncio.create_task(send(limiter, RESULT, group, log, "group 2"))
    await asyncio.sleep(0)
    await asyncio.wait_for(send(limiter, RESULT, PRIVATE, log, "private"), 1)
    assert log == ["group 1", "private"] and not stuck.done()
    stuck.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stuck
    assert limiter.waiting == 0


async def test_a_cancelled_waiter_leaves_no_place_behind() -> None:
    """A call cancelled while waiting is forgotten: droppable calls go again once the window frees."""
    limiter = PriorityFloodLimiter(overall=(1, 0.05))
    log: list[str] = []
    await send(limiter, RESULT, PRIVATE, log, "first")
    waiting = asyncio.create_task(send(limiter, RESULT, PRIVATE, log, "never"))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.sleep(0.06)
    await send(limiter, COSMETIC, PRIVATE, log, "action")
    assert log == ["first", "action"] and limiter.waiting == 0


@pytest.fixture
async def laned(tmp_path: Path) -> AsyncIterator[tuple[TelegramDelivery, FakeTelegram, StoredImage]]:
    """A delivery whose bot has a small flood budget (6 calls in 0.3 s), and an image to send."""
    async with FakeTelegram() as tg:
        path = tmp_path / "photo.png"
        PILImage.new("RGB", (64, 64), (200, 80, 40)).save(path)
        size = path.stat().st_size
        image = StoredImage(
            id="img", path=path, mime="image/png", sha256="0" * 64, size_bytes=size, width=64, height=64
        )
        bot = ExtBot(TOKEN, base_url=tg.base_url, rate_limiter=PriorityFloodLimiter(overall=(6, 0.3)))
        await bot.initialize()
        tg.calls.clear()  # getMe
        try:
            yield TelegramDelivery(bot, status_delay_s=0.05), tg, image
        finally:
            await bot.shutdown()


async def test_a_burst_of_photos_spends_the_budget_on_the_photos(
    laned: tuple[TelegramDelivery, FakeTelegram, StoredImage],
) -> None:
    """24 chats' jobs at once: every photo arrives, and at most a few calls go to anything else."""
    delivery, tg, image = laned
    chats = range(1000, 1024)
    for chat in chats:
        tg.world.chat(chat)

    async def job(chat: int) -> None:
        target = Target(platform="telegram", chat_id=str(chat), user_id=str(chat))
        await delivery.event(target, chat, Started(provider="p"))
        await delivery.send(target, Reply(text="a fox", images=(image,)))

    await asyncio.wait_for(asyncio.gather(*(job(chat) for chat in chats)), 20)
    await delivery.aclose()
    assert [len(tg.photos(chat)) for chat in chats] == [1] * 24
    others = [c for c in tg.calls if c.method not in {"sendPhoto", "getUpdates"}]
    assert len(others) <= 3, [c.method for c in others]


def test_would_drop_matches_what_admission_skips() -> None:
    """A droppable call is predicted dropped exactly when the window is half used; a result never."""
    now = [0.0]
    limiter = PriorityFloodLimiter(overall=(4, 1.0), clock=lambda: now[0])
    assert not limiter.would_drop(STATUS, 7) and not limiter.would_drop(RESULT, 7)
    limiter._take(None, now[0])
    limiter._take(None, now[0])  # half of the window used
    assert limiter.would_drop(STATUS, 7) and limiter.would_drop(COSMETIC, 7)
    assert not limiter.would_drop(RESULT, 7)


async def test_dropped_status_calls_are_not_even_built_in_a_burst(
    laned: tuple[TelegramDelivery, FakeTelegram, StoredImage], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While photos fill the window, status messages and chat actions are skipped before PTB builds a
    request for them: few attempts reach the bot at all, not several per job."""
    delivery, tg, image = laned
    attempts: list[str] = []
    original = ExtBot._do_post

    async def counting(self: ExtBot[Any], endpoint: str, *args: Any, **kwargs: Any) -> Any:
        attempts.append(endpoint)
        return await original(self, endpoint, *args, **kwargs)

    monkeypatch.setattr(ExtBot, "_do_post", counting)
    chats = range(2000, 2024)
    for chat in chats:
        tg.world.chat(chat)

    async def job(chat: int) -> None:
        target = Target(platform="telegram", chat_id=str(chat), user_id=str(chat))
        await delivery.event(target, chat, Started(provider="p"))
        await asyncio.sleep(0.2)  # past the status delay: its status message is due
        await delivery.send(target, Reply(text="a fox", images=(image,)))

    await asyncio.wait_for(asyncio.gather(*(job(chat) for chat in chats)), 20)
    await delivery.aclose()
    others = [a for a in attempts if a != "sendPhoto"]
    assert len(others) <= 6, others
