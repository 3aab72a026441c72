"""Actions on one image of a set (issue 18, item 4): Vary and Edit of image k start from image k, and
the number a button or a command names is checked against the stored set and the chat."""

from __future__ import annotations

import pytest

from bot.core.chat.buttons import Button, command_text, decode, encode, job_intent
from bot.core.jobs.codec import intent_from_json, intent_to_json
from bot.core.messages import Edit, Vary
from bot.core.ports import ProgressCallback
from bot.core.types import Action, Image, ImageRequest
from tests.core.conftest import Harness
from tests.fakes.scripted import ScriptedProvider, png


class SeededProvider(ScriptedProvider):
    """A scripted provider whose images differ by seed (so each image of a set has its own bytes)."""

    async def _run(self, request: ImageRequest, on_progress: ProgressCallback) -> list[Image]:
        base = request.seed or 0
        return [
            Image(
                data=png(colour=((base + i) % 256, 40, 90)),
                mime="image/png",
                width=8,
                height=8,
                seed=base + i,
                provider=self.name,
                model="m1",
            )
            for i in range(request.n)
        ]


def seeded() -> list[SeededProvider]:
    return [SeededProvider()]


def provider_of(harness: Harness) -> SeededProvider:
    provider = harness.providers[0]
    assert isinstance(provider, SeededProvider)
    return provider


@pytest.mark.easel(providers=seeded)
async def test_vary_of_the_second_image_starts_from_that_image(harness: Harness) -> None:
    """/vary #1/2 sends image 2 of #1 to the provider and records it as the source."""
    first = await harness.last("/imagine two foxes --n 2 --seed 10")
    varied = await harness.last(f"/vary #{first.generation_id}/2")
    request = provider_of(harness).requests[-1]
    assert request.reference_images == (first.images[1].path.read_bytes(),)
    assert first.images[0].path.read_bytes() != first.images[1].path.read_bytes()
    record = await harness.easel.history.get_generation(generation_id=varied.generation_id or 0)
    assert record is not None and record.params["source"] == {"generation": first.generation_id, "image": 1}


@pytest.mark.easel(providers=seeded)
async def test_edit_of_the_second_image_starts_from_that_image(harness: Harness) -> None:
    """/edit #1/2 make it warmer edits image 2 of #1."""
    first = await harness.last("/imagine two foxes --n 2 --seed 10")
    await harness.last(f"/edit #{first.generation_id}/2 make it warmer")
    assert provider_of(harness).requests[-1].reference_images == (first.images[1].path.read_bytes(),)


@pytest.mark.easel(providers=seeded)
async def test_a_reply_to_the_second_image_edits_it(harness: Harness) -> None:
    """A reply the adapter read as image 2 of #1 ("make it warmer") edits image 2."""
    first = await harness.last("/imagine two foxes --n 2 --seed 10")
    await harness.last("make it warmer", reply_to_generation_id=first.generation_id, reply_to_image=1)
    assert provider_of(harness).requests[-1].reference_images == (first.images[1].path.read_bytes(),)


@pytest.mark.easel(providers=seeded)
async def test_reroll_of_a_variation_of_image_two_varies_image_two_again(harness: Harness) -> None:
    """Rerolling 'Vary 2' starts from image 2 of the original set again, with a new seed."""
    first = await harness.last("/imagine two foxes --n 2 --seed 10")
    varied = await harness.last(f"/vary #{first.generation_id}/2")
    again = await harness.last(f"/reroll #{varied.generation_id}")
    requests = provider_of(harness).requests
    assert not again.is_error and requests[-1].reference_images == (first.images[1].path.read_bytes(),)
    assert requests[-1].seed != requests[-2].seed


@pytest.mark.easel(providers=seeded)
async def test_image_nine_of_a_two_image_set_is_answered_clearly(harness: Harness) -> None:
    """/vary #1/9 of a two-image set says the set has two images; nothing is made."""
    first = await harness.last("/imagine two foxes --n 2")
    reply = await harness.last(f"/vary #{first.generation_id}/9")
    assert (
        reply.is_error and reply.text == f"Picture #{first.generation_id} has 2 images; there is no image 9."
    )
    assert len(provider_of(harness).requests) == 1


@pytest.mark.easel(providers=seeded)
async def test_an_image_of_another_chats_set_is_not_reachable(harness: Harness) -> None:
    """Vary of image 2 of another chat's generation is not found here, and nothing is made."""
    theirs = await harness.last("/imagine a secret --n 2", chat="other")
    reply = await harness.last(f"/vary #{theirs.generation_id}/2")
    assert reply.is_error and f"#{theirs.generation_id}" in reply.text
    assert len(provider_of(harness).requests) == 1


async def test_image_zero_is_refused_by_the_router(harness: Harness) -> None:
    """/vary #1/0 is answered with how images are numbered."""
    reply = await harness.last("/vary #1/0")
    assert reply.is_error and "numbered from 1" in reply.text


def test_the_image_survives_the_job_payload() -> None:
    """A queued Vary or Edit of image 2 is still about image 2 after a restart."""
    for intent in (Vary(12, image=1), Edit("warmer", generation_id=12, image=1)):
        assert intent_from_json(intent_to_json(intent)) == intent


def test_a_payload_without_an_image_means_the_first() -> None:
    """Jobs queued by an earlier version (no image key) vary the first image."""
    assert intent_from_json({"type": "vary", "generation_id": 3}) == Vary(3)


def test_button_data_round_trips_and_stays_short() -> None:
    """Every button encodes within Telegram's 64 bytes and decodes to itself."""
    for button in (
        Button(Action.VARY, 2**31 - 1, 98),
        Button(Action.REROLL, 5),
        Button(Action.ORIGINAL, 7, 0),
    ):
        data = encode(button)
        assert len(data.encode()) <= 64 and decode(data) == button
    assert encode(Button(Action.VARY, 12, 1)) == "v:12:2" and command_text(decode("v:12:2")) == "/vary #12/2"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "data",
    [
        "v:12:0",
        "v:12:100",
        "r:12:2",
        "d:12:3:4:5",
        "x:12",
        "v:0",
        "v:2147483648",
        "v:١٢",
        "v:12:2 ",
        "",
        "v:" + "1" * 70,
    ],
)
def test_hostile_button_data_decodes_to_nothing(data: str) -> None:
    """Data that is not exactly one of our buttons (or names an impossible id or image) is refused."""
    assert decode(data) is None


def test_legacy_delete_data_is_still_a_delete() -> None:
    """Delete buttons of earlier versions (``d:12:<requester>:<count>``) still name their generation."""
    assert decode("d:12:4242:2") == Button(Action.DELETE, 12)


def test_a_vary_press_makes_a_vary_of_that_image() -> None:
    """The Vary 2 button's intent is a Vary of image 2 (0-based 1); Edit asks first."""
    assert job_intent(Button(Action.VARY, 12, 1)) == Vary(12, image=1)
    assert job_intent(Button(Action.EDIT, 12, 1)) is None
