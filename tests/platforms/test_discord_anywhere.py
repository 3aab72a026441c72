"""Discord anywhere (issue 20): a user-installable app answered in DMs and in servers that did not add
Easel (through the interaction only), plain DMs, and a server's defaults under each channel's settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.chat.answers import GUILD_ADMINS_ONLY
from bot.platforms.discord.inbound import NO_CHANNEL_POSTS
from tests.fakes.discord_harness import RunningDiscord, picture, running_discord
from tests.fakes.discord_world import (
    CHANNEL,
    EPHEMERAL,
    EVERYONE_PERMISSIONS,
    GUILD,
    MANAGE_GUILD,
    USER,
    Channel,
)

FOREIGN_GUILD = 1100000000000000077
"""A server that did not add Easel; the user added Easel to their account."""
FOREIGN_CHANNEL = 1200000000000000077
MANAGER = EVERYONE_PERMISSIONS | MANAGE_GUILD


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningDiscord]:
    env = {"EASEL__DISCORD__GUILD_IDS": "[]"}  # global commands: the only ones DMs and user installs see
    async with running_discord(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}", env=env
    ) as running:
        running.dc.world.add_guild(FOREIGN_GUILD, [FOREIGN_CHANNEL], bot_member=False)
        running.dc.world.user_installs.add(USER)
        yield running


def no_channel_posts(bot: RunningDiscord) -> bool:
    return not bot.dc.calls_to("channel_messages")


async def ephemeral_answer(bot: RunningDiscord, it: object) -> str:
    await bot.dc.wait_for(lambda: bot.dc.original(it) is not None)  # type: ignore[arg-type]
    answer = bot.dc.original(it)  # type: ignore[arg-type]
    assert answer is not None and answer["flags"] & EPHEMERAL
    return str(answer["content"])


async def test_commands_are_registered_for_both_installs_and_every_context(bot: RunningDiscord) -> None:
    """Global commands carry integration_types [0, 1]; /imagine contexts [0, 1, 2], /schedule [0, 1]."""
    synced = {c["name"]: c for c in bot.dc.commands[None]}
    assert all(c["integration_types"] == [0, 1] for c in synced.values())
    assert synced["imagine"]["contexts"] == [0, 1, 2] and synced["Edit image"]["contexts"] == [0, 1, 2]
    assert synced["schedule"]["contexts"] == [0, 1] and synced["birthday"]["contexts"] == [0, 1]


async def test_slash_imagine_in_a_dm_is_answered_with_the_image(bot: RunningDiscord) -> None:
    """/imagine in a DM with the bot: the image arrives through the interaction's webhook."""
    dm = bot.dc.world.dm_channel(USER)
    result = await bot.result_of(bot.dc.slash("imagine", {"prompt": "a red fox"}, channel=dm))
    assert result["channel_id"] == str(dm) and picture(bot.dc.file_bytes(result["attachments"][0]))
    assert bot.dc.calls_to("original") and no_channel_posts(bot)


async def test_a_plain_dm_message_is_answered(bot: RunningDiscord) -> None:
    """A DM without a mention or command ("a red fox") is a prompt: the image is posted in the DM."""
    dm = bot.dc.world.dm_channel(USER)
    bot.dc.say("a red fox", channel=dm)
    await bot.dc.wait_for(lambda: any(m["attachments"] for m in bot.dc.channel_messages(dm)))
    record = await bot.easel.history.get_generation(generation_id=1)
    assert record is not None and record.prompt == "a red fox"


async def test_a_user_install_in_a_foreign_server_is_answered_by_webhook_only(bot: RunningDiscord) -> None:
    """In a server that did not add Easel, /imagine is answered through the interaction, never the channel."""
    it = bot.dc.slash("imagine", {"prompt": "a red fox"}, channel=FOREIGN_CHANNEL)
    result = await bot.result_of(it)
    assert result["channel_id"] == str(FOREIGN_CHANNEL) and result["attachments"]
    assert not result["flags"] & EPHEMERAL and no_channel_posts(bot)


async def test_a_dead_token_in_a_foreign_server_is_not_answered_in_the_channel(bot: RunningDiscord) -> None:
    """When the interaction is gone, a user-install result is not tried in the channel (403 there)."""
    bot.dc.fail_next("original", 404, code=10015, message="Unknown Webhook", times=20, uploads_only=True)
    bot.dc.slash("imagine", {"prompt": "a red fox"}, channel=FOREIGN_CHANNEL)
    await bot.dc.wait_for(lambda: any(c.files for c in bot.dc.calls_to("original")))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    job = await bot.easel.jobs.get_job(job_id=1)
    while (job is None or job.status not in ("done", "failed")) and loop.time() < deadline:
        await asyncio.sleep(0.02)
        job = await bot.easel.jobs.get_job(job_id=1)
    assert job is not None and job.status == "failed" and no_channel_posts(bot)


async def test_schedule_is_refused_where_easel_can_only_answer(bot: RunningDiscord) -> None:
    """/schedule in a server that did not add Easel is refused privately (it could never post there)."""
    it = bot.dc.slash(
        "schedule", {"args": "add every day at 09:00 a sunrise"}, channel=FOREIGN_CHANNEL, permissions=MANAGER
    )
    assert await ephemeral_answer(bot, it) == NO_CHANNEL_POSTS


async def test_guild_defaults_are_overridden_by_the_channels_setting(bot: RunningDiscord) -> None:
    """Server defaults aspect 16:9 and n 2 under the channel's aspect 1:1: two square images."""
    for options in ({"key": "aspect", "value": "16:9"}, {"key": "n", "value": "2"}):
        answer = await ephemeral_answer(
            bot, bot.dc.slash("settings", options | {"scope": "server"}, permissions=MANAGER)
        )
        assert "This server's defaults" in answer
    channel = await ephemeral_answer(
        bot, bot.dc.slash("settings", {"key": "aspect", "value": "1:1"}, permissions=MANAGER)
    )
    assert "aspect: 1:1" in channel and "n: 2" in channel
    result = await bot.result_of(bot.dc.slash("imagine", {"prompt": "a red fox"}))
    sizes = [picture(bot.dc.file_bytes(a)).size for a in result["attachments"]]
    assert len(sizes) == 2 and all(w == h for w, h in sizes)


async def test_a_channel_setting_removed_falls_back_to_the_guild_default(bot: RunningDiscord) -> None:
    """Clearing the channel's aspect (/settings aspect) lets the server's 16:9 apply again."""
    await ephemeral_answer(
        bot,
        bot.dc.slash("settings", {"key": "aspect", "value": "16:9", "scope": "server"}, permissions=MANAGER),
    )
    await ephemeral_answer(
        bot, bot.dc.slash("settings", {"key": "aspect", "value": "1:1"}, permissions=MANAGER)
    )
    cleared = await ephemeral_answer(bot, bot.dc.slash("settings", {"key": "aspect"}, permissions=MANAGER))
    assert "aspect: 16:9" in cleared
    result = await bot.result_of(bot.dc.slash("imagine", {"prompt": "a red fox"}))
    width, height = picture(bot.dc.file_bytes(result["attachments"][0])).size
    assert width > height


async def test_a_new_channel_of_the_server_gets_its_defaults(bot: RunningDiscord) -> None:
    """Server aspect 16:9 set in one channel: /imagine in another channel of that server, which never
    ran /settings, makes a 16:9 image."""
    second = CHANNEL + 5
    bot.dc.world.channels[second] = Channel(second, GUILD, name="chan-second")
    bot.dc.world.guilds[GUILD].channels.append(second)
    await ephemeral_answer(
        bot,
        bot.dc.slash("settings", {"key": "aspect", "value": "16:9", "scope": "server"}, permissions=MANAGER),
    )
    result = await bot.result_of(bot.dc.slash("imagine", {"prompt": "a red fox"}, channel=second))
    width, height = picture(bot.dc.file_bytes(result["attachments"][0])).size
    assert width > height


async def test_a_non_admin_is_refused_for_settings_guild(bot: RunningDiscord) -> None:
    """A member without Manage Server typing "@Easel /settings guild aspect 16:9" is refused."""
    bot.dc.say("/settings guild aspect 16:9", mention_bot=True)
    await bot.dc.wait_for(
        lambda: any(GUILD_ADMINS_ONLY in m["content"] for m in bot.dc.channel_messages(CHANNEL))
    )
    shown = await ephemeral_answer(bot, bot.dc.slash("settings", {"scope": "server"}, permissions=MANAGER))
    assert "no defaults of its own" in shown


async def test_settings_guild_in_a_dm_says_there_is_no_server(bot: RunningDiscord) -> None:
    """/settings scope:server in a DM answers that the chat is not part of a server."""
    dm = bot.dc.world.dm_channel(USER)
    answer = await ephemeral_answer(
        bot, bot.dc.slash("settings", {"key": "aspect", "value": "16:9", "scope": "server"}, channel=dm)
    )
    assert "not part of a server" in answer
