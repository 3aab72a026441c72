"""The provider chain: capability fitting, deadline, failover on transient errors only."""

from __future__ import annotations

import pytest

from bot.core.chain import ProviderChain, fit_to_capabilities, nearest_aspect
from bot.core.errors import InvalidInput, ProviderTimeout, Refused, Unavailable
from bot.core.types import Aspect, Capabilities, GenerationKind, ImageRequest
from tests.fakes.providers import ScriptedProvider


async def no_progress(fraction: float, preview: bytes | None) -> None:
    return None


async def test_first_provider_result_returned() -> None:
    """With a healthy first provider its images come back with no notes."""
    first, second = ScriptedProvider("a"), ScriptedProvider("b")
    result = await ProviderChain([first, second], timeout_s=5).generate(
        ImageRequest("fox", seed=3), on_progress=no_progress
    )
    assert result.provider == "a" and result.notes == ()
    assert second.requests == []


async def test_transient_error_fails_over_and_says_so() -> None:
    """An outage on the first provider moves to the next and the note tells the user."""
    first = ScriptedProvider("a", errors=[Unavailable("down", provider="a")])
    result = await ProviderChain([first, ScriptedProvider("b")], timeout_s=5).generate(
        ImageRequest("fox"), on_progress=no_progress
    )
    assert result.provider == "b"
    assert any("a was unavailable" in note for note in result.notes)


async def test_refusal_is_not_failed_over() -> None:
    """A content refusal is the answer; the next provider is not asked."""
    first, second = ScriptedProvider("a", errors=[Refused("no", provider="a")]), ScriptedProvider("b")
    with pytest.raises(Refused):
        await ProviderChain([first, second], timeout_s=5).generate(ImageRequest("x"), on_progress=no_progress)
    assert second.requests == []


async def test_last_transient_error_raised_when_all_fail() -> None:
    """When every provider fails transiently the last error is raised."""
    chain = ProviderChain(
        [ScriptedProvider("a", errors=[Unavailable("down", provider="a")])],
        timeout_s=5,
    )
    with pytest.raises(Unavailable):
        await chain.generate(ImageRequest("x"), on_progress=no_progress)


async def test_deadline_becomes_provider_timeout() -> None:
    """A provider slower than the deadline is abandoned with ProviderTimeout."""
    chain = ProviderChain([ScriptedProvider("slow", delay_s=1.0)], timeout_s=0.01)
    with pytest.raises(ProviderTimeout) as caught:
        await chain.generate(ImageRequest("x"), on_progress=no_progress)
    assert "too long" in caught.value.user_message


async def test_pinned_provider_must_be_in_chain() -> None:
    """--provider naming something not configured is a clear input error."""
    chain = ProviderChain([ScriptedProvider("a")], timeout_s=5)
    with pytest.raises(InvalidInput) as caught:
        await chain.generate(ImageRequest("x", provider="openai"), on_progress=no_progress)
    assert "not set up" in caught.value.user_message


async def test_pinned_provider_skips_others() -> None:
    """--provider b goes straight to b."""
    first, second = ScriptedProvider("a"), ScriptedProvider("b")
    result = await ProviderChain([first, second], timeout_s=5).generate(
        ImageRequest("x", provider="b"), on_progress=no_progress
    )
    assert result.provider == "b" and first.requests == []


async def test_edit_skips_providers_that_cannot_edit() -> None:
    """An edit goes to the first provider able to edit."""
    no_edit = ScriptedProvider("a", capabilities=Capabilities(edit=False, max_n=4))
    result = await ProviderChain([no_edit, ScriptedProvider("b")], timeout_s=5).generate(
        ImageRequest("warmer", kind=GenerationKind.EDIT, reference_images=(b"x",)), on_progress=no_progress
    )
    assert result.provider == "b" and no_edit.requests == []


def test_fit_clamps_n_and_drops_negative_with_notes() -> None:
    """Asking for more than max_n or a negative prompt the provider lacks is adjusted and noted."""
    provider = ScriptedProvider("p", capabilities=Capabilities(max_n=1, negative_prompt=False))
    fitted, notes = fit_to_capabilities(ImageRequest("x", n=3, negative="text"), provider)
    assert fitted.n == 1 and fitted.negative is None
    assert len(notes) == 2


def test_fit_picks_nearest_supported_aspect() -> None:
    """An unsupported aspect becomes the nearest supported one, with a note."""
    caps = Capabilities(max_n=1, aspects=(Aspect(1, 1), Aspect(16, 9), Aspect(9, 16)))
    fitted, notes = fit_to_capabilities(
        ImageRequest("x", aspect=Aspect(21, 9)), ScriptedProvider("p", capabilities=caps)
    )
    assert fitted.aspect == Aspect(16, 9)
    assert "nearest" in notes[0]


def test_nearest_aspect_for_portrait() -> None:
    """2:3 maps to 9:16 rather than a landscape ratio."""
    assert nearest_aspect(Aspect(2, 3), [Aspect(1, 1), Aspect(16, 9), Aspect(9, 16)]) == Aspect(9, 16)
