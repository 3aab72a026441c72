"""/schedule and /birthday in chat: answers, rights, and the cards they lead to."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image as PILImage

from bot.core.schedules.birthday_card import text_box
from bot.core.schedules.ports import ScheduleKind
from tests.scheduler.conftest import World


async def test_schedule_add_answers_with_description_and_next_three_times(world: World) -> None:
    """Creating a schedule answers with words for it and the next three times in its zone."""
    answer = await world.say(
        "/schedule add every day at 09:00 a lighthouse, {weekday} --tz Europe/Berlin --ar 16:9", admin=True
    )
    assert "every day at 09:00 (Europe/Berlin)" in answer
    assert "Mon 2026-03-02 09:00, Tue 2026-03-03 09:00, Wed 2026-03-04 09:00" in answer  # now is 09:00
    [schedule] = await world.store.list_schedules()
    assert schedule.next_fire_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert schedule.overrides.aspect == "16:9" and schedule.prompt == "a lighthouse, {weekday}"
    assert schedule.target.chat_id == "g1"


async def test_invalid_template_is_rejected_at_creation(world: World) -> None:
    """A typo in a placeholder is answered with the list of placeholders; nothing is saved."""
    answer = await world.say("/schedule add every day at 09:00 a fox {wekday}", admin=True)
    assert "I don't know {wekday}" in answer
    assert await world.store.list_schedules() == []


@pytest.mark.parametrize(
    "command",
    ["/schedule add every day at 09:00 a fox", "/schedule pause 1", "/schedule remove 1", "/schedule run 1"],
)
async def test_group_members_who_are_not_admins_are_refused(world: World, command: str) -> None:
    """In a group, only admins may add, pause, remove or run schedules."""
    await world.say("/schedule add every day at 09:00 a fox", admin=True)
    answer = await world.say(command, user="member")
    assert "Only the chat's administrators" in answer
    assert len(await world.store.list_schedules()) == 1
    [schedule] = await world.store.list_schedules()
    assert schedule.enabled


async def test_anyone_may_list_and_private_chats_need_no_admin(world: World) -> None:
    """Listing is open to all; in a private chat the sender manages their own schedules."""
    assert "Scheduled #1" in await world.say("/schedule add every 2 hours a fox", chat="u1", user="u1")
    assert "#1 · every 2 hours" in await world.say("/schedule list", chat="u1", user="someone")
    assert "Paused #1" in await world.say("/schedule pause 1", chat="u1", user="u1")
    assert "[paused]" in await world.say("/schedule list", chat="u1", user="u1")
    assert "Resumed #1" in await world.say("/schedule resume #1", chat="u1", user="u1")


async def test_a_schedule_of_another_chat_cannot_be_touched(world: World) -> None:
    """Schedule numbers are only valid in the chat that owns them."""
    await world.say("/schedule add every 2 hours a fox", chat="u1", user="u1")
    assert "There is no scheduled post #1 in this chat" in await world.say("/schedule remove 1", admin=True)


async def test_birthday_rights(world: World) -> None:
    """Members set and remove their own birthday; another member's needs an admin."""
    assert "Saved: u2, 14 March" in await world.say("/birthday set 14-03", user="u2")
    assert "Only the chat's administrators" in await world.say("/birthday set 1 May Ana", user="u2")
    assert "Saved: Ana, 1 May 1990" in await world.say(
        "/birthday set 1 May 1990 Ana Europe/Lisbon", admin=True
    )
    assert "Only the chat's administrators" in await world.say("/birthday remove Ana", user="u2")
    listing = await world.say("/birthday list", user="u3")
    assert "u2: 14 March (UTC)" in listing and "Ana: 1 May 1990 (Europe/Lisbon)" in listing
    assert "Removed u2's birthday" in await world.say("/birthday remove", user="u2")
    assert len(await world.store.list_schedules(kind=ScheduleKind.BIRTHDAY)) == 1


async def test_setting_a_birthday_again_replaces_it(world: World) -> None:
    """The same name again moves the birthday; only one card schedule remains."""
    await world.say("/birthday set 14-03 Ana", admin=True)
    await world.say("/birthday set 15-03 Ana", admin=True)
    [schedule] = await world.store.list_schedules(kind=ScheduleKind.BIRTHDAY)
    assert schedule.spec.day == 15


@pytest.mark.easel(start=datetime(2026, 3, 13, 12, 0, tzinfo=UTC))
async def test_birthday_card_arrives_on_the_local_day_with_the_name_drawn(world: World) -> None:
    """At 09:00 in the person's zone on the day, the chat gets a card with the greeting composited."""
    await world.say("/birthday set 14 March 1990 Анна Asia/Tokyo", admin=True)
    await world.say("/birthday template a cake on a table", admin=True)
    assert world.images(await world.at(datetime(2026, 3, 13, 23, 59, tzinfo=UTC))) == []
    [card] = world.images(await world.at(datetime(2026, 3, 14, 0, 0, tzinfo=UTC)))  # 09:00 in Tokyo
    assert world.platform.sent[-1].target.chat_id == "g1"
    assert world.provider.requests[-1].prompt == "a cake on a table"
    picture = PILImage.open(io.BytesIO(card.images[0].path.read_bytes())).convert("RGB")
    left, top, right, bottom = text_box("Happy birthday, Анна!\n36 today", picture.width, picture.height)
    region = picture.crop((left, top, right, bottom))
    plain = (40, 90, 160)
    pixels = [region.getpixel((x, y)) for x in range(region.width) for y in range(region.height)]
    changed = sum(1 for pixel in pixels if isinstance(pixel, tuple) and _distance(pixel, plain) > 60)
    assert changed > region.width * region.height * 0.05  # letters and outline cover part of the band
    corner = picture.getpixel((picture.width - 2, picture.height - 2))
    assert corner == plain  # the rest of the picture is untouched
    assert world.images(await world.at(datetime(2026, 3, 15, 0, 0, tzinfo=UTC))) == []  # once a year


def _distance(pixel: tuple[int, ...], other: tuple[int, ...]) -> int:
    return max(abs(a - b) for a, b in zip(pixel, other, strict=True))


@pytest.mark.easel(start=datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
async def test_birthday_preview_posts_the_card_now_and_keeps_the_day(world: World) -> None:
    """/birthday preview posts the sender's card at once; the yearly card is still due on the day."""
    await world.say("/birthday set 14-03 Ana", user="ana")
    answer = await world.say("/birthday preview", user="ana")
    assert "Ana's card" in answer
    assert len(world.images(await world.at(datetime(2026, 3, 1, 12, 0, 1, tzinfo=UTC)))) == 1
    [schedule] = await world.store.list_schedules(kind=ScheduleKind.BIRTHDAY)
    assert schedule.next_fire_at is not None and schedule.next_fire_at.date().isoformat() == "2026-03-14"


async def test_previewing_someone_elses_card_needs_an_admin(world: World) -> None:
    """A member cannot post another person's card with /birthday preview <name>."""
    await world.say("/birthday set 14-03 Ana", admin=True)
    answer = await world.say("/birthday preview Ana", user="bob")
    assert "admin" in answer.lower()


@pytest.mark.easel(start=datetime(2026, 3, 13, 12, 0, tzinfo=UTC))
async def test_a_german_chats_card_greets_in_german(world: World) -> None:
    """With /settings language de in the chat, the card's greeting (and caption) is German."""
    await world.say("/settings language de", admin=True)
    await world.say("/birthday set 14-03 Ana Europe/Berlin", admin=True)
    [card] = world.images(await world.at(datetime(2026, 3, 14, 8, 0, tzinfo=UTC)))  # 09:00 in Berlin
    assert "Alles Gute zum Geburtstag, Ana!" in card.text
