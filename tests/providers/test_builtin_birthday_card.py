"""Birthday cards: the greeting wraps at spaces, long names shrink, the panel keeps it readable, and
the chat caption is the greeting."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image, ImageStat

from bot.core.imaging import encode_png
from bot.core.jobs.delivery import _title
from bot.core.schedules.birthday_card import MIN_FONT_PX, compose_greeting, layout, text_box
from bot.core.texts import caption
from bot.core.types import GenerationKind, GenerationRecord, GenerationStatus

NAMES = [
    "Ana",
    "Maximilian-Alexander",
    "Maximilian-Alexander von Hohenzollern-Sigmaringen",
    "Анна-Мария Константинопольская",
    "Bartholomew Montgomery-Fitzwilliam the Third",
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size", [(1024, 1024), (512, 512), (1024, 576), (576, 1024)])
def test_the_greeting_is_never_broken_inside_a_word(name: str, size: tuple[int, int]) -> None:
    """Every line is whole words of the greeting, and together they are the greeting."""
    text = f"Happy birthday, {name}!\n36 today"
    lines = [line for line, _ in layout(text, *size).lines]
    assert " ".join(lines).split() == text.split()
    for line in lines:
        assert all(word in text.split() for word in line.split())


def test_a_longer_name_is_drawn_smaller() -> None:
    """A name too long for the line at full size shrinks instead of breaking."""
    short = layout("Happy birthday, Ana!", 1024, 1024).size
    long = layout("Happy birthday, Maximilian-Alexander von Hohenzollern-Sigmaringen!", 1024, 1024).size
    assert long < short
    assert long > MIN_FONT_PX * 2  # still readable


def test_the_greeting_keeps_happy_birthday_on_one_line() -> None:
    """The line break goes after the comma, not inside 'Happy birthday'."""
    lines = [line for line, _ in layout("Happy birthday, Ana!\n36 today", 1024, 1024).lines]
    assert lines[:2] == ["Happy birthday,", "Ana!"]


def test_the_age_line_is_smaller_and_optional() -> None:
    """The age line is drawn smaller than the greeting; without one there is no extra line."""
    with_age = layout("Happy birthday, Ana!\n36 today", 1024, 1024)
    assert with_age.lines[-1] == ("36 today", with_age.lines[-1][1])
    assert with_age.lines[-1][1] < with_age.size
    assert len(layout("Happy birthday, Ana!", 1024, 1024).lines) == len(with_age.lines) - 1


@pytest.mark.parametrize("colour", [(255, 255, 255), (0, 0, 0), (250, 230, 60)])
def test_the_panel_makes_the_greeting_readable_on_any_background(colour: tuple[int, int, int]) -> None:
    """On white, black or yellow, the text area is a light panel with dark letters in it."""
    base = encode_png(Image.new("RGB", (512, 512), colour))
    card = Image.open(io.BytesIO(compose_greeting(base, "Happy birthday, Ana!\n36 today"))).convert("L")
    left, top, right, bottom = text_box("Happy birthday, Ana!\n36 today", 512, 512)
    panel = card.crop((left, top, right, bottom))
    low, high = panel.getextrema()
    assert high > 200 and low < 80  # a light panel and dark letters on it
    assert ImageStat.Stat(panel).mean[0] > 150
    assert card.getpixel((2, 510)) == Image.new("RGB", (1, 1), colour).convert("L").getpixel((0, 0))


def test_the_card_caption_is_the_greeting() -> None:
    """The chat sees 'Happy birthday, Ana!', not the prompt sent to the image model."""
    record = GenerationRecord(
        id=3, chat_id=1, user_id=1, kind=GenerationKind.GENERATE, status=GenerationStatus.DONE,
        prompt="a festive birthday illustration, balloons", negative=None, params={"preview": True},
        provider="builtin", model="builtin-v1", parent_id=None, error=None,
        created_at=datetime(2026, 3, 14, tzinfo=UTC), finished_at=None, images=(),
    )  # fmt: skip
    payload = {
        "steps": [
            {"name": "birthday_card", "text": "Happy birthday, Ana!", "caption": "Happy birthday, Ana!"}
        ]
    }
    text = caption(record, title=_title(payload))
    assert text.startswith("Happy birthday, Ana!")
    assert "festive birthday illustration" not in text
    assert caption(record, title=_title({})).startswith("a festive birthday illustration")
