"""A Discord button press the adapter answers itself (not the core) is answered in the presser's language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core import i18n
from bot.platforms.discord.views import NO_LONGER_WORKS
from tests.fakes.discord_harness import RunningDiscord, running_discord
from tests.fakes.discord_world import EPHEMERAL, USER


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningDiscord]:
    async with running_discord(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}") as running:
        yield running


async def test_a_spanish_user_pressing_a_stale_button_is_told_in_spanish(bot: RunningDiscord) -> None:
    """A custom id naming nothing ('easel:v:1:0'), pressed from es-ES, says so in Spanish."""
    result = await bot.result_of(bot.dc.slash("imagine", {"prompt": "two foxes", "count": 2}))
    bot.dc.world.messages[int(result["id"])]["components"][0]["components"][0]["custom_id"] = "easel:v:1:0"
    bot.dc.world.locales[USER] = "es-ES"
    with i18n.using("es"):
        expected = i18n._(NO_LONGER_WORKS)
    assert expected == "Este botón ya no funciona."
    pressed = bot.dc.press(int(result["id"]), "easel:v:1:0")
    await bot.dc.wait_for(lambda: bot.dc.original(pressed) is not None)
    answer = bot.dc.original(pressed)
    assert answer is not None
    assert answer["content"] == expected and answer["flags"] & EPHEMERAL
