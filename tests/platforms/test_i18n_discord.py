"""Easel in the user's language on Discord: the interaction's ``locale`` (``guild_locale`` when Easel
does not speak the user's), and the slash commands' ``description_localizations``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core import i18n, texts
from tests.fakes.discord_harness import RunningDiscord, running_discord
from tests.fakes.discord_world import GUILD, USER


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningDiscord]:
    async with running_discord(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}") as running:
        yield running


def spanish(message: str) -> str:
    with i18n.using("es"):
        return i18n._(message)


async def answer(bot: RunningDiscord, command: str, options: dict[str, object] | None = None) -> str:
    it = bot.dc.slash(command, options)
    await bot.dc.wait_for(lambda: bot.dc.original(it) is not None)
    message = bot.dc.original(it)
    assert message is not None
    return str(message["content"])


async def test_help_is_answered_in_spanish_for_locale_es_es(bot: RunningDiscord) -> None:
    """A user whose Discord client is in Spanish (locale es-ES) gets /help in Spanish."""
    bot.dc.world.locales[USER] = "es-ES"
    assert await answer(bot, "help") == spanish(texts.HELP)


async def test_a_bad_option_is_refused_in_spanish(bot: RunningDiscord) -> None:
    """A bad --ar in the prompt is refused in Spanish for locale es-ES."""
    bot.dc.world.locales[USER] = "es-ES"
    content = await answer(bot, "imagine", {"prompt": "a fox --ar 99:1"})
    assert content.startswith("La proporción debe tener la forma 16:9")


async def test_the_result_embed_is_labelled_in_spanish(bot: RunningDiscord) -> None:
    """The result's embed fields and buttons are in the user's language (es-419 is Spanish too)."""
    bot.dc.world.locales[USER] = "es-419"
    message = await bot.result_of(bot.dc.slash("imagine", {"prompt": "a red fox"}))
    assert {"Semilla", "Modelo"} <= {f["name"] for f in message["embeds"][0]["fields"]}
    labels = [b.get("label") for row in message["components"] for b in row["components"]]
    assert "Repetir" in labels and "Borrar" in labels


async def test_the_servers_locale_is_used_when_the_users_is_not_spoken(bot: RunningDiscord) -> None:
    """A French client in a server whose preferred locale is German is answered in German."""
    bot.dc.world.locales[USER] = "fr"
    bot.dc.world.guild_locales[GUILD] = "de"
    assert (await answer(bot, "help")).startswith("Easel macht aus Worten Bilder.")


async def test_an_unspoken_locale_everywhere_is_answered_in_english(bot: RunningDiscord) -> None:
    """A Japanese client in an en-US server gets the English text."""
    bot.dc.world.locales[USER] = "ja"
    assert await answer(bot, "help") == texts.HELP


async def test_command_descriptions_are_localized_names_are_not(bot: RunningDiscord) -> None:
    """Every synced command keeps its English name (no name_localizations) and has German and both
    Spanish description_localizations, as the fake (Discord's locale list) accepts."""
    synced = {c["name"]: c for scope in bot.dc.commands.values() for c in scope}
    imagine = synced["imagine"]
    assert not imagine.get("name_localizations")
    localized = imagine["description_localizations"]
    assert set(localized) == {"de", "es-ES", "es-419"}
    assert localized["de"] == "Ein Bild aus einem Prompt erstellen"
    assert synced["help"]["description_localizations"]["es-ES"] == "Cómo usar Easel"
