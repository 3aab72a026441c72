"""Discord sharding (``discord.shard_count`` / ``shard_ids``): an ``AutoShardedClient`` over a range of
shards, each connection getting the guilds of its shard, against the fake's gateway."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_harness import running_discord
from tests.fakes.discord_world import CHANNEL, GUILD

OTHER_GUILD = GUILD + (1 << 22)
"""A guild in the other shard of two."""
OTHER_CHANNEL = 1200000000000000002


def shard_of(guild_id: int, count: int = 2) -> int:
    return (guild_id >> 22) % count


def sharded(**extra: str) -> dict[str, str]:
    return {"EASEL__DISCORD__GUILD_IDS": f"[{GUILD},{OTHER_GUILD}]", **extra}


def database(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}"


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    """The fake Discord with a second guild, in the other shard of two."""
    async with FakeDiscord() as fake:
        fake.world.add_guild(OTHER_GUILD, [OTHER_CHANNEL])
        yield fake


async def test_two_shards_each_receive_the_events_of_their_guilds(tmp_path: Path, dc: FakeDiscord) -> None:
    """shard_count 2: two sessions identify (at once: max_concurrency 2), each gets READY and
    GUILD_CREATE for its own guild only, and a command in each guild is answered through its shard."""
    dc.gateway.max_concurrency = 2
    started = time.monotonic()
    env = sharded(EASEL__DISCORD__SHARD_COUNT="2")
    async with running_discord(tmp_path, database(tmp_path), env=env, dc=dc) as bot:
        assert time.monotonic() - started < 5, "the shards waited for each other"
        sessions = {session.shard[0]: session for session in dc.gateway.sessions}
        assert sorted(s.shard for s in sessions.values()) == [(0, 2), (1, 2)]
        fox = dc.slash("imagine", {"prompt": "a fox"}, channel=CHANNEL)
        owl = dc.slash("imagine", {"prompt": "an owl"}, channel=OTHER_CHANNEL)
        assert (await bot.result_of(fox))["attachments"] and (await bot.result_of(owl))["attachments"]
        for guild in (GUILD, OTHER_GUILD):
            session = sessions[shard_of(guild)]
            assert session.guilds("GUILD_CREATE") == [guild]
            assert session.guilds("INTERACTION_CREATE") == [guild]
            found = bot.adapter.client.get_guild(guild)
            assert found is not None and found.shard_id == shard_of(guild)


async def test_a_replica_runs_only_its_shard_ids(tmp_path: Path, dc: FakeDiscord) -> None:
    """shard_ids [0] of 2: one session, shard [0, 2], and only that shard's guild is known."""
    env = sharded(EASEL__DISCORD__SHARD_COUNT="2", EASEL__DISCORD__SHARD_IDS="[0]")
    async with running_discord(tmp_path, database(tmp_path), env=env, dc=dc) as bot:
        assert [payload["shard"] for payload in dc.identified] == [[0, 2]]
        client = bot.adapter.client
        assert client.get_guild(OTHER_GUILD) is not None and client.get_guild(GUILD) is None


async def test_too_few_session_starts_left_refuses_to_start(tmp_path: Path, dc: FakeDiscord) -> None:
    """With fewer session starts left than shards to run, the adapter refuses to connect at all."""
    dc.gateway.remaining = 1
    env = sharded(EASEL__DISCORD__SHARD_COUNT="2")
    with pytest.raises(ConfigError, match="session start"):
        async with running_discord(tmp_path, database(tmp_path), env=env, dc=dc):
            pass
    assert not dc.identified
