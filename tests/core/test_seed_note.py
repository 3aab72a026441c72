"""The "does not take a seed" note: only when the user gave a seed (the core always picks one)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.core.generation.fitting import fit_to_capabilities
from bot.core.generation.requests import Defaults, build_request
from bot.core.messages import GenerationOptions
from bot.core.ports import Provider
from bot.core.types import SQUARE, Capabilities, ImageRequest
from tests.core.conftest import Harness
from tests.fakes.scripted import ScriptedProvider

DEFAULTS = Defaults(aspect=SQUARE, max_images=4)
SEEDLESS = Capabilities(edit=True, max_n=4, seed=False, max_reference_images=1)
NOTE = "seedless does not take a seed; results will vary."


def seedless() -> Sequence[Provider]:
    return [ScriptedProvider("seedless", capabilities=SEEDLESS)]


def test_build_request_marks_a_seed_the_user_gave() -> None:
    """--seed 7 is the request's seed and seed_given; without it the core's seed, not given."""
    given = build_request("fox", GenerationOptions(seed=7), {}, DEFAULTS, seed=123)
    picked = build_request("fox", GenerationOptions(), {}, DEFAULTS, seed=123)
    assert (given.seed, given.seed_given) == (7, True)
    assert (picked.seed, picked.seed_given) == (123, False)


def test_a_given_seed_is_noted_as_dropped() -> None:
    """A seedless provider and a seed the user chose: the note says it is not taken."""
    _, notes = fit_to_capabilities(ImageRequest("fox", seed=7, seed_given=True), seedless()[0])
    assert notes == [NOTE]


def test_a_seed_the_core_picked_is_dropped_silently() -> None:
    """A seedless provider and the core's own seed: no note."""
    _, notes = fit_to_capabilities(ImageRequest("fox", seed=123), seedless()[0])
    assert notes == []


@pytest.mark.easel(providers=seedless)
async def test_no_seed_note_without_seed(harness: Harness) -> None:
    """/imagine without --seed on a provider that takes none: the reply has no seed note."""
    reply = await harness.last("/imagine a fox")
    assert reply.images and not any("seed" in note for note in reply.notes)


@pytest.mark.easel(providers=seedless)
async def test_seed_note_with_seed(harness: Harness) -> None:
    """/imagine --seed 7 on a provider that takes none: the reply says the seed was not taken."""
    reply = await harness.last("/imagine a fox --seed 7")
    assert reply.images and NOTE in reply.notes
