"""``/delete #id`` typed in a chat (issue 20): the messages that showed the image go too, through the
``Platform`` port (Telegram deleteMessages, Discord's message DELETE), only in the chat it was asked in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Easel
from tests.fakes.discord_harness import RunningDiscord, running_discord
from tests.fakes.discord_world import CHANNEL, OTHER_USER, USER
from tests.platforms.conftest import Running

GROUP = -1001234
OTHER_GROUP = -1005678
ADMIN = 777
MEMBER = 999


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningDiscord]:
    async with running_discord(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}") as running:
        yield running


async def gone_from_history(easel: Easel, generation_id: int) -> bool:
    return await easel.history.get_generation(generation_id=generation_id) is None


def images_in(bot: RunningDiscord, channel: int) -> list[dict[str, Any]]:
    return [m for m in bot.dc.channel_messages(channel) if m["attachments"]]


def deletes_of(bot: RunningDiscord) -> list[str]:
    return [c.path for c in bot.dc.calls if c.method == "DELETE"]


async def test_telegram_admin_delete_command_removes_the_photo_message(running: Running) -> None:
    """An admin's /delete #1 of a member's image: the photo (deleteMessages) and the history go."""
    tg, easel = running.tg, running.easel
    tg.group(GROUP, admins=(ADMIN,))
    photo = await running.photo_after("/imagine a castle", chat=GROUP, user=MEMBER)
    await easel.queue.drain()  # the delivery is recorded
    tg.say(GROUP, ADMIN, "/delete #1")
    await tg.wait_for(lambda: any(t.startswith("Deleted #1") for t in tg.texts(GROUP)))
    assert tg.current(GROUP, photo["message_id"]) is None
    assert [c.params["message_ids"] for c in tg.calls_to("deleteMessages")] == [[photo["message_id"]]]
    assert await gone_from_history(easel, 1)


async def test_telegram_delete_command_of_another_chats_id_deletes_nothing(running: Running) -> None:
    """/delete naming another group's image (the sender administers both) is "gone": no message goes."""
    tg, easel = running.tg, running.easel
    tg.group(GROUP, admins=(ADMIN,))
    tg.group(OTHER_GROUP, admins=(ADMIN,))
    there = await running.photo_after("/imagine a castle", chat=OTHER_GROUP, user=MEMBER)
    here = await running.photo_after("/imagine a boat", chat=GROUP, user=MEMBER)
    await easel.queue.drain()
    tg.say(GROUP, ADMIN, "/delete #1")
    await tg.wait_for(lambda: tg.texts(GROUP))
    assert tg.texts(GROUP)[-1] == "That image is gone."
    assert not tg.calls_to("deleteMessages") and not tg.calls_to("deleteMessage")
    assert tg.current(OTHER_GROUP, there["message_id"]) is not None
    assert tg.current(GROUP, here["message_id"]) is not None
    assert not await gone_from_history(easel, 1)


async def test_discord_admin_delete_command_removes_the_result_message(bot: RunningDiscord) -> None:
    """The server owner's "@Easel /delete #1" of a member's image: its message and the history go."""
    bot.dc.say("a lighthouse", mention_bot=True, user=USER)
    await bot.dc.wait_for(lambda: images_in(bot, CHANNEL))
    result = images_in(bot, CHANNEL)[0]
    await bot.easel.queue.drain()
    bot.dc.say("/delete #1", mention_bot=True, user=OTHER_USER)
    await bot.dc.wait_for(lambda: any("Deleted #1" in m["content"] for m in bot.dc.channel_messages(CHANNEL)))
    assert not images_in(bot, CHANNEL)
    assert f"/channels/{CHANNEL}/messages/{result['id']}" in deletes_of(bot)
    assert await gone_from_history(bot.easel, 1)


async def test_discord_delete_command_of_another_chats_id_deletes_nothing(bot: RunningDiscord) -> None:
    """The owner's /delete in the server naming a DM's image is "gone": no result message is deleted."""
    dm = bot.dc.world.dm_channel(USER)
    bot.dc.say("a red fox", user=USER, channel=dm)
    await bot.dc.wait_for(lambda: images_in(bot, dm))
    bot.dc.say("a lighthouse", mention_bot=True, user=USER)
    await bot.dc.wait_for(lambda: images_in(bot, CHANNEL))
    await bot.easel.queue.drain()
    results = {m["id"] for m in images_in(bot, dm) + images_in(bot, CHANNEL)}
    bot.dc.say("/delete #1", mention_bot=True, user=OTHER_USER)
    await bot.dc.wait_for(
        lambda: any("That image is gone." in m["content"] for m in bot.dc.channel_messages(CHANNEL))
    )
    assert not [path for path in deletes_of(bot) if path.rsplit("/", 1)[-1] in results]
    assert images_in(bot, dm) and images_in(bot, CHANNEL)
    assert not await gone_from_history(bot.easel, 1)
