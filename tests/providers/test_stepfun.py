"""stepfun against the loopback StepFun fake: sizes per model, JSON generations, multipart edits,
content_filtered answers."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from bot.core.errors import InvalidRequest, Refused
from bot.core.imaging import sniff
from bot.core.types import Aspect, GenerationKind, ImageRequest
from bot.providers.stepfun import StepFunProvider, create, size_for
from tests.fakes.providers.chat_image_base import animated_gif
from tests.fakes.providers.harness import generate, keyed_builder
from tests.fakes.providers.loopback import make_image
from tests.fakes.providers.stepfun import FakeStepFun

KEY = "step-test-key-0123456789"
MakeProvider = Callable[..., StepFunProvider]


@pytest.fixture
async def fake() -> AsyncIterator[FakeStepFun]:
    async with FakeStepFun(api_key=KEY) as server:
        yield server


@pytest.fixture
def make_provider(fake: FakeStepFun, client: httpx.AsyncClient) -> MakeProvider:
    return keyed_builder(create, base_url=fake.base_url, key=KEY, client=client)


def test_step_image_edit_2_sizes_are_written_height_first() -> None:
    """A landscape 16:9 on step-image-edit-2 is "768x1360" (height x width, as its docs say)."""
    assert size_for(Aspect(16, 9), "step-image-edit-2") == "768x1360"
    assert size_for(Aspect(16, 10), "step-1x-medium") == "1280x800"


async def test_a_landscape_generation_comes_back_landscape(
    fake: FakeStepFun, make_provider: MakeProvider
) -> None:
    """The JSON body (model, prompt, size, n 1, b64_json, seed) and a wide image back."""
    [image] = await generate(make_provider(), ImageRequest("a lighthouse", aspect=Aspect(16, 9), seed=3))
    assert fake.requests[-1].json == {
        "model": "step-image-edit-2", "prompt": "a lighthouse", "size": "768x1360", "n": 1,
        "response_format": "b64_json", "seed": 3,
    }  # fmt: skip
    assert image.data == fake.served[-1] and image.width > image.height


async def test_an_edit_is_multipart_with_one_image(fake: FakeStepFun, make_provider: MakeProvider) -> None:
    """EDIT → POST /images/edits, multipart, the reference as the image part, the instruction as prompt."""
    reference = make_image(40, 24)
    request = ImageRequest("make it warmer", kind=GenerationKind.EDIT, reference_images=(reference,))
    [image] = await generate(make_provider(), request)
    assert fake.requests[-1].path == "/v1/images/edits" and fake.edited == [reference]
    assert (image.width, image.height) == (40, 24)


async def test_a_gif_to_step_1x_edit_goes_as_png_with_a_note(
    fake: FakeStepFun, make_provider: MakeProvider
) -> None:
    """step-1x-edit takes jpg/png/webp: an animated GIF is sent as its first frame in PNG, noted."""
    request = ImageRequest(
        "make it warmer", kind=GenerationKind.EDIT, reference_images=(animated_gif(96, 64),)
    )
    [image] = await generate(make_provider(model="step-1x-edit"), request)
    assert [sniff(data) for data in fake.edited] == ["image/png"]
    assert image.notes == ("stepfun takes still images only; the first frame of the animated GIF was sent.",)


async def test_a_webp_edit_image_is_sent_as_it_is(fake: FakeStepFun, make_provider: MakeProvider) -> None:
    """WebP is among the documented types: sent byte for byte, no note."""
    reference = make_image(64, 64, "webp")
    request = ImageRequest("make it warmer", kind=GenerationKind.EDIT, reference_images=(reference,))
    [image] = await generate(make_provider(), request)
    assert fake.edited == [reference] and image.notes == ()


async def test_content_filtered_is_refused(fake: FakeStepFun, make_provider: MakeProvider) -> None:
    """HTTP 200 whose item says finish_reason content_filtered → Refused."""
    fake.filter_next()
    with pytest.raises(Refused, match="content_filtered"):
        await generate(make_provider(), ImageRequest("a lighthouse"))


async def test_the_older_image_field_is_read(fake: FakeStepFun, make_provider: MakeProvider) -> None:
    """An answer with the base64 in "image" (older StepFun pages) is decoded like b64_json."""
    served = make_image(8, 8)
    fake.fault(
        200,
        {"created": 1, "data": [{"image": base64.b64encode(served).decode(), "finish_reason": "success"}]},
    )
    [image] = await generate(make_provider(), ImageRequest("a lighthouse"))
    assert image.data == served


async def test_step_1x_edit_cannot_generate(fake: FakeStepFun, make_provider: MakeProvider) -> None:
    """The edit-only model refuses a plain generation before sending."""
    with pytest.raises(InvalidRequest, match="only edits"):
        await generate(make_provider(model="step-1x-edit"), ImageRequest("a lighthouse"))
    assert fake.requests == []


async def test_a_prompt_over_512_characters_is_refused_locally(
    fake: FakeStepFun, make_provider: MakeProvider
) -> None:
    """step-image-edit-2 takes at most 512 characters: checked before sending."""
    with pytest.raises(InvalidRequest, match="512"):
        await generate(make_provider(), ImageRequest("x" * 513))
    assert fake.requests == []
