"""sdwebui's upscaler (issue 20): A1111's Extras ``POST extra-single-image`` against the fake, which holds
the request to upstream's ``ExtrasSingleImageRequest``; and the chain's Lanczos fallback when it fails."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image as PILImage

from bot.core.errors import Unavailable
from bot.core.generation.chain import ProviderChain
from bot.core.generation.resilience import RetryPolicy
from bot.core.types import GenerationKind, ImageRequest
from bot.providers.sdwebui import SDWebUIProvider
from bot.providers.settings import SamplerSettings
from tests.fakes.providers.sdwebui import FakeSDWebUI, make_image

SOURCE = make_image(96, 64, (10, 200, 30))


async def nothing(fraction: float, preview: bytes | None) -> None:
    return None


@pytest.fixture
async def fake() -> AsyncIterator[FakeSDWebUI]:
    async with FakeSDWebUI() as server:
        yield server


@pytest.fixture
async def provider(fake: FakeSDWebUI) -> AsyncIterator[SDWebUIProvider]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as http:
        yield SDWebUIProvider(SamplerSettings(base_url=fake.base_url), client=http, poll_interval_s=0.01)


async def test_upscale_posts_the_extras_request_and_returns_twice_the_size(
    fake: FakeSDWebUI, provider: SDWebUIProvider
) -> None:
    """extra-single-image with resize_mode 0, upscaling_resize 2 and the best upscaler: a 2x image."""
    image = await provider.upscale(SOURCE, 2, on_progress=nothing)
    assert image is not None and (image.width, image.height) == (192, 128)
    assert image.data == fake.upscaled[-1] and image.model == "R-ESRGAN 4x+"
    [body] = fake.extras_requests
    assert {k: body[k] for k in ("resize_mode", "upscaling_resize", "upscaler_1")} == {
        "resize_mode": 0,
        "upscaling_resize": 2,
        "upscaler_1": "R-ESRGAN 4x+",
    }
    assert base64.b64decode(body["image"]) == SOURCE and fake.ignored_fields == []


async def test_upscale_picks_an_upscaler_the_server_has(fake: FakeSDWebUI, provider: SDWebUIProvider) -> None:
    """Without the model upscalers, the server's Lanczos is used (never "None", which changes nothing)."""
    fake.upscalers = {"None", "Lanczos", "Nearest"}
    image = await provider.upscale(SOURCE, 2, on_progress=nothing)
    assert image is not None and fake.extras_requests[-1]["upscaler_1"] == "Lanczos"


async def test_fake_refuses_an_upscale_factor_above_upstreams_bound(fake: FakeSDWebUI) -> None:
    """upscaling_resize is Field(ge=1, le=8): 9 is pydantic v1's 422 not_le, as upstream."""
    async with httpx.AsyncClient() as http:
        url = f"{fake.base_url}/sdapi/v1/extra-single-image"
        answer = await http.post(
            url, json={"image": base64.b64encode(SOURCE).decode(), "upscaling_resize": 9}
        )
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", "upscaling_resize"] and error["type"] == "value_error.number.not_le"


async def test_fake_answers_an_unknown_upscaler_with_the_assertion_error(fake: FakeSDWebUI) -> None:
    """A name the server lacks fails upstream's postprocessing assertion: 500 AssertionError."""
    async with httpx.AsyncClient() as http:
        url = f"{fake.base_url}/sdapi/v1/extra-single-image"
        body = {"image": base64.b64encode(SOURCE).decode(), "upscaler_1": "4x-Nope"}
        answer = await http.post(url, json=body)
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "AssertionError",
        "detail": "",
        "body": "",
        "errors": "could not find upscaler named 4x-Nope",
    }


async def test_fake_refuses_bytes_that_are_not_an_image(fake: FakeSDWebUI) -> None:
    """decode_base64_to_image: not an image is 500 "Invalid encoded image"."""
    async with httpx.AsyncClient() as http:
        url = f"{fake.base_url}/sdapi/v1/extra-single-image"
        answer = await http.post(
            url, json={"image": base64.b64encode(b"nope").decode(), "upscaler_1": "Lanczos"}
        )
    assert answer.status_code == 500 and answer.json()["detail"] == "Invalid encoded image"


async def test_a_server_error_is_unavailable(fake: FakeSDWebUI, provider: SDWebUIProvider) -> None:
    """A 500 from the Extras route is the provider being unavailable (the chain then falls back)."""
    fake.fail_next(500)
    with pytest.raises(Unavailable):
        await provider.upscale(SOURCE, 2, on_progress=nothing)


async def test_the_chain_falls_back_to_lanczos_when_the_extras_fail(
    fake: FakeSDWebUI, provider: SDWebUIProvider
) -> None:
    """sdwebui's Extras failing: the chain enlarges with Lanczos and says why."""
    fake.fail_next(500)
    chain = ProviderChain([provider], timeout_s=30, retry=RetryPolicy(retries=0))
    request = ImageRequest(
        "a fox", kind=GenerationKind.UPSCALE, reference_images=(SOURCE,), made_by="sdwebui"
    )
    result = await chain.generate(request, on_progress=nothing)
    [image] = result.images
    assert result.provider == "lanczos" and (image.width, image.height) == (192, 128)
    assert result.notes == ("upscaled 2x with Lanczos; sdwebui could not upscale it",)
    with PILImage.open(io.BytesIO(image.data)) as img:
        assert img.getpixel((96, 64)) == (10, 200, 30)


async def test_the_chain_uses_sdwebui_for_an_image_another_provider_made(
    fake: FakeSDWebUI, provider: SDWebUIProvider
) -> None:
    """An image made elsewhere is still upscaled by the configured A1111 Extras, with no note."""
    chain = ProviderChain([provider], timeout_s=30)
    request = ImageRequest("a fox", kind=GenerationKind.UPSCALE, reference_images=(SOURCE,), made_by="openai")
    result = await chain.generate(request, on_progress=nothing)
    assert result.provider == "sdwebui" and result.notes == () and len(fake.extras_requests) == 1
