"""A result Stability flags (HTTP 200 ``CONTENT_FILTERED``, a blurred image) through the real adapters:
refused under the default policy, and under ``off`` sent hidden (Telegram ``has_spoiler``, Discord
``SPOILER_`` file names) with a note."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.discord_harness import running_discord
from tests.fakes.discord_world import EVERYONE_PERMISSIONS, MANAGE_GUILD
from tests.fakes.providers.stability import FakeStability
from tests.platforms.conftest import CHAT, USER, Running

KEY = "sk-stab-0123456789abcdef"
NOTE = "Stability flagged this image; it is shown blurred."


@pytest.fixture
async def stability() -> AsyncIterator[FakeStability]:
    async with FakeStability(api_key=KEY) as fake:
        yield fake


def stability_env(fake: FakeStability) -> dict[str, str]:
    return {
        "EASEL__GENERATION__PROVIDER": "stability",
        "EASEL__PROVIDERS__STABILITY__BASE_URL": fake.base_url,
        "EASEL__PROVIDERS__STABILITY__API_KEY": KEY,
    }


@pytest.fixture(autouse=True)
def provider_is_the_fake(stability: FakeStability, request: pytest.FixtureRequest) -> None:
    """The running bot (``running``, set up after this) uses stability against the fake."""
    request.node.add_marker(pytest.mark.easel(env=stability_env(stability)))


async def test_telegram_refuses_a_flagged_result_under_the_safe_policy(
    running: Running, stability: FakeStability
) -> None:
    """Default policy: no photo; the answer says Stability flagged it and how to see such images."""
    tg = running.tg
    stability.filter_next()
    tg.say(CHAT, USER, "/imagine a lighthouse")
    await tg.wait_for(lambda: any("Stability flagged this image" in t for t in tg.texts(CHAT)))
    assert not tg.photos(CHAT)
    assert any("/settings policy spoiler" in t for t in tg.texts(CHAT))


async def test_telegram_sends_a_flagged_result_as_a_spoiler_under_off(
    running: Running, stability: FakeStability
) -> None:
    """Policy off: the flagged photo is sent with has_spoiler and the note in its caption."""
    tg = running.tg
    tg.say(CHAT, USER, "/settings policy off")
    await tg.wait_for(lambda: any("policy: off" in t for t in tg.texts(CHAT)))
    stability.filter_next()
    photo = await running.photo_after("/imagine a lighthouse")
    assert photo.get("has_media_spoiler") is True and NOTE in photo.get("caption", "")


async def test_telegram_sends_an_unflagged_result_as_it_is_under_off(running: Running) -> None:
    """Policy off, nothing flagged: no spoiler."""
    tg = running.tg
    tg.say(CHAT, USER, "/settings policy off")
    await tg.wait_for(lambda: any("policy: off" in t for t in tg.texts(CHAT)))
    photo = await running.photo_after("/imagine a lighthouse")
    assert "has_media_spoiler" not in photo


async def test_discord_uploads_a_flagged_result_as_a_spoiler_file_under_off(
    tmp_path: Path, db_url: str, stability: FakeStability
) -> None:
    """Policy off on Discord: the flagged image is attached as SPOILER_easel-….png."""
    async with running_discord(tmp_path, db_url, env=stability_env(stability)) as bot:
        manager = EVERYONE_PERMISSIONS | MANAGE_GUILD
        it = bot.dc.slash("settings", {"key": "policy", "value": "off"}, permissions=manager)
        await bot.dc.wait_for(lambda: bot.dc.original(it) is not None)
        stability.filter_next()
        message = await bot.result_of(bot.dc.slash("imagine", {"prompt": "a lighthouse"}))
        [attachment] = message["attachments"]
        assert attachment["filename"].startswith("SPOILER_easel-")
