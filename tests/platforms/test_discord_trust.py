"""Hostile input through the real discord.py and the fake Discord: a Delete button whose custom id
names another requester (as earlier versions wrote them), and an admin command sent as a mention."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.identity import GUILD_LINK
from tests.fakes.discord_harness import RunningDiscord, running_discord
from tests.fakes.discord_world import CHANNEL, EPHEMERAL, MEMBER, OTHER_USER, USER


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningDiscord]:
    async with running_discord(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}") as running:
        yield running


async def test_a_requester_named_in_the_custom_id_grants_nothing(bot: RunningDiscord) -> None:
    """``easel:d:<id>:<presser>`` on someone else's image is refused; the image stays."""
    it = bot.dc.slash("imagine", {"prompt": "a red fox"}, user=USER)
    result = await bot.result_of(it)
    await bot.easel.queue.drain()
    forged = f"easel:d:1:{MEMBER}"
    message = bot.dc.world.messages[int(result["id"])]
    for row in message["components"]:
        for component in row["components"]:
            if component["custom_id"].startswith("easel:d:"):
                component["custom_id"] = forged  # the button as an earlier version (or a client) wrote it
    press = bot.dc.press(int(result["id"]), forged, user=MEMBER)
    await bot.dc.wait_for(lambda: bot.dc.original(press) is not None)
    refusal = bot.dc.original(press)
    assert refusal is not None and refusal["flags"] & EPHEMERAL
    assert bot.dc.original(it) is not None


async def test_settings_through_a_mention_needs_manage_server(bot: RunningDiscord) -> None:
    """``@Easel /settings aspect 16:9`` from a member without Manage Server changes nothing."""
    bot.dc.say("/settings aspect 16:9", user=MEMBER, mention_bot=True)
    await bot.dc.wait_for(
        lambda: any("administrators" in str(m.get("content")) for m in bot.dc.channel_messages(CHANNEL))
    )
    chat = await bot.easel.history.upsert_chat(platform="discord", external_id=str(CHANNEL))
    stored = await bot.easel.history.get_chat_settings(chat_id=chat)
    assert {k: v for k, v in stored.items() if k != GUILD_LINK} == {}  # only the link to its server


async def test_the_guild_owner_may_change_settings_through_a_mention(bot: RunningDiscord) -> None:
    """The owner (all permissions) sending ``@Easel /settings aspect 16:9`` changes the default."""
    bot.dc.say("/settings aspect 16:9", user=OTHER_USER, mention_bot=True)
    await bot.dc.wait_for(
        lambda: any("aspect: 16:9" in str(m.get("content")) for m in bot.dc.channel_messages(CHANNEL))
    )
