"""Updates of different chats run at once, one chat's in order: the processor alone and in the bot."""

from __future__ import annotations

import asyncio
import gc

from telegram import Update

from bot.platforms.telegram.concurrency import ChatOrderedUpdateProcessor, is_quick
from tests.fakes.telegram_world import World
from tests.platforms.conftest import CHAT, USER, Running

GROUP = -1001234
ADMIN = 777


def update(chat_id: int, update_id: int = 1, text: str = "hi") -> Update:
    parsed = Update.de_json(
        {"update_id": update_id, "message": World().user_message(chat_id, 5, text=text)}, None
    )
    assert parsed is not None
    return parsed


async def settle() -> None:
    """Let every runnable task run until it waits for something."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_chats_updates_run_in_order_and_its_lane_goes_when_idle() -> None:
    """The second update of a chat starts only after the first finished; then no lane is kept."""
    processor = ChatOrderedUpdateProcessor()
    release, log = asyncio.Event(), []

    async def handler(name: str) -> None:
        log.append(f"{name} start")
        if name == "first":
            await release.wait()
        log.append(f"{name} end")

    tasks = [
        asyncio.create_task(processor.process_update(update(1, i), handler(n)))
        for i, n in enumerate(("first", "second"))
    ]
    await settle()
    assert log == ["first start"] and processor.chats_waiting == 1
    release.set()
    await asyncio.gather(*tasks)
    assert log == ["first start", "first end", "second start", "second end"] and processor.chats_waiting == 0


async def test_other_chats_run_while_one_chat_waits() -> None:
    """A held update of one chat does not keep another chat's update from finishing."""
    processor = ChatOrderedUpdateProcessor()
    release = asyncio.Event()
    held = asyncio.create_task(processor.process_update(update(1), release.wait()))
    await asyncio.wait_for(processor.process_update(update(2), asyncio.sleep(0)), 5)
    assert not held.done()
    release.set()
    await held


async def test_running_handlers_are_bounded_but_a_busy_chat_holds_no_slot() -> None:
    """With one running slot, chat 2 waits for chat 1; chat 1's queued second update takes no slot."""
    processor = ChatOrderedUpdateProcessor(1, max_held_updates=8)
    release, log = asyncio.Event(), []

    async def handler(name: str, wait: bool) -> None:
        log.append(name)
        if wait:
            await release.wait()

    specs = [(1, "1a", True), (1, "1b", False), (2, "2a", False)]
    tasks = [
        asyncio.create_task(processor.process_update(update(c, i), handler(n, w)))
        for i, (c, n, w) in enumerate(specs)
    ]
    await settle()
    assert log == ["1a"]
    release.set()
    await asyncio.gather(*tasks)
    assert sorted(log[1:]) == ["1b", "2a"]


async def test_a_quick_command_does_not_wait_behind_a_full_processor() -> None:
    """With every running slot and every held place taken by other chats, /status runs at once."""
    processor = ChatOrderedUpdateProcessor(2, max_held_updates=4)
    release = asyncio.Event()
    busy = [
        asyncio.create_task(processor.process_update(update(100 + i, i, "/imagine x"), release.wait()))
        for i in range(10)
    ]
    await settle()
    answered = []

    async def status() -> None:
        answered.append("status")

    await asyncio.wait_for(processor.process_update(update(1, 99, "/status@EaselBot"), status()), 1)
    assert answered == ["status"] and not any(task.done() for task in busy)
    release.set()
    await asyncio.gather(*busy)


async def test_a_quick_command_still_waits_for_its_own_chat() -> None:
    """/cancel sent right after /imagine in the same chat runs after it, not before."""
    processor = ChatOrderedUpdateProcessor()
    release, log = asyncio.Event(), []

    async def handler(name: str) -> None:
        log.append(name)
        if name == "imagine":
            await release.wait()

    first = asyncio.create_task(processor.process_update(update(1, 1, "/imagine x"), handler("imagine")))
    second = asyncio.create_task(processor.process_update(update(1, 2, "/cancel"), handler("cancel")))
    await settle()
    assert log == ["imagine"]
    release.set()
    await asyncio.gather(first, second)
    assert log == ["imagine", "cancel"]


def test_only_the_quick_commands_are_quick() -> None:
    """/status, /help, /start and /cancel (any case, with a bot name) are quick; others are not."""
    quick = ["/status", "/HELP", "/start@EaselBot", "/cancel all"]
    slow = ["/imagine /status", "status", "/statusx", "/", "make it warmer"]
    assert all(is_quick(update(1, text=t)) for t in quick)
    assert not any(is_quick(update(1, text=t)) for t in slow)


async def test_an_update_cancelled_while_waiting_is_closed_without_a_warning() -> None:
    """Cancelling an update waiting for its chat's turn closes its coroutine (no 'never awaited')."""
    processor = ChatOrderedUpdateProcessor()
    release = asyncio.Event()
    first = asyncio.create_task(processor.process_update(update(1), release.wait()))
    second = asyncio.create_task(processor.process_update(update(1, 2), asyncio.sleep(0)))
    await settle()
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    gc.collect()  # a coroutine never awaited would warn here (warnings are errors)
    release.set()
    await first
    assert processor.chats_waiting == 0


async def test_a_slow_update_in_one_chat_does_not_delay_another_chat(running: Running) -> None:
    """While a group's /settings waits for getChatAdministrators, /status in a private chat is answered."""
    tg = running.tg
    tg.group(GROUP, admins=(ADMIN,))
    gate = tg.hold_next("getChatAdministrators")
    try:
        tg.say(GROUP, USER, "/settings aspect 16:9")
        await tg.wait_for(lambda: tg.calls_to("getChatAdministrators"))
        tg.say(CHAT, USER, "/status")
        await tg.wait_for(lambda: tg.texts(CHAT))
        assert tg.texts(GROUP) == []
    finally:
        gate.set()
    await tg.wait_for(lambda: any("administrators" in t for t in tg.texts(GROUP)))


async def test_two_messages_of_one_chat_are_answered_in_order(running: Running) -> None:
    """A group's second command waits for the first (held in getChatAdministrators) and comes after it."""
    tg = running.tg
    tg.group(GROUP, admins=(ADMIN,))
    gate = tg.hold_next("getChatAdministrators")
    try:
        tg.say(GROUP, USER, "/settings aspect 16:9")
        await tg.wait_for(lambda: tg.calls_to("getChatAdministrators"))
        tg.say(GROUP, ADMIN, "/settings aspect 4:3")
        await tg.wait_for(lambda: not tg.world.updates)  # PTB has taken the second update
        await asyncio.sleep(0.2)  # time enough for it to be answered, were it not waiting its turn
        assert tg.texts(GROUP) == []
    finally:
        gate.set()
    await tg.wait_for(lambda: len(tg.texts(GROUP)) == 2)
    first, second = tg.texts(GROUP)
    assert "administrators" in first and "aspect: 4:3" in second
