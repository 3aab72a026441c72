"""Edits that are edits: the builtin renderer keeps its recipe in the file and redraws it changed."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage
from PIL import ImageChops, ImageStat

from bot.core.errors import InvalidRequest
from bot.core.imaging import encode_png
from bot.core.types import GenerationKind, Image, ImageRequest
from bot.providers.builtin.compose import describe
from bot.providers.builtin.provider import BuiltinProvider
from bot.providers.builtin.recipe import Recipe, embed, read
from bot.providers.builtin.scene_edits import parse_scene_edits
from bot.providers.builtin.settings import Format
from tests.fakes.providers.harness import Progress


@pytest.fixture
def provider() -> BuiltinProvider:
    return BuiltinProvider(long_side=256)


async def render(provider: BuiltinProvider, prompt: str, seed: int = 7) -> bytes:
    [image] = await provider.generate(ImageRequest(prompt, seed=seed), on_progress=Progress())
    return image.data


async def edit(provider: BuiltinProvider, instruction: str, reference: bytes) -> Image:
    request = ImageRequest(instruction, kind=GenerationKind.EDIT, reference_images=(reference,), seed=3)
    [image] = await provider.generate(request, on_progress=Progress())
    return image


def pil(data: bytes) -> PILImage.Image:
    return PILImage.open(io.BytesIO(data)).convert("RGB")


def recipe_of(data: bytes) -> Recipe:
    recipe = read(data)
    assert recipe is not None
    return recipe


async def test_a_render_keeps_its_recipe_in_the_file(provider: BuiltinProvider) -> None:
    """The PNG carries the prompt, seed and size it was drawn from."""
    recipe = recipe_of(await render(provider, "a cat in a garden", seed=9))
    assert (recipe.prompt, recipe.seed, recipe.size) == ("a cat in a garden", 9, (256, 256))


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
async def test_the_recipe_survives_lossy_formats(fmt: Format) -> None:
    """JPEG (comment) and WebP (XMP) keep the recipe too."""
    data = await render(BuiltinProvider(long_side=128, format=fmt), "a fox")
    assert recipe_of(data).prompt == "a fox"


async def test_add_a_hat_puts_a_hat_on_the_subject_and_nothing_else_changes(
    provider: BuiltinProvider,
) -> None:
    """The cat gets a hat; the rest of the picture is the same pixels."""
    reference = await render(provider, "a cat in a garden")
    edited = await edit(provider, "add a hat", reference)
    recipe = recipe_of(edited.data)
    assert recipe.accessories == ("hat",)
    assert describe(recipe).elements[0].accessories == ("hat",)
    box = ImageChops.difference(pil(reference), pil(edited.data)).getbbox()
    assert box is not None
    assert (box[2] - box[0]) * (box[3] - box[1]) < 256 * 256 * 0.1
    assert edited.revised_prompt == "builtin preview: added a hat"


async def test_add_snow_adds_snowfall_and_whitens_the_ground(provider: BuiltinProvider) -> None:
    """'add snow' redraws with falling snow and snowy ground."""
    reference = await render(provider, "a house and a tree in spring")
    edited = await edit(provider, "add snow", reference)
    assert "snow" in describe(recipe_of(edited.data)).weather
    low = (0, 230, 256, 256)
    before = ImageStat.Stat(pil(reference).crop(low).convert("L")).mean[0]
    after = ImageStat.Stat(pil(edited.data).crop(low).convert("L")).mean[0]
    assert after > before + 30


async def test_make_it_night_redraws_the_scene_at_night(provider: BuiltinProvider) -> None:
    """'make it night' is a night scene, darker, with the same fox."""
    reference = await render(provider, "a red fox in the snow")
    edited = await edit(provider, "make it night", reference)
    desc = describe(recipe_of(edited.data))
    assert desc.scene.night and desc.subjects == ["fox"]
    assert (
        ImageStat.Stat(pil(edited.data).convert("L")).mean[0]
        < ImageStat.Stat(pil(reference).convert("L")).mean[0] - 20
    )


async def test_remove_the_sun_takes_the_sun_away(provider: BuiltinProvider) -> None:
    """'remove the sun' leaves no sun in the description."""
    reference = await render(provider, "a robot in the desert")
    assert describe(recipe_of(reference)).scene.disc == "sun"
    edited = await edit(provider, "remove the sun", reference)
    assert describe(recipe_of(edited.data)).scene.disc == "none"


async def test_remove_a_subject_and_add_another(provider: BuiltinProvider) -> None:
    """'remove the fox and add a dog' swaps the animal."""
    reference = await render(provider, "a fox in a meadow")
    edited = await edit(provider, "remove the fox and add a dog", reference)
    assert describe(recipe_of(edited.data)).subjects == ["dog"]


async def test_colour_edits_made_earlier_stay_through_a_redraw(provider: BuiltinProvider) -> None:
    """Warmer, then a hat: the hat's redraw is still warmer than the original."""
    reference = await render(provider, "a cat in a garden")
    warm = await edit(provider, "make it warmer", reference)
    hatted = await edit(provider, "add a hat", warm.data)
    assert recipe_of(hatted.data).post == ("warmer@1",)
    r0, _, b0 = ImageStat.Stat(pil(reference)).mean
    r1, _, b1 = ImageStat.Stat(pil(hatted.data)).mean
    assert r1 / b1 > r0 / b0 * 1.1


async def test_something_it_cannot_draw_is_refused_by_name(provider: BuiltinProvider) -> None:
    """'add a sofa' says it does not know how to draw a sofa."""
    reference = await render(provider, "a cat in a garden")
    with pytest.raises(InvalidRequest) as caught:
        await edit(provider, "add a sofa", reference)
    assert "sofa" in (caught.value.user_message or "")


async def test_removing_what_is_not_there_is_refused(provider: BuiltinProvider) -> None:
    """'remove the dragon' from a cat picture says there is no dragon."""
    reference = await render(provider, "a cat in a garden")
    with pytest.raises(InvalidRequest) as caught:
        await edit(provider, "remove the dragon", reference)
    assert "don't see a dragon" in (caught.value.user_message or "")


async def test_a_photo_without_a_recipe_gets_colour_edits_only(provider: BuiltinProvider) -> None:
    """On a picture it did not draw, 'add a hat' is refused and 'make it night' darkens the pixels."""
    photo = encode_png(PILImage.new("RGB", (96, 96), (180, 150, 120)))
    with pytest.raises(InvalidRequest) as caught:
        await edit(provider, "add a hat", photo)
    assert "pictures it drew itself" in (caught.value.user_message or "")
    night = await edit(provider, "make it night", photo)
    assert ImageStat.Stat(pil(night.data).convert("L")).mean[0] < 120


@pytest.mark.parametrize(
    "text",
    [
        '{"v": 2, "prompt": "x", "seed": -1, "size": [64, 64]}',
        '{"v": 2, "prompt": "x", "seed": 1, "size": [64, 99999]}',
        '{"v": 2, "prompt": "x", "seed": 1, "size": [64, 64], "added": ["a", 3]}',
        '{"v": 2, "prompt": "x", "seed": 1, "size": [64, 64], "time": "teatime"}',
        '{"v": 1, "prompt": "x", "seed": 1, "size": [64, 64]}',
        "not json",
    ],
)
def test_a_malformed_recipe_is_no_recipe(text: str) -> None:
    """Bytes in an uploaded file are not trusted: anything out of shape reads as no recipe."""
    assert Recipe.from_json(text) is None


def test_a_recipe_round_trips_through_a_png() -> None:
    """What embed writes, read gives back."""
    recipe = Recipe("a fox, \u00e9t\u00e9", 5, (64, 48), added=("snow",), post=("warmer@1",))
    data = embed(encode_png(PILImage.new("RGB", (64, 48))), "image/png", recipe)
    assert read(data) == recipe
    assert PILImage.open(io.BytesIO(data)).size == (64, 48)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("add a hat", ["added a hat"]),
        ("put a crown on the cat", ["added a crown"]),
        ("give him sunglasses", ["added a glasses"]),
        ("make it night", ["made it night"]),
        ("show it at sunset", ["made it sunset"]),
        ("add snow", ["added snow"]),
        ("make it rainy", ["added rain"]),
        ("remove the sun", ["removed the sun"]),
        ("get rid of the clouds", ["removed the clouds"]),
        ("add a rainbow and two dogs", ["added a rainbow", "added a dog"]),
        ("without the fox, at night", ["removed the fox", "made it night"]),
    ],
)
def test_scene_edits_are_read_from_plain_words(text: str, expected: list[str]) -> None:
    """Common phrasings become scene edits."""
    assert [e.describe() for e in parse_scene_edits(text).edits] == expected


def test_scene_edits_leave_colour_words_for_the_colour_parser() -> None:
    """'add a hat and make it warmer' leaves 'warmer' in the rest."""
    parsed = parse_scene_edits("add a hat and make it warmer")
    assert [e.word for e in parsed.edits] == ["hat"]
    assert "warmer" in parsed.rest


def test_unknown_things_are_reported() -> None:
    """'add a sofa' is an unknown thing, not an edit."""
    parsed = parse_scene_edits("add a sofa")
    assert parsed.edits == () and parsed.unknown == ("sofa",)
