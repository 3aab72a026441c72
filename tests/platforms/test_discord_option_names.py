"""Discord's command form in German and Spanish (issue 20): option names are localized (``name_localizations``
on every option), command names stay English, every localized name keeps Discord's naming rules, and a
German user's interaction (which Discord sends with the English option names) is read as any other. The
fake refuses what Discord refuses (400, 50035)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import regex

from bot.platforms.discord import locales
from bot.platforms.discord.locales import OPTION_NAMES
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_harness import RunningDiscord, picture, running_discord
from tests.fakes.discord_world import APP_ID, TOKEN, USER

DISCORD_NAME = regex.compile(r"^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$", regex.UNICODE)
"""Application Command Naming on docs.discord.com (the unicode flag set)."""


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningDiscord]:
    async with running_discord(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}") as running:
        yield running


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


def synced(bot: RunningDiscord) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for scope in bot.dc.commands.values() for c in scope}


def option_names(command: dict[str, Any], locale: str) -> dict[str, str]:
    """Default name → the name a client in ``locale`` shows."""
    return {o["name"]: (o.get("name_localizations") or {}).get(locale, o["name"]) for o in command["options"]}


def as_sent(command: dict[str, Any], locale: str, filled: dict[str, Any]) -> dict[str, Any]:
    """What Discord sends for a form filled in under the names a ``locale`` client shows: the same
    values under the options' default names."""
    default_of = {shown: name for name, shown in option_names(command, locale).items()}
    return {default_of[shown]: value for shown, value in filled.items()}


async def put_commands(body: list[dict[str, Any]], dc: FakeDiscord) -> tuple[int, Any]:
    url = f"{dc.api_base_url}/applications/{APP_ID}/commands"
    headers = {"Content-Type": "application/json", "Authorization": f"Bot {TOKEN}"}
    async with aiohttp.ClientSession() as http, http.put(url, data=json.dumps(body), headers=headers) as resp:
        return resp.status, await resp.json()


def imagine(*options: dict[str, Any]) -> dict[str, Any]:
    return {"name": "imagine", "type": 1, "description": "Make an image", "options": list(options)}


def option(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "type": 3, "description": "…"} | fields


async def test_imagine_options_are_named_in_german(bot: RunningDiscord) -> None:
    """A German client's /imagine form says beschreibung, seitenverhältnis, anzahl, modell, anbieter."""
    names = option_names(synced(bot)["imagine"], "de")
    assert names["prompt"] == "beschreibung" and names["aspect"] == "seitenverhältnis"
    assert (names["count"], names["model"], names["provider"]) == ("anzahl", "modell", "anbieter")


async def test_imagine_options_are_named_in_spanish_for_es_es_and_es_419(bot: RunningDiscord) -> None:
    """Both Spanish locales get descripción, proporción, cantidad, semilla."""
    imagine_command = synced(bot)["imagine"]
    for locale in ("es-ES", "es-419"):
        names = option_names(imagine_command, locale)
        assert [names[o] for o in ("prompt", "aspect", "count", "seed")] == [
            "descripción", "proporción", "cantidad", "semilla",
        ]  # fmt: skip


async def test_no_slash_command_name_is_localized(bot: RunningDiscord) -> None:
    """Every synced slash command keeps its English name in every locale (the "Edit image" message
    command is named in the menu's language: tests/platforms/test_discord_context_menu_names.py)."""
    commands = synced(bot)
    assert {"imagine", "settings", "Edit image"} <= set(commands)
    assert all(not c.get("name_localizations") for c in commands.values() if c.get("type", 1) == 1)


async def test_every_localized_option_name_keeps_discords_rules(bot: RunningDiscord) -> None:
    """Over every command: each localized option name matches Discord's pattern in lowercase, and in
    each locale no two options share a name, nor takes one another option's default name."""
    for command in synced(bot).values():
        options = command.get("options") or []
        defaults = [o["name"] for o in options]
        locales = {k for o in options for k in o.get("name_localizations") or {}}
        for locale in locales:
            shown = list(option_names(command, locale).values())
            assert len(set(shown)) == len(shown), (command["name"], locale, shown)
            for o in options:
                name = (o.get("name_localizations") or {}).get(locale)
                if name is None:
                    continue
                assert DISCORD_NAME.match(name) and name == name.lower(), (command["name"], name)
                assert name not in set(defaults) - {o["name"]}, (command["name"], name)


async def test_every_table_entry_names_a_synced_option(bot: RunningDiscord) -> None:
    """OPTION_NAMES speaks only of commands and options that exist (a renamed parameter fails here)."""
    commands = synced(bot)
    for command, options in OPTION_NAMES.items():
        assert set(options) <= {o["name"] for o in commands[command]["options"]}, command


async def test_a_german_user_imagines_with_the_german_form(bot: RunningDiscord) -> None:
    """A de client filling beschreibung, anzahl and seitenverhältnis gets two 16:9 images of the prompt:
    Discord sends the default option names, which the bot reads whatever the locale."""
    bot.dc.world.locales[USER] = "de"
    command = synced(bot)["imagine"]
    filled = {"beschreibung": "ein roter Fuchs", "anzahl": 2, "seitenverhältnis": "16:9"}
    options = as_sent(command, "de", filled)
    assert options == {"prompt": "ein roter Fuchs", "count": 2, "aspect": "16:9"}
    message = await bot.result_of(bot.dc.slash("imagine", options))
    assert len(message["attachments"]) == 2
    img = picture(bot.dc.file_bytes(message["attachments"][0]))
    assert abs(img.width / img.height - 16 / 9) < 0.05
    assert "ein roter Fuchs" in message["embeds"][0]["description"]


@pytest.mark.parametrize("bad", ["Beschreibung", "anzahl", "seed"])
async def test_a_name_breaking_the_rules_fails_the_real_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, bad: str
) -> None:
    """discord.py's own payload with prompt's German name uppercase, count's German name, or seed's
    English name is refused: nothing is synced and the bot logs why (and keeps running)."""
    table = {command: dict(options) for command, options in OPTION_NAMES.items()}
    table["imagine"]["prompt"] = {"de": bad}
    monkeypatch.setattr(locales, "OPTION_NAMES", table)
    async with running_discord(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}") as running:
        assert not running.dc.commands
    assert "registering slash commands failed" in caplog.text and "50035" in caplog.text


async def test_the_fake_refuses_an_uppercase_localized_option_name(dc: FakeDiscord) -> None:
    """de "Beschreibung" (German capitalises nouns; Discord wants lowercase) → 400, 50035, at the locale."""
    body = [imagine(option("prompt", name_localizations={"de": "Beschreibung"}))]
    status, error = await put_commands(body, dc)
    assert (status, error["code"], error["message"]) == (400, 50035, "Invalid Form Body")
    where = error["errors"]["0"]["options"]["0"]["name_localizations"]["de"]["_errors"]
    assert where[0]["code"] == "APPLICATION_COMMAND_INVALID_NAME"


async def test_the_fake_refuses_a_space_in_a_localized_option_name(dc: FakeDiscord) -> None:
    """es-ES "relación de aspecto" has spaces → 400, 50035."""
    body = [imagine(option("aspect", name_localizations={"es-ES": "relación de aspecto"}))]
    status, error = await put_commands(body, dc)
    assert (status, error["code"]) == (400, 50035)


async def test_the_fake_refuses_two_options_alike_in_one_locale(dc: FakeDiscord) -> None:
    """Two options both called "bild" in German → 400, 50035 on the second one's de name."""
    body = [
        imagine(
            option("prompt", name_localizations={"de": "bild"}),
            option("image", type=11, name_localizations={"de": "bild"}),
        )
    ]
    status, error = await put_commands(body, dc)
    assert (status, error["code"]) == (400, 50035)
    assert "de" in error["errors"]["0"]["options"]["1"]["name_localizations"]


async def test_the_fake_refuses_a_localized_name_that_is_another_options_default(dc: FakeDiscord) -> None:
    """A de name "seed" on prompt while another option is called seed → 400, 50035."""
    body = [imagine(option("prompt", name_localizations={"de": "seed"}), option("seed", type=4))]
    status, error = await put_commands(body, dc)
    assert (status, error["code"]) == (400, 50035)
    assert "de" in error["errors"]["0"]["options"]["0"]["name_localizations"]


async def test_the_fake_accepts_a_localization_equal_to_its_own_default(dc: FakeDiscord) -> None:
    """de "seed" on the seed option itself is allowed (Discord ignores it)."""
    status, _ = await put_commands([imagine(option("seed", type=4, name_localizations={"de": "seed"}))], dc)
    assert status == 200


async def test_the_fake_refuses_an_uppercase_command_name(dc: FakeDiscord) -> None:
    """A slash command called "Imagine" → 400, 50035 at its name (message commands may be mixed case)."""
    status, error = await put_commands([imagine() | {"name": "Imagine"}], dc)
    assert (status, error["code"]) == (400, 50035) and "name" in error["errors"]["0"]
    status, _ = await put_commands([{"name": "Edit image", "type": 3}], dc)
    assert status == 200
