"""Easel in the user's language on Telegram: ``language_code``, ``/settings language`` and the command
menu registered per language."""

from __future__ import annotations

import pytest

from bot.core import i18n, texts
from bot.platforms.telegram.adapter import COMMANDS
from tests.fakes import telegram_world
from tests.platforms.conftest import CHAT, USER, Running


def german(message: str) -> str:
    with i18n.using("de"):
        return i18n._(message)


async def answer_to(running: Running, text: str) -> str:
    """Send ``text`` as USER; the next text the bot says in the chat."""
    before = len(running.tg.texts(CHAT))
    running.tg.say(CHAT, USER, text)
    await running.tg.wait_for(lambda: len(running.tg.texts(CHAT)) > before)
    return running.tg.texts(CHAT)[before]


async def test_help_is_answered_in_german_for_language_code_de(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user whose Telegram app is in German (language_code de) gets /help in German."""
    monkeypatch.setitem(telegram_world.USER_LANGUAGES, USER, "de")
    answer = await answer_to(running, "/help")
    assert answer.startswith("Easel macht aus Worten Bilder.") and answer == german(texts.HELP)


async def test_a_refusal_is_answered_in_german_for_language_code_de(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An /imagine without a prompt is refused in German."""
    monkeypatch.setitem(telegram_world.USER_LANGUAGES, USER, "de")
    answer = await answer_to(running, "/imagine")
    assert answer == "Sag mir, was ich zeichnen soll, z. B. /imagine a watercolor fox --ar 16:9"


async def test_an_unsupported_language_code_is_answered_in_english(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A French app (no French catalogue) gets the English text."""
    monkeypatch.setitem(telegram_world.USER_LANGUAGES, USER, "fr")
    assert await answer_to(running, "/help") == texts.HELP


async def test_settings_language_es_overrides_the_users_locale(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/settings language es makes the chat Spanish for a German user; auto gives them German again."""
    monkeypatch.setitem(telegram_world.USER_LANGUAGES, USER, "de")
    changed = await answer_to(running, "/settings language es")
    assert changed.startswith("Configuración de este chat:") and "language: es" in changed
    assert (await answer_to(running, "/help")).startswith("Easel convierte palabras en imágenes.")
    await answer_to(running, "/settings language auto")
    assert (await answer_to(running, "/help")).startswith("Easel macht aus Worten Bilder.")


async def test_settings_language_refuses_an_unknown_language(running: Running) -> None:
    """/settings language fr names the languages there are."""
    answer = await answer_to(running, "/settings language fr")
    assert answer == "language is en, de, es or auto (each person's own language)."


async def test_command_descriptions_are_registered_per_language(running: Running) -> None:
    """setMyCommands is called for everyone (English) and with language_code de and es, same commands,
    translated descriptions."""
    by_language = running.tg.commands_by_language
    assert set(by_language) == {"", "de", "es"}
    names = [c for c, _ in COMMANDS]
    assert all([c["command"] for c in by_language[code]] == names for code in by_language)
    english = {c["command"]: c["description"] for c in by_language[""]}
    german_menu = {c["command"]: c["description"] for c in by_language["de"]}
    assert english["imagine"] == "Make an image: /imagine a red fox --ar 16:9"
    assert german_menu["imagine"] == "Ein Bild erstellen: /imagine ein roter Fuchs --ar 16:9"
    assert all(german_menu[name] != english[name] for name in names)  # every description translated
    spanish = {c["command"]: c["description"] for c in by_language["es"]}
    assert spanish["help"] == "Cómo usar Easel"
