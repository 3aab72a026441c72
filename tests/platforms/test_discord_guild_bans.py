"""A Discord server's ban list (``@Easel /ban guild ...``) through the fake gateway and REST API: set by
the server's owner in one channel, it refuses prompts in another; a member cannot change it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.chat.answers import GUILD_BAN_ADMINS_ONLY
from tests.fakes.discord_harness import RunningDiscord, running_discord
from tests.fakes.discord_world import CHANNEL, GUILD, OTHER_USER, Channel

SECOND = CHANNEL + 7


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningDiscord]:
    async with running_discord(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}") as running:
        running.dc.world.channels[SECOND] = Channel(SECOND, GUILD, name="chan-second")
        running.dc.world.guilds[GUILD].channels.append(SECOND)
        yield running


async def _answered(bot: RunningDiscord, channel: int, words: str) -> None:
    await bot.dc.wait_for(lambda: any(words in m["content"] for m in bot.dc.channel_messages(channel)))


async def test_a_server_rule_set_in_one_channel_refuses_in_another(bot: RunningDiscord) -> None:
    """The owner's "@Easel /ban guild add fox" in one channel refuses "@Easel /imagine a fox" in another."""
    bot.dc.say("/ban guild add fox", user=OTHER_USER, mention_bot=True)
    await _answered(bot, CHANNEL, "Banned (rule S1).")
    bot.dc.say("/imagine a red fox", channel=SECOND, mention_bot=True)
    await _answered(bot, SECOND, "banned word or phrase")


async def test_a_member_cannot_add_a_server_rule(bot: RunningDiscord) -> None:
    """A member without Manage Server is told only the server's admins change its ban list."""
    bot.dc.say("/ban guild add fox", mention_bot=True)
    await _answered(bot, CHANNEL, GUILD_BAN_ADMINS_ONLY)
    bot.dc.say("/ban guild list", user=OTHER_USER, mention_bot=True)
    await _answered(bot, CHANNEL, "This server bans nothing")
