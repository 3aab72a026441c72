"""parse_edit_instruction and apply_edits: the builtin renderer's simple real edits."""

from __future__ import annotations

import pytest
from PIL import Image

from bot.core.types import Aspect
from bot.providers.builtin.edits import EditKind, EditOp, apply_edits, crop_box, parse_edit_instruction

K = EditKind


def kinds(text: str) -> list[EditKind]:
    return [op.kind for op in parse_edit_instruction(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("make it warmer", [K.WARMER]),
        ("WARM it up", [K.WARMER]),
        ("golden hour", [K.WARMER]),
        ("like a sunset", [K.WARMER]),
        ("cooler", [K.COOLER]),
        ("make it colder and icy", [K.COOLER]),
        ("brighter", [K.BRIGHTER]),
        ("lighter please", [K.BRIGHTER]),
        ("darker", [K.DARKER]),
        ("dim the lights", [K.DARKER]),
        ("black and white", [K.GRAYSCALE]),
        ("b&w", [K.GRAYSCALE]),
        ("greyscale", [K.GRAYSCALE]),
        ("grayscale", [K.GRAYSCALE]),
        ("monochrome", [K.GRAYSCALE]),
        ("blur the background", [K.BLUR]),
        ("blurry", [K.BLUR]),
        ("softer", [K.BLUR]),
        ("sharpen", [K.SHARPEN]),
        ("sharper", [K.SHARPEN]),
        ("crisp", [K.SHARPEN]),
        ("more contrast", [K.MORE_CONTRAST]),
        ("less contrast", [K.LESS_CONTRAST]),
        ("more saturated", [K.MORE_SATURATION]),
        ("vivid", [K.MORE_SATURATION]),
        ("vibrant colours", [K.MORE_SATURATION]),
        ("less saturated", [K.LESS_SATURATION]),
        ("muted", [K.LESS_SATURATION]),
        ("desaturate it", [K.LESS_SATURATION]),
    ],
)
def test_single_instructions_are_recognised(text: str, expected: list[EditKind]) -> None:
    """Each documented word or phrase maps to its operation, case-insensitively."""
    assert kinds(text) == expected


def test_night_means_darker_and_cooler() -> None:
    """'at night' (and plain 'night') darkens and cools."""
    assert kinds("show it at night") == [K.DARKER, K.COOLER]
    assert kinds("night") == [K.DARKER, K.COOLER]


def test_negated_words_flip_to_the_opposite() -> None:
    """'less blurry' sharpens, 'less bright' darkens, 'not so warm' cools."""
    assert kinds("less blurry") == [K.SHARPEN]
    assert kinds("less bright") == [K.DARKER]
    assert kinds("not so warm") == [K.COOLER]


def test_several_operations_combine_in_the_order_given() -> None:
    """Several instructions in one message are all recognised, in order."""
    assert kinds("warmer, more contrast and blur it") == [K.WARMER, K.MORE_CONTRAST, K.BLUR]


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        ("16:9", Aspect(16, 9)),
        ("a 9:16 version", Aspect(9, 16)),
        ("make it 4x5", Aspect(4, 5)),
        ("square", Aspect(1, 1)),
        ("portrait", Aspect(2, 3)),
        ("landscape", Aspect(3, 2)),
        ("wide", Aspect(16, 9)),
        ("widescreen", Aspect(16, 9)),
    ],
)
def test_aspect_changes_become_a_crop(text: str, aspect: Aspect) -> None:
    """Ratios and aspect words become one CROP with that aspect."""
    assert parse_edit_instruction(text) == [EditOp(K.CROP, aspect=aspect)]


def test_absurd_ratios_are_ignored() -> None:
    """A ratio beyond 4:1 is not taken as an aspect."""
    assert parse_edit_instruction("make it 50:1") == []


def test_unrecognised_instruction_gives_nothing() -> None:
    """An instruction the renderer cannot perform parses to an empty list."""
    assert parse_edit_instruction("add a hat to the fox") == []


def test_intensity_words_scale_the_strength() -> None:
    """'a bit' halves the strength; 'much' raises it."""
    assert parse_edit_instruction("a bit warmer")[0].strength < 1.0
    assert parse_edit_instruction("much warmer")[0].strength > 1.0


def test_crop_box_is_centred_and_as_large_as_possible() -> None:
    """A 16:9 box in a 1600x1600 square spans the width and is centred vertically."""
    assert crop_box((1600, 1600), Aspect(16, 9)) == (0, 350, 1600, 1250)
    assert crop_box((1600, 900), Aspect(1, 1)) == (350, 0, 1250, 900)


def test_grayscale_is_applied_after_colour_changes() -> None:
    """Whatever the order given, 'warmer' then 'black and white' still ends grey."""
    img = Image.new("RGB", (8, 8), (40, 120, 200))
    out = apply_edits(img, [EditOp(K.GRAYSCALE), EditOp(K.WARMER)])
    r, g, b = out.getpixel((0, 0))  # type: ignore[misc]
    assert r == g == b
