"""Pure parsing: templates, phrases, targets, birthday dates, descriptions."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.errors import InvalidInput
from bot.core.schedules.birthday_dates import (
    card_prompt,
    celebrated_on,
    greeting,
    next_card_time,
    parse_birth_date,
)
from bot.core.schedules.ports import TriggerSpec
from bot.core.schedules.spec import describe, format_target, parse_target, parse_when
from bot.core.schedules.templates import render, season, validate_template
from bot.scheduler.triggers import ApschedulerTriggers

WHEN = datetime(2026, 3, 14, 9, 5, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{date}", "2026-03-14"),
        ("{weekday}", "Saturday"),
        ("{month}", "March"),
        ("{season}", "spring"),
        ("{time}", "09:05"),
        ("#{n}", "#7"),
        ("{{literal}} {WEEKDAY}", "{literal} Saturday"),
    ],
)
def test_each_placeholder_renders(template: str, expected: str) -> None:
    """Every placeholder is filled from the fire time in the schedule's zone and the counter."""
    assert render(template, when=WHEN, n=7, rng=random.Random(1)) == expected


def test_random_choice_is_deterministic_with_a_seeded_rng() -> None:
    """{a|b|c} picks with the given RNG: the same seed gives the same picks, all from the options."""
    picks = [
        render("{dragon|phoenix|griffin}", when=WHEN, n=1, rng=random.Random(seed)) for seed in range(30)
    ]
    again = [
        render("{dragon|phoenix|griffin}", when=WHEN, n=1, rng=random.Random(seed)) for seed in range(30)
    ]
    assert picks == again
    assert set(picks) == {"dragon", "phoenix", "griffin"}


def test_southern_hemisphere_season_is_opposite() -> None:
    """{season} is northern by default; the southern hemisphere gets the opposite season."""
    assert season(WHEN) == "spring" and season(WHEN, southern=True) == "autumn"


@pytest.mark.parametrize("template", ["{wekday}", "a { b", "close }", "{a||b}", "   ", "x" * 1501])
def test_invalid_templates_are_rejected_with_a_friendly_message(template: str) -> None:
    """Unknown placeholders, unbalanced braces, empty choices and empty or huge prompts are refused."""
    with pytest.raises(InvalidInput) as caught:
        validate_template(template)
    assert caught.value.user_message and "Traceback" not in caught.value.user_message


@pytest.mark.parametrize(
    ("text", "cron", "seconds", "rest"),
    [
        ("every day at 09:00 a fox", "0 9 * * *", None, "a fox"),
        ("daily at 9am: a fox", "0 9 * * *", None, "a fox"),
        ("every monday at 18:30 a fox", "30 18 * * 1", None, "a fox"),
        ("every sunday at 6:15pm a fox", "15 18 * * 0", None, "a fox"),
        ("every weekday at 8:00 a fox", "0 8 * * 1-5", None, "a fox"),
        ("every morning a fox", "0 9 * * *", None, "a fox"),
        ("every 2 hours a fox", None, 7200, "a fox"),
        ("every 30 minutes a fox", None, 1800, "a fox"),
        ("hourly a fox", None, 3600, "a fox"),
        ("0 9 * * 1-5 a fox", "0 9 * * 1-5", None, "a fox"),
        ("'*/15 * * * *' a fox", "*/15 * * * *", None, "a fox"),
    ],
)
def test_phrases_become_triggers(text: str, cron: str | None, seconds: int | None, rest: str) -> None:
    """Plain phrases and cron expressions at the start become a spec; the rest is the prompt."""
    parsed = parse_when(text)
    assert (parsed.spec.cron, parsed.spec.seconds, parsed.rest) == (cron, seconds, rest)


@pytest.mark.parametrize("text", ["whenever you like a fox", "every 10 seconds", "every day at 25:00 x"])
def test_unreadable_schedules_are_refused(text: str) -> None:
    """Phrases it cannot read, intervals under a minute and impossible times are refused kindly."""
    with pytest.raises(InvalidInput):
        parse_when(text)


def test_cron_weekdays_follow_crontab_numbering() -> None:
    """Cron day 1 is Monday (crontab), though APScheduler 3 itself counts from Monday = 0."""
    upcoming = ApschedulerTriggers().next_after(
        TriggerSpec("cron", cron="30 18 * * 1"), "UTC", datetime(2026, 11, 21, tzinfo=UTC)
    )
    assert upcoming == datetime(2026, 11, 23, 18, 30, tzinfo=UTC) and upcoming.strftime("%A") == "Monday"


def test_descriptions_are_human() -> None:
    """Specs read back as words with the zone."""
    assert (
        describe(parse_when("every monday at 18:30").spec, "Europe/Berlin")
        == "every Monday at 18:30 (Europe/Berlin)"
    )
    assert describe(parse_when("every 2 hours").spec, "UTC") == "every 2 hours"


@pytest.mark.parametrize(
    ("text", "platform", "chat", "extra"),
    [
        ("telegram:42", "telegram", "42", {}),
        ("telegram:-1001234:7", "telegram", "-1001234/7", {"thread_id": 7}),
        ("discord:123456789", "discord", "123456789", {}),
        ("web", "web", "web", {}),
    ],
)
def test_targets(text: str, platform: str, chat: str, extra: dict[str, int]) -> None:
    """Targets parse to the chat key and topic the adapters use, and format back."""
    target = parse_target(text)
    assert (target.platform, target.chat_id, dict(target.extra)) == (platform, chat, extra)
    assert format_target(target) == text


@pytest.mark.parametrize(
    ("text", "day", "month", "year", "rest"),
    [
        ("14-03", 14, 3, None, ""),
        ("14.03.1990 Ana", 14, 3, 1990, "Ana"),
        ("14 March Ana Europe/Lisbon", 14, 3, None, "Ana Europe/Lisbon"),
        ("March 14, 1990", 14, 3, 1990, ""),
        ("3rd of Sept Bob", 3, 9, None, "Bob"),
        ("29-02", 29, 2, None, ""),
    ],
)
def test_birthday_dates(text: str, day: int, month: int, year: int | None, rest: str) -> None:
    """Numeric and written dates, with an optional year, leave the name and zone behind."""
    parsed, remainder = parse_birth_date(text, today=date(2026, 3, 1))
    assert (parsed.day, parsed.month, parsed.year, remainder) == (day, month, year, rest)


@pytest.mark.parametrize("text", ["31-02", "14-13", "someday", "14-03-1800"])
def test_impossible_birthdays_are_refused(text: str) -> None:
    """Impossible dates and years are refused with a message."""
    with pytest.raises(InvalidInput):
        parse_birth_date(text, today=date(2026, 3, 1))


def test_29_february_is_celebrated_on_28_february_in_other_years() -> None:
    """A leap-day birthday moves to 28 February outside leap years and stays in leap years."""
    assert celebrated_on(29, 2, 2027) == date(2027, 2, 28)
    assert celebrated_on(29, 2, 2028) == date(2028, 2, 29)
    after = datetime(2027, 1, 1, tzinfo=UTC)
    assert next_card_time(29, 2, "Asia/Tokyo", 9, after) == datetime(2027, 2, 28, 0, 0, tzinfo=UTC)


def test_greeting_and_default_card_prompt() -> None:
    """The greeting names the person (and the age when the year is known); the prompt uses the style."""
    assert greeting("Ana", born=1990, on=date(2026, 3, 14)) == "Happy birthday, Ana!\n36 today"
    assert greeting("Ana", born=None, on=date(2026, 3, 14)) == "Happy birthday, Ana!"
    assert "watercolor" in card_prompt(None, {"style": "watercolor"})
    assert card_prompt("a cat with a cake", {}) == "a cat with a cake"
