"""/schedule and /birthday answer in the sender's language (German, Spanish); English is unchanged."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.core import i18n
from bot.core.errors import Refused
from bot.core.schedules.birthday_dates import greeting
from tests.scheduler.conftest import World


async def test_an_empty_schedule_list_is_answered_in_german(world: World) -> None:
    """A German user's /schedule list (nothing scheduled) gets the German text and usage."""
    answer = await world.say("/schedule list", locale="de")
    assert answer.startswith("Hier gibt es keine geplanten Posts. Nutze /schedule add <wann> <Prompt>")


async def test_a_new_schedule_is_described_in_spanish(world: World) -> None:
    """The words for the schedule and the weekday names of its next runs are Spanish."""
    answer = await world.say(
        "/schedule add every day at 09:00 a lighthouse --tz Europe/Berlin", admin=True, locale="es"
    )
    assert "Programada #1: todos los días a las 09:00 (Europe/Berlin): a lighthouse" in answer
    assert "Próximas publicaciones: lun 2026-03-02 09:00, mar 2026-03-03 09:00" in answer


async def test_a_saved_birthday_is_answered_in_german(world: World) -> None:
    """/birthday set answers with the German date form and month name."""
    answer = await world.say("/birthday set 14-03-1990", user="u2", locale="de")
    assert answer.startswith("Gespeichert: u2, 14. März 1990. Die Karte kommt am ")


async def test_a_bad_time_is_refused_in_spanish(world: World) -> None:
    """The parser's refusal (a time it cannot read) comes in Spanish with the Spanish help."""
    answer = await world.say("/schedule add every day at 25:00 a fox", admin=True, locale="es")
    assert "25:00 no es una hora del día (00:00-23:59)." in answer


def test_the_card_greeting_follows_the_language() -> None:
    """The greeting drawn on a card is German in a German block and English outside it."""
    with i18n.using("de"):
        assert (
            greeting("Ana", born=1990, on=date(2026, 3, 14))
            == "Alles Gute zum Geburtstag, Ana!\nHeute 36 Jahre alt"
        )
    assert greeting("Ana", born=1990, on=date(2026, 3, 14)) == "Happy birthday, Ana!\n36 today"


@pytest.mark.easel(errors=[Refused("no", provider="pictures", user_message="Refused by the provider.")])
async def test_a_failure_notice_follows_the_servers_language(world: World) -> None:
    """A channel of a server whose default language is German gets the retry notice in German."""
    await world.say("/settings guild language de", chat="c1", admin=True, guild_id="G1")
    await world.add("every day at 09:00")
    replies = await world.at(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    assert any(r.text.startswith("Der geplante Post #1 ist fehlgeschlagen") for r in replies)
