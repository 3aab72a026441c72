"""The fake Discord holds user-installable apps to Discord's rules (raw HTTP, no bot): command contexts,
the 5 follow-ups of a user-install-only interaction, no channel posts where Easel is not."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_world import APP_ID, EVERYONE_PERMISSIONS, TOKEN, USER

FOREIGN_GUILD = 1100000000000000077
FOREIGN_CHANNEL = 1200000000000000077


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        fake.world.add_guild(FOREIGN_GUILD, [FOREIGN_CHANNEL], bot_member=False)
        fake.world.user_installs.add(USER)
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, method: str, url: str, body: Any, *, bot: bool = False
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if bot:
        headers["Authorization"] = f"Bot {TOKEN}"
    async with http.request(method, url, data=json.dumps(body), headers=headers) as resp:
        text = await resp.text()
        return resp.status, json.loads(text) if text else None


def command(**fields: Any) -> dict[str, Any]:
    return {"name": "imagine", "description": "Make an image", "type": 1, "options": []} | fields


async def test_sync_keeps_integration_types_and_contexts(
    dc: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    """A global command with integration_types [0, 1] and contexts [0, 1, 2] is stored as sent."""
    url = f"{dc.api_base_url}/applications/{APP_ID}/commands"
    body = [command(integration_types=[0, 1], contexts=[0, 1, 2])]
    status, synced = await call(http, "PUT", url, body, bot=True)
    assert status == 200
    assert (synced[0]["integration_types"], synced[0]["contexts"]) == ([0, 1], [0, 1, 2])


async def test_private_channel_context_needs_the_user_install(
    dc: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    """contexts with PRIVATE_CHANNEL (2) on a guild-install-only command is an invalid form body."""
    url = f"{dc.api_base_url}/applications/{APP_ID}/commands"
    status, body = await call(http, "PUT", url, [command(integration_types=[0], contexts=[0, 2])], bot=True)
    assert (status, body["code"]) == (400, 50035) and "contexts" in body["errors"]["0"]


async def test_unknown_integration_type_is_refused(dc: FakeDiscord, http: aiohttp.ClientSession) -> None:
    """integration_types takes 0 and 1 only."""
    url = f"{dc.api_base_url}/applications/{APP_ID}/commands"
    status, body = await call(http, "PUT", url, [command(integration_types=[3])], bot=True)
    assert (status, body["code"]) == (400, 50035)


async def test_a_user_install_interaction_in_a_foreign_guild(dc: FakeDiscord) -> None:
    """In a server that did not add Easel: context 0, only the user install, the member's permissions."""
    state, payload = dc.world.interaction_base(
        2, user_id=USER, channel_id=FOREIGN_CHANNEL, permissions=EVERYONE_PERMISSIONS, filesize_limit=None
    )
    assert payload["context"] == 0 and payload["guild_id"] == str(FOREIGN_GUILD)
    assert payload["authorizing_integration_owners"] == {"1": str(USER)}
    assert payload["app_permissions"] == str(EVERYONE_PERMISSIONS) and state.user_install_only


async def test_a_dm_interaction_with_the_bot(dc: FakeDiscord) -> None:
    """In the bot's DM: context 1, a user (no member), guild install key "0" and DM permissions."""
    dm = dc.world.dm_channel(USER)
    _, payload = dc.world.interaction_base(
        2, user_id=USER, channel_id=dm, permissions=EVERYONE_PERMISSIONS, filesize_limit=None
    )
    assert payload["context"] == 1 and "member" not in payload and payload["user"]["id"] == str(USER)
    assert payload["authorizing_integration_owners"] == {"0": "0", "1": str(USER)}
    assert payload["channel"]["type"] == 1 and int(payload["app_permissions"]) == (
        1 << 15 | 1 << 14 | 1 << 17 | 1 << 18
    )


async def test_channel_posts_where_the_bot_is_not_are_missing_access(
    dc: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    """The bot posting in a guild that did not add it answers 403 Missing Access (50001)."""
    url = f"{dc.api_base_url}/channels/{FOREIGN_CHANNEL}/messages"
    status, body = await call(http, "POST", url, {"content": "hello"}, bot=True)
    assert (status, body["code"], body["message"]) == (403, 50001, "Missing Access")


async def test_a_user_install_interaction_takes_five_followups(
    dc: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    """The sixth follow-up of a user-install-only interaction is refused with 40094."""
    state, _ = dc.world.interaction_base(
        2, user_id=USER, channel_id=FOREIGN_CHANNEL, permissions=EVERYONE_PERMISSIONS, filesize_limit=None
    )
    callback = f"{dc.api_base_url}/interactions/{state.id}/{state.token}/callback"
    assert (await call(http, "POST", callback, {"type": 5}))[0] == 204
    hook = f"{dc.api_base_url}/webhooks/{APP_ID}/{state.token}?wait=1"
    statuses = [(await call(http, "POST", hook, {"content": f"part {n}"}))[0] for n in range(5)]
    status, body = await call(http, "POST", hook, {"content": "part 6"})
    assert statuses == [200] * 5 and (status, body["code"]) == (400, 40094)
