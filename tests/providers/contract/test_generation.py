"""The provider contract, generation: every provider, built by the registry on its loopback fake."""

from __future__ import annotations

import pytest

from bot.core.errors import InvalidRequest
from bot.core.generation.chain import ProviderChain
from bot.core.generation.resilience import RetryPolicy
from bot.core.imaging import image_size, sniff
from bot.core.ports import Provider
from bot.core.types import GenerationKind, ImageRequest
from bot.providers import registry
from tests.fakes.providers.harness import Progress
from tests.providers.contract.adapter import Adapter, Counting, Fake, png
from tests.providers.contract.conftest import Make
from tests.providers.contract.vendors import ADAPTERS, every, having

EVERY = every()


def edit(reference: bytes | None = None, kind: GenerationKind = GenerationKind.EDIT) -> ImageRequest:
    return ImageRequest(
        "make it warmer",
        kind=kind,
        reference_images=() if reference is None else (reference,),
        source_prompt="a lighthouse at dusk",
    )


def test_every_registered_provider_has_an_adapter() -> None:
    """The suite covers exactly the registry's providers: a new vendor cannot skip the contract."""
    assert sorted(a.name for a in ADAPTERS) == sorted(registry.names())


@pytest.mark.parametrize("vendor", EVERY)
async def test_the_registry_builds_a_provider(vendor: Adapter, make: Make) -> None:
    """registry.build makes a Provider of that name from its settings section, with a usable max_n."""
    built = await make()
    assert isinstance(built.provider, Provider)
    assert built.provider.name == vendor.name and built.provider.capabilities.max_n >= 1


@pytest.mark.parametrize("vendor", EVERY)
async def test_generate_returns_the_images_it_was_sent(vendor: Adapter, fake: Fake, make: Make) -> None:
    """A real request through the fake: as many images as asked (up to max_n), each one's bytes as
    served, its mime and size read from the bytes, the provider's name and its model on it."""
    provider = (await make()).provider
    n = min(2, provider.capabilities.max_n)
    images = await provider.generate(ImageRequest("a lighthouse", n=n), on_progress=Progress())
    assert len(images) == n
    for image in images:
        assert (image.provider, image.model) == (vendor.name, vendor.model)
        assert image.mime == sniff(image.data) and (image.width, image.height) == image_size(image.data)
    if fake is not None:
        assert [image.data for image in images] == fake.served[-n:]


@pytest.mark.parametrize("vendor", EVERY)
async def test_progress_rises_to_one(vendor: Adapter, make: Make) -> None:
    """on_progress gets fractions in [0, 1] that never go back, the last one 1.0."""
    progress = Progress()
    await (await make()).provider.generate(ImageRequest("a lighthouse"), on_progress=progress)
    assert progress.calls and progress.calls[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in progress.calls) and progress.calls == sorted(progress.calls)


@pytest.mark.parametrize("vendor", EVERY)
async def test_more_images_than_one_call_makes_take_several_calls(vendor: Adapter, make: Make) -> None:
    """n = max_n + 1 through the chain: every image arrives, in calls of at most max_n each."""
    counting = Counting((await make()).provider)
    per_call = counting.capabilities.max_n
    chain = ProviderChain([counting], timeout_s=60.0, retry=RetryPolicy(retries=0))
    result = await chain.generate(ImageRequest("a lighthouse", n=per_call + 1), on_progress=Progress())
    assert len(result.images) == per_call + 1 and result.provider == vendor.name
    assert counting.returned == [per_call, 1]


@pytest.mark.parametrize("vendor", EVERY)
async def test_an_edit_is_made_or_refused_as_impossible(vendor: Adapter, make: Make) -> None:
    """An edit of a real image: images when the provider says it can edit, else InvalidRequest before
    anything is sent."""
    built = await make()
    request = edit(png())
    if built.provider.capabilities.edit:
        images = await built.provider.generate(request, on_progress=Progress())
        assert images and all(image.provider == vendor.name for image in images)
    else:
        with pytest.raises(InvalidRequest):
            await built.provider.generate(request, on_progress=Progress())
        assert built.tracker.sent == 0


@pytest.mark.parametrize("vendor", having("cannot_edit"))
async def test_a_model_that_cannot_edit_says_so_before_asking(vendor: Adapter, make: Make) -> None:
    """With a model that has no image input, capabilities say no edits and an edit is InvalidRequest
    with its own explanation, before any request."""
    built = await make(**vendor.cannot_edit)  # type: ignore[arg-type]
    assert not built.provider.capabilities.edit
    with pytest.raises(InvalidRequest) as info:
        await built.provider.generate(edit(png()), on_progress=Progress())
    assert built.tracker.sent == 0 and info.value.provider == vendor.name
    assert info.value.user_message != InvalidRequest.default_user_message


@pytest.mark.parametrize("vendor", EVERY)
async def test_an_edit_without_an_image_is_invalid_before_any_request(vendor: Adapter, make: Make) -> None:
    """EDIT and VARY with nothing to work from fail as InvalidRequest, and nothing is sent."""
    built = await make()
    for kind in (GenerationKind.EDIT, GenerationKind.VARY):
        with pytest.raises(InvalidRequest):
            await built.provider.generate(edit(kind=kind), on_progress=Progress())
    assert built.tracker.sent == 0


@pytest.mark.parametrize("vendor", EVERY)
async def test_an_edit_of_bytes_that_are_no_image_fails_before_any_request(
    vendor: Adapter, make: Make
) -> None:
    """A reference that is not an image is refused locally (InvalidRequest; ImageError for builtin)."""
    built = await make()
    with pytest.raises(vendor.bad_reference):
        await built.provider.generate(edit(b"these bytes are no image"), on_progress=Progress())
    assert built.tracker.sent == 0
