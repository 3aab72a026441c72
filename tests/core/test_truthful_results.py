"""Truthful metadata (issue 18, item 6): what is recorded and captioned is what was made, what was asked
and not done is said, and a reroll of an edit edits again with a new seed (or says why it cannot)."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from bot.core.jobs.made import aspect_of, made_aspect
from bot.core.messages import Attachment
from bot.core.types import Aspect, GenerationKind, Image
from tests.core.conftest import Harness
from tests.core.test_image_actions import provider_of, seeded


async def test_try_a_16_9_version_records_and_captions_16_9(harness: Harness) -> None:
    """'try a 16:9 version' crops to 16:9: the caption and the recorded aspect say 16:9, not 1:1."""
    await harness.last("/imagine a red fox")
    edit = await harness.last("try a 16:9 version")
    image = edit.images[0]
    assert abs(image.width / image.height - 16 / 9) < 0.03
    assert "· 16:9 ·" in edit.text and "1:1" not in edit.text
    record = await harness.easel.history.get_generation(generation_id=edit.generation_id or 0)
    assert record is not None and record.params["aspect"] == "16:9"


async def test_an_ignored_aspect_on_an_edit_is_said(harness: Harness) -> None:
    """/edit make it warmer --ar 3:2 keeps the square picture square and says --ar was ignored."""
    await harness.last("/imagine a red fox")
    edit = await harness.last("/edit make it warmer --ar 3:2")
    assert edit.images[0].width == edit.images[0].height
    assert any("--ar 3:2 was ignored" in note for note in edit.notes)
    assert "· 1:1 ·" in edit.text


async def test_an_ignored_model_is_said(harness: Harness) -> None:
    """--model sdxl on the offline renderer is said to have been ignored (it made the image itself)."""
    reply = await harness.last("/imagine a red fox --model sdxl")
    assert any("no model 'sdxl'" in note and "builtin-v1" in note for note in reply.notes)


async def test_fewer_images_than_asked_are_said_and_recorded(harness: Harness) -> None:
    """An edit asked for --n 2 that makes one image says so, and records n as 1."""
    await harness.last("/imagine a red fox")
    edit = await harness.last("/edit make it warmer --n 2")
    assert len(edit.images) == 1 and any("made 1 of the 2 images" in note for note in edit.notes)
    record = await harness.easel.history.get_generation(generation_id=edit.generation_id or 0)
    assert record is not None and record.params["n"] == 1


@pytest.mark.easel(providers=seeded)
async def test_reroll_of_an_edit_edits_again_with_a_new_seed(harness: Harness) -> None:
    """Reroll of an edit sends the edited picture's source again, with the instruction and a new seed."""
    first = await harness.last("/imagine a red fox --seed 10")
    edit = await harness.last("/edit make it warmer")
    again = await harness.last(f"/reroll #{edit.generation_id}")
    requests = provider_of(harness).requests
    assert not again.is_error and requests[-1].kind == GenerationKind.EDIT
    assert requests[-1].prompt == "make it warmer"
    assert requests[-1].reference_images == (first.images[0].path.read_bytes(),)
    assert requests[-1].seed != requests[-2].seed


@pytest.mark.easel(providers=seeded)
async def test_reroll_of_a_reroll_of_an_edit_still_edits_the_original(harness: Harness) -> None:
    """A second reroll of an edit starts from the edited picture's source, not from the first reroll."""
    first = await harness.last("/imagine a red fox --seed 10")
    edit = await harness.last("/edit make it warmer")
    once = await harness.last(f"/reroll #{edit.generation_id}")
    await harness.last(f"/reroll #{once.generation_id}")
    assert provider_of(harness).requests[-1].reference_images == (first.images[0].path.read_bytes(),)


@pytest.mark.easel(providers=seeded)
async def test_reroll_of_an_edit_of_an_uploaded_photo_edits_that_photo_again(harness: Harness) -> None:
    """Reroll of an edit of an uploaded photo edits the photo again (not a new picture from the words)."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 30), (90, 120, 160)).save(buffer, format="PNG")
    edit = await harness.last("/edit black and white", attachments=(Attachment(buffer.getvalue()),))
    sent = provider_of(harness).requests[-1].reference_images
    again = await harness.last(f"/reroll #{edit.generation_id}")
    request = provider_of(harness).requests[-1]
    assert not again.is_error and request.kind == GenerationKind.EDIT and request.reference_images == sent


async def test_reroll_of_an_edit_the_renderer_cannot_vary_says_why(harness: Harness) -> None:
    """The offline renderer's edits ignore the seed: a reroll of one says so instead of a copy."""
    await harness.last("/imagine a red fox")
    edit = await harness.last("make it warmer")
    reply = await harness.last(f"/reroll #{edit.generation_id}")
    assert reply.is_error and not reply.images and "does not use the seed" in reply.text
    assert "Vary" in reply.text


@pytest.mark.parametrize(
    ("size", "aspect"),
    [
        ((1024, 576), Aspect(16, 9)),
        ((1216, 832), Aspect(19, 13)),
        ((1000, 563), Aspect(16, 9)),
        ((96, 96), Aspect(1, 1)),
    ],
)
def test_an_aspect_is_read_from_a_size_in_small_terms(size: tuple[int, int], aspect: Aspect) -> None:
    """Sizes become aspects a person would write (and /settings would take)."""
    assert aspect_of(*size) == aspect


def test_a_size_rounded_to_a_multiple_of_8_keeps_the_asked_aspect() -> None:
    """96x56 asked as 16:9 (the exact 96x54 rounded up to a multiple of 8) is recorded as 16:9."""
    image = Image(data=b"", mime="image/png", width=96, height=56)
    assert made_aspect(Aspect(16, 9), [image]) == Aspect(16, 9)
    assert made_aspect(Aspect(9, 16), [Image(data=b"", mime="image/png", width=96, height=96)]) == Aspect(
        1, 1
    )
