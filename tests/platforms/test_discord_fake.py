"""The fake Discord itself enforces Discord's deadlines, limits and error shapes (raw HTTP, no bot)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_world import APP_ID, CHANNEL, EVERYONE_PERMISSIONS, TOKEN, USER, Interaction


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def interaction(dc: FakeDiscord, *, limit: int | None = None) -> Interaction:
    state, _ = dc.world.interaction_base(
        2, user_id=USER, channel_id=CHANNEL, permissions=EVERYONE_PERMISSIONS, filesize_limit=limit
    )
    return state


async def call(
    http: aiohttp.ClientSession, method: str, url: str, body: Any = None, **kw: Any
) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
    data = json.dumps(body) if body is not None else None
    headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
    async with http.request(method, url, data=kw.pop("form", data), headers=headers, **kw) as resp:
        text = await resp.text()
        return resp.status, json.loads(text) if text else None, resp.headers


def callback_url(dc: FakeDiscord, it: Interaction) -> str:
    return f"{dc.api_base_url}/interactions/{it.id}/{it.token}/callback?with_response=1"


async def test_a_callback_after_3_seconds_is_an_unknown_interaction(
    dc: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    """Acknowledging later than 3 s answers 404 with code 10062."""
    it = interaction(dc)
    it.created -= 3.5
    status, body, _ = await call(http, "POST", callback_url(dc, it), {"type": 5})
    assert (status, body["code"], body["message"]) == (404, 10062, "Unknown interaction")


async def test_a_second_callback_is_already_acknowledged(
    dc: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    """The first callback answers the real 200 body; a second one 400 with code 40060."""
    it = interaction(dc)
    status, body, headers = await call(http, "POST", callback_url(dc, it), {"type": 5})
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert body["interaction"]["response_message_loading"] is True and body["resource"]["message"]["id"]
    status, body, _ = await call(http, "POST", callback_url(dc, it), {"type": 5})
    assert (status, body["code"]) == (400, 40060)


async def test_content_over_2000_characters_is_an_invalid_form_body(
    dc: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    """2001 characters → 400 code 50035 with Discord's nested errors object."""
    it = interaction(dc)
    await call(http, "POST", callback_url(dc, it), {"type": 5})
    url = f"{dc.api_base_url}/webhooks/{APP_ID}/{it.token}/messages/@original"
    status, body, _ = await call(http, "PATCH", url, {"content": "x" * 2001})
    assert (status, body["code"]) == (400, 50035)
    assert body["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"


async def test_uploads_over_the_size_limit_are_too_large(
    dc: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    """Files adding up to more than attachment_size_limit → 413 with code 40005."""
    it = interaction(dc, limit=1000)
    await call(http, "POST", callback_url(dc, it), {"type": 5})
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps({"attachments": [{"id": 0, "filename": "a.png"}]}))
    form.add_field("files[0]", b"\x89PNG\r\n\x1a\n" + bytes(2000), filename="a.png", content_type="image/png")
    url = f"{dc.api_base_url}/webhooks/{APP_ID}/{it.token}/messages/@original"
    async with http.patch(url, data=form) as resp:
        assert resp.status == 413 and (await resp.json())["code"] == 40005


async def test_more_than_ten_attachments_are_refused(dc: FakeDiscord, http: aiohttp.ClientSession) -> None:
    """Eleven files in one message → 400 code 50035."""
    url = f"{dc.api_base_url}/channels/{CHANNEL}/messages"
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps({"content": "hi"}))
    for index in range(11):
        form.add_field(f"files[{index}]", b"x", filename=f"{index}.txt")
    async with http.post(url, data=form, headers={"Authorization": f"Bot {TOKEN}"}) as resp:
        assert resp.status == 400 and (await resp.json())["code"] == 50035


async def test_an_injected_429_looks_like_discords(dc: FakeDiscord, http: aiohttp.ClientSession) -> None:
    """A 429 carries Via, the X-RateLimit headers and a JSON retry_after, as discord.py requires."""
    dc.fail_next("channel_messages", 429, retry_after=0.25)
    url = f"{dc.api_base_url}/channels/{CHANNEL}/messages"
    status, body, headers = await call(
        http, "POST", url, {"content": "hi"}, headers={"Authorization": f"Bot {TOKEN}"}
    )
    assert status == 429 and body["retry_after"] == 0.25 and body["global"] is False
    assert headers["Via"] and headers["X-RateLimit-Remaining"] == "0" and headers["X-RateLimit-Bucket"]


async def test_channel_posts_need_the_bot_token(dc: FakeDiscord, http: aiohttp.ClientSession) -> None:
    """Without ``Authorization: Bot <token>`` a channel post answers 401."""
    status, _, _ = await call(
        http, "POST", f"{dc.api_base_url}/channels/{CHANNEL}/messages", {"content": "hi"}
    )
    assert status == 401


async def test_an_injected_5xx_has_discords_body(dc: FakeDiscord, http: aiohttp.ClientSession) -> None:
    """A 502 fault answers with status 502 and a JSON body; the next call succeeds."""
    dc.fail_next("me", 502)
    auth = {"Authorization": f"Bot {TOKEN}"}
    status, body, _ = await call(http, "GET", f"{dc.api_base_url}/users/@me", headers=auth)
    assert status == 502 and body["message"].startswith("502")
    status, body, _ = await call(http, "GET", f"{dc.api_base_url}/users/@me", headers=auth)
    assert status == 200 and body["bot"] is True
