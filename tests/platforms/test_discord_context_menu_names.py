"""The "Edit image" message command is named in German and Spanish in the message menu (context-menu
names may be mixed case with spaces, and are never typed), while slash command names stay English;
the fake holds a localized name to the rules of its command's type, as Discord does."""

from __future__ import annotations

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_harness import RunningDiscord
from tests.platforms.test_discord_option_names import bot, dc, put_commands, synced

__all__ = ["bot", "dc"]  # the fixtures, used by name

MESSAGE = 3


async def test_edit_image_is_named_in_german_and_spanish(bot: RunningDiscord) -> None:
    """The synced "Edit image" says "Bild bearbeiten" for de, "Editar imagen" for es-ES and es-419."""
    edit = synced(bot)["Edit image"]
    assert edit["type"] == MESSAGE
    assert edit["name_localizations"] == {
        "de": "Bild bearbeiten",
        "es-ES": "Editar imagen",
        "es-419": "Editar imagen",
    }


async def test_slash_command_names_stay_english(bot: RunningDiscord) -> None:
    """No slash command (type 1) carries a localized name."""
    slash = [c for c in synced(bot).values() if c.get("type", 1) == 1]
    assert {c["name"] for c in slash} >= {"imagine", "edit", "settings"}
    assert all(not c.get("name_localizations") for c in slash)


async def test_the_fake_accepts_a_mixed_case_localized_name_with_spaces_on_a_message_command(
    dc: FakeDiscord,
) -> None:
    """A message command localized "Bild bearbeiten" syncs (200)."""
    body = [{"name": "Edit image", "type": MESSAGE, "name_localizations": {"de": "Bild bearbeiten"}}]
    status, _ = await put_commands(body, dc)
    assert status == 200


async def test_the_fake_refuses_a_mixed_case_localized_name_with_spaces_on_a_slash_command(
    dc: FakeDiscord,
) -> None:
    """A slash command localized "Bild bearbeiten" → 400, 50035 at its name_localizations."""
    body = [
        {
            "name": "edit",
            "type": 1,
            "description": "Edit an image",
            "name_localizations": {"de": "Bild bearbeiten"},
        }
    ]
    status, error = await put_commands(body, dc)
    assert (status, error["code"]) == (400, 50035)
    assert "name_localizations" in error["errors"]["0"]


async def test_the_fake_refuses_a_message_command_name_longer_than_32_in_a_locale(dc: FakeDiscord) -> None:
    """A message command's de name of 33 characters → 400, 50035."""
    body = [{"name": "Edit image", "type": MESSAGE, "name_localizations": {"de": "B" * 33}}]
    status, error = await put_commands(body, dc)
    assert (status, error["code"]) == (400, 50035)
