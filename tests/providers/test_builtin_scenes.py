"""The builtin renderer draws what was asked: subjects as motifs, settings, weather, colours, styles."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PIL import Image, ImageChops, ImageStat

from bot.providers.builtin.compose import Description, describe
from bot.providers.builtin.palette import COLOURS
from bot.providers.builtin.recipe import Recipe
from bot.providers.builtin.render import render_description
from bot.providers.builtin.vocab import lemma, subjects_in

SIZE = (256, 256)


def scene(prompt: str, seed: int = 7, **fields: object) -> Description:
    return describe(replace(Recipe(prompt, seed, SIZE), **fields))  # type: ignore[arg-type]


def changed_share(a: Image.Image, b: Image.Image, threshold: int = 40) -> float:
    """Share of pixels where any channel differs by more than ``threshold``."""
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > threshold else 0)
    return ImageStat.Stat(diff).mean[0] / 255


@pytest.mark.parametrize(
    ("prompt", "subject", "family"),
    [
        ("a red fox in the snow", "fox", "quadruped"),
        ("a lighthouse in a storm", "lighthouse", "lighthouse"),
        ("a cake with candles", "cake", "cake"),
        ("a dragon over a castle", "dragon", "dragon"),
        ("two wolves howling", "wolf", "quadruped"),
        ("an astronaut floating", "astronaut", "person"),
    ],
)
def test_the_description_names_the_subjects_motif(prompt: str, subject: str, family: str) -> None:
    """The main noun of the prompt becomes the first motif of the scene."""
    desc = scene(prompt)
    assert desc.subjects[0] == subject
    assert desc.families[0] == family


@pytest.mark.parametrize(
    ("prompt", "subject"),
    [
        ("a red fox in the snow", "fox"),
        ("a lighthouse in a storm", "lighthouse"),
        ("a cake with candles", "cake"),
    ],
)
def test_the_motifs_pixels_differ_from_the_plain_landscape(prompt: str, subject: str) -> None:
    """Drawing the subject changes a good part of the picture, around where it stands."""
    desc = scene(prompt)
    plain = render_description(scene(prompt, removed=(subject,)), SIZE)
    drawn = render_description(desc, SIZE)
    assert changed_share(plain, drawn) > 0.03
    box = ImageChops.difference(plain, drawn).convert("L").point(lambda v: 255 if v > 40 else 0).getbbox()
    element = desc.elements[0]
    assert box is not None
    assert box[0] <= element.x * SIZE[0] <= box[2]
    assert box[1] <= element.y * SIZE[1] <= box[3] + 4


def test_a_fox_in_the_snow_stands_on_snow_with_snow_falling() -> None:
    """'in the snow' is snowy ground and snowfall; 'red' is the fox's own colour, not the sky's."""
    desc = scene("a red fox in the snow")
    assert desc.setting == "snow" and "snow" in desc.weather
    assert desc.elements[0].colour is None  # a red fox is fox-coloured
    img = render_description(desc, SIZE)
    r, g, b = ImageStat.Stat(img.crop((0, int(SIZE[1] * 0.95), SIZE[0], SIZE[1]))).mean
    assert min(r, g, b) > 170  # the ground under it is white


def test_a_lighthouse_in_a_storm_has_sea_rain_and_lightning() -> None:
    """A storm at a lighthouse: the sea, a storm's weather, no sun."""
    desc = scene("a lighthouse in a storm")
    assert desc.setting == "water" and desc.scene.terrain == "water"
    assert "storm" in desc.weather and desc.scene.disc == "none"


def test_a_colour_word_before_a_subject_dyes_the_subject() -> None:
    """'a blue cat' is a blue cat (the sky is left to the palette)."""
    desc = scene("a blue cat in a garden")
    assert desc.elements[0].colour == COLOURS["blue"]


def test_a_plural_draws_several() -> None:
    """'balloons' is a bunch of balloons, 'two horses' two horses."""
    assert sum(e.subject == "balloon" for e in scene("balloons").elements) >= 3
    assert sum(e.subject == "horse" for e in scene("two horses in a meadow").elements) == 2


@pytest.mark.parametrize(
    ("prompt", "style"),
    [
        ("a watercolor fox", "watercolor"),
        ("neon cyberpunk city", "neon"),
        ("pixel art knight", "pixel"),
        ("an 8-bit castle", "pixel"),
        ("a pencil sketch of an owl", "sketch"),
        ("an oil painting of a boat", "oil"),
        ("low poly mountains", "lowpoly"),
        ("a low-poly deer", "lowpoly"),
    ],
)
def test_style_words_choose_the_rendering(prompt: str, style: str) -> None:
    """Each style word picks its rendering."""
    assert scene(prompt).style == style


@pytest.mark.parametrize("style_word", ["pixel art", "pencil sketch", "oil painting", "low poly"])
def test_a_style_changes_the_pixels(style_word: str) -> None:
    """The same scene in a style differs clearly from the plain one."""
    plain = render_description(scene("a fox in a forest"), SIZE)
    styled_recipe = Recipe(f"a fox in a forest, {style_word}", 7, SIZE)
    styled = render_description(describe(styled_recipe), SIZE)
    assert changed_share(plain, styled, threshold=25) > 0.1


def test_different_seeds_vary_composition_pose_and_palette() -> None:
    """Another seed puts the subject elsewhere, in another pose, under another sky."""
    a, b = scene("a cat", seed=1), scene("a cat", seed=2)
    assert a.elements[0].x != b.elements[0].x
    assert a.elements[0].pose != b.elements[0].pose
    assert a.scene.palette != b.scene.palette


def test_the_same_recipe_draws_the_same_pixels() -> None:
    """Prompt, seed and size fix every pixel."""
    desc = scene("a dragon over a castle")
    assert (
        render_description(desc, SIZE).tobytes()
        == render_description(scene("a dragon over a castle"), SIZE).tobytes()
    )


def test_the_birthday_card_prompt_is_a_festive_day_scene() -> None:
    """The default card prompt draws a cake and party props in daylight, whatever the seed."""
    prompt = (
        "a festive birthday illustration, balloons, confetti and a cake with candles, joyful colours, "
        "space at the top for a greeting"
    )
    layouts = set()
    for seed in range(12):
        desc = scene(prompt, seed=seed)
        assert desc.setting == "festive" and not desc.scene.night
        assert "cake" in desc.subjects
        layouts.add(desc.festive)
    assert len(layouts) >= 2  # the seed chooses among the layouts


@pytest.mark.parametrize(
    ("word", "base"),
    [("wolves", "wolf"), ("foxes", "fox"), ("puppies", "puppy"), ("cats", "cat"), ("glass", "glass")],
)
def test_plurals_fold_to_the_singular(word: str, base: str) -> None:
    """Common plural forms find their subject."""
    assert lemma(word) == base


def test_two_word_subjects_are_read_as_one() -> None:
    """'polar bear' and 'hot air balloon' are one subject each."""
    assert [name for _, name, _ in subjects_in("a polar bear and a hot air balloon")] == [
        "polar bear",
        "hot air balloon",
    ]


def test_a_reef_without_fish_named_still_gets_fish() -> None:
    """Under water, fish come along even when the prompt names none."""
    desc = scene("a coral reef")
    assert desc.setting == "underwater" and "fish" in desc.subjects


def test_subjects_added_by_an_edit_are_placed() -> None:
    """Words an edit adds (here 'fish', counted specially) become motifs like the prompt's own."""
    assert "fish" in scene("a coral reef", added=("fish",)).subjects
    assert "dog" in scene("a cat in a garden", added=("dog",)).subjects
