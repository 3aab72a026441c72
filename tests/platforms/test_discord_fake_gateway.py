"""The fake Discord's gateway holds to Discord's sharding rules and session start limits (raw
WebSocket and HTTP, no bot)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_world import GUILD, TOKEN


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def identify(http: aiohttp.ClientSession, dc: FakeDiscord, shard: list[int]) -> tuple[Any, int | None]:
    """Connect, IDENTIFY with ``shard``; the first answer (a frame's JSON, or None) and the close code."""
    async with http.ws_connect(dc.gateway_url) as ws:
        hello = await ws.receive_json()
        assert hello["op"] == 10
        payload = {"token": TOKEN, "intents": 1, "properties": {}, "shard": shard}
        await ws.send_str(json.dumps({"op": 2, "d": payload}))
        frame = await ws.receive()
        answer = json.loads(frame.data) if frame.type == aiohttp.WSMsgType.TEXT else None
        return answer, ws.close_code


async def gateway_bot(http: aiohttp.ClientSession, dc: FakeDiscord) -> dict[str, Any]:
    headers = {"Authorization": f"Bot {TOKEN}"}
    async with http.get(f"{dc.api_base_url}/gateway/bot", headers=headers) as resp:
        assert resp.status == 200
        body: dict[str, Any] = await resp.json()
        return body


async def test_gateway_bot_counts_session_starts(dc: FakeDiscord, http: aiohttp.ClientSession) -> None:
    """GET /gateway/bot recommends one shard per 1,000 guilds and counts each IDENTIFY as a start."""
    before = await gateway_bot(http, dc)
    assert before["shards"] == 1 and before["url"] == dc.gateway_url
    limit = before["session_start_limit"]
    assert (limit["total"], limit["remaining"], limit["max_concurrency"]) == (1000, 1000, 1)
    ready, _ = await identify(http, dc, [0, 1])
    assert ready["t"] == "READY" and ready["d"]["shard"] == [0, 1]
    assert (await gateway_bot(http, dc))["session_start_limit"]["remaining"] == 999


async def test_a_shard_outside_the_count_is_closed_4010(dc: FakeDiscord, http: aiohttp.ClientSession) -> None:
    """IDENTIFY with shard [2, 2] is closed with 4010 Invalid shard."""
    answer, code = await identify(http, dc, [2, 2])
    assert answer is None and code == 4010


async def test_a_second_identify_in_one_bucket_within_5_s_is_invalid(
    dc: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    """With max_concurrency 1, shard 1 identifying right after shard 0 gets op 9 Invalid Session."""
    first, _ = await identify(http, dc, [0, 2])
    second, _ = await identify(http, dc, [1, 2])
    assert first["t"] == "READY" and (second["op"], second["d"]) == (9, False)


async def test_guilds_are_split_by_shard(dc: FakeDiscord, http: aiohttp.ClientSession) -> None:
    """READY for shard s of 2 lists only the guilds with (id >> 22) % 2 == s."""
    dc.gateway.max_concurrency = 2
    other = GUILD + (1 << 22)
    dc.world.add_guild(other, [1200000000000000002])
    zero, _ = await identify(http, dc, [0, 2])
    one, _ = await identify(http, dc, [1, 2])
    assert [g["id"] for g in zero["d"]["guilds"]] == [str(other)]
    assert [g["id"] for g in one["d"]["guilds"]] == [str(GUILD)]
