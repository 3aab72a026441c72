"""Discord's own ephemeral answers and a provider's error in the user's language (``locale``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.discord_harness import RunningDiscord, running_discord
from tests.fakes.discord_world import EPHEMERAL, OTHER_USER, USER
from tests.platforms.test_i18n_telegram_alerts import REFUSED_DE, PolicyRefusingProvider


@pytest.fixture
async def bot(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RunningDiscord]:
    marker = request.node.get_closest_marker("easel")
    options = dict(marker.kwargs) if marker else {}
    async with running_discord(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}",
        env=options.get("env", {}),
        providers=options.get("providers"),
    ) as running:
        yield running


async def test_edit_image_on_a_message_without_image_is_answered_in_german(bot: RunningDiscord) -> None:
    """ "Edit image" on plain text, from a German client: the ephemeral answer is German."""
    bot.dc.world.locales[USER] = "de"
    posted = bot.dc.say("nur Worte")
    menu = bot.dc.context_menu("Edit image", int(posted["id"]))
    await bot.dc.wait_for(lambda: bot.dc.original(menu) is not None)
    answer = bot.dc.original(menu)
    assert answer is not None and answer["flags"] & EPHEMERAL
    assert answer["content"] == "Diese Nachricht hat kein Bild, das ich bearbeiten kann."


@pytest.mark.easel(env={"EASEL__DISCORD__ALLOWED_USERS": f"[{USER}]"})
async def test_a_spanish_user_outside_the_allow_list_is_refused_in_spanish(bot: RunningDiscord) -> None:
    """With allowed_users set, a Spanish client outside it gets the "private" answer in Spanish."""
    bot.dc.world.locales[OTHER_USER] = "es-ES"
    it = bot.dc.slash("imagine", {"prompt": "un zorro"}, user=OTHER_USER)
    await bot.dc.wait_for(lambda: bot.dc.original(it) is not None)
    answer = bot.dc.original(it)
    assert answer is not None and answer["content"] == "Lo siento, este bot es privado aquí."


@pytest.mark.easel(providers=[PolicyRefusingProvider()])
async def test_a_providers_refusal_reaches_a_german_user_in_german(bot: RunningDiscord) -> None:
    """The provider's HTTP refusal, mapped while the German user's job runs, is answered in German."""
    bot.dc.world.locales[USER] = "de"
    it = bot.dc.slash("imagine", {"prompt": "a castle"})
    await bot.dc.wait_for(lambda: bot.dc.followups(it))
    notice = bot.dc.followups(it)[0]
    assert notice["flags"] & EPHEMERAL and REFUSED_DE in notice["content"]


async def test_settings_from_a_member_who_may_not_manage_the_server_is_refused_in_german(
    bot: RunningDiscord,
) -> None:
    """/settings aspect 1:1 from a German client without Manage Server: the refusal is German."""
    bot.dc.world.locales[USER] = "de"
    it = bot.dc.slash("settings", {"key": "aspect", "value": "1:1"})
    await bot.dc.wait_for(lambda: bot.dc.original(it) is not None)
    answer = bot.dc.original(it)
    assert answer is not None and answer["flags"] & EPHEMERAL
    assert answer["content"] == (
        "Nur Mitglieder mit der Berechtigung „Server verwalten“ können die Einstellungen dieses Servers "
        "ändern."
    )


async def test_a_bad_imagine_option_is_refused_in_german(bot: RunningDiscord) -> None:
    """An aspect the choices do not offer (a forged request), from a German client: a German answer."""
    bot.dc.world.locales[USER] = "de"
    it = bot.dc.slash("imagine", {"prompt": "ein Fuchs", "aspect": "99:1"})
    await bot.dc.wait_for(lambda: bot.dc.original(it) is not None)
    answer = bot.dc.original(it)
    assert answer is not None and answer["flags"] & EPHEMERAL
    assert answer["content"] == (
        "Das Seitenverhältnis muss wie 16:9 aussehen (jede Seite 1-100, zwischen 1:4 und 4:1) oder eines "
        "davon sein: square, portrait, landscape, wide, tall."
    )
