"""stability against the loopback Stability AI v2beta fake: fields, endpoints, edits, refusals, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.core.errors import InvalidRequest, Misconfigured, Refused, Unavailable
from bot.core.imaging import sniff
from bot.core.ports import Provider
from bot.core.types import Aspect, GenerationKind, Image, ImageRequest
from bot.providers._http import errors as http_errors
from bot.providers._http.stable_image import ASPECTS
from bot.providers.settings import DiffusionSettings
from bot.providers.stability import StabilityProvider, create
from tests.fakes.providers.chat_image_base import animated_gif
from tests.fakes.providers.harness import Progress
from tests.fakes.providers.stability import FakeStability, make_reference

KEY = "sk-stab-0123456789abcdef"
Make = Callable[..., StabilityProvider]


@pytest.fixture
async def fake() -> AsyncIterator[FakeStability]:
    async with FakeStability(api_key=KEY) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as made:
        yield made


@pytest.fixture
def make(fake: FakeStability, client: httpx.AsyncClient) -> Make:
    def build(**overrides: Any) -> StabilityProvider:
        chosen = overrides.pop("client", client)
        fields: dict[str, Any] = {"base_url": fake.base_url, "api_key": SecretStr(KEY)}
        fields.update(overrides)
        return create(DiffusionSettings(**fields), client=chosen)

    return build


async def generate(provider: StabilityProvider, prompt: str = "a lighthouse", **fields: Any) -> list[Image]:
    return await provider.generate(ImageRequest(prompt, **fields), on_progress=Progress())


# ----------------------------------------------------------------------------------------- generation


def test_capabilities_follow_the_model(make: Make) -> None:
    """sd3/ultra edit with one reference; core cannot; turbo has no negative prompt; n is 1."""
    sd3, core, turbo = make(), make(model="core"), make(model="sd3.5-large-turbo")
    assert isinstance(sd3, Provider)
    assert (sd3.capabilities.edit, sd3.capabilities.max_reference_images, sd3.capabilities.max_n) == (
        True,
        1,
        1,
    )
    assert sd3.capabilities.aspects == ASPECTS and sd3.capabilities.seed and sd3.capabilities.negative_prompt
    assert (core.capabilities.edit, core.capabilities.max_reference_images) == (False, 0)
    assert not turbo.capabilities.negative_prompt
    assert "ultra" in sd3.catalog and "sd3.5-large" in sd3.catalog


async def test_sd3_request_fields(fake: FakeStability, make: Make) -> None:
    """POST /sd3 multipart: prompt, model, mode, aspect_ratio, seed, negative, output_format, auth."""
    await generate(make(cfg_scale=5), "a red fox", aspect=Aspect(16, 9), seed=77, negative="blur")
    [request] = fake.requests
    assert request.path == "/v2beta/stable-image/generate/sd3"
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["accept"] == "application/json"
    assert request.fields == {
        "prompt": "a red fox",
        "negative_prompt": "blur",
        "aspect_ratio": "16:9",
        "seed": "77",
        "output_format": "png",
        "model": "sd3.5-large",
        "mode": "text-to-image",
        "cfg_scale": "5.0",
    }


@pytest.mark.parametrize(("model", "path"), [("core", "core"), ("ultra", "ultra"), ("sd3.5-medium", "sd3")])
async def test_model_picks_the_endpoint(fake: FakeStability, make: Make, model: str, path: str) -> None:
    """core → /core, ultra → /ultra, sd3.x → /sd3 (only sd3 gets model and mode)."""
    [image] = await generate(make(model=model))
    request = fake.requests[0]
    assert request.path == f"/v2beta/stable-image/generate/{path}" and image.model == model
    assert ("model" in request.fields) == (path == "sd3")


async def test_request_model_overrides_the_configured_one(fake: FakeStability, make: Make) -> None:
    """--model ultra on the request goes to /ultra."""
    [image] = await generate(make(), model="ultra")
    assert fake.requests[0].path.endswith("/ultra") and image.model == "ultra"


async def test_server_seed_is_recorded(fake: FakeStability, make: Make) -> None:
    """Without a seed the server picks one; the Image carries what it reported."""
    fake.next_seed = 987654
    [image] = await generate(make())
    assert "seed" not in fake.requests[0].fields and image.seed == 987654


async def test_seed_is_folded_into_range(fake: FakeStability, make: Make) -> None:
    """A seed above 4294967294 is sent modulo the range."""
    [image] = await generate(make(), seed=4_294_967_295 + 5)
    assert fake.requests[0].fields["seed"] == "5" and image.seed == 5


async def test_options_pass_through(fake: FakeStability, make: Make) -> None:
    """providers.stability.options (style_preset, output_format) land in the form."""
    [image] = await generate(make(options={"style_preset": "anime", "output_format": "jpeg"}))
    assert fake.requests[0].fields["style_preset"] == "anime"
    assert image.mime == "image/jpeg" and image.data == fake.served[0]


async def test_raw_image_answers_are_understood(fake: FakeStability, client: httpx.AsyncClient) -> None:
    """An Accept: image/* style answer (bytes + seed header) works too."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=png,
            headers={"content-type": "image/png", "finish-reason": "SUCCESS", "seed": "9"},
        )

    png = make_reference()
    mocked = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    provider = create(DiffusionSettings(api_key=SecretStr(KEY)), client=mocked)
    [image] = await generate(provider)
    await mocked.aclose()
    assert image.data == png and image.seed == 9


# ---------------------------------------------------------------------------------------------- edits


async def test_edit_is_image_to_image(fake: FakeStability, make: Make) -> None:
    """EDIT sends mode image-to-image, the reference file, strength, and no aspect_ratio."""
    reference = make_reference(64, 48)
    request = ImageRequest(
        "make it warmer",
        kind=GenerationKind.EDIT,
        reference_images=(reference,),
        source_prompt="a lighthouse at dusk",
    )
    [image] = await make(denoising_strength=0.35).generate(request, on_progress=Progress())
    [sent] = fake.requests
    assert sent.fields["mode"] == "image-to-image" and sent.fields["strength"] == "0.35"
    assert sent.fields["prompt"] == "a lighthouse at dusk, make it warmer"
    assert "aspect_ratio" not in sent.fields
    part = sent.file("image")
    assert part is not None and part.data == reference and part.content_type == "image/png"
    assert image.data == fake.served[0] and (image.width, image.height) == (64, 48)


async def test_gif_reference_is_sent_as_png(fake: FakeStability, make: Make) -> None:
    """Stability takes jpeg/png/webp: a GIF reference goes to image-to-image as PNG."""
    request = ImageRequest("warmer", kind=GenerationKind.EDIT, reference_images=(animated_gif(64, 48),))
    await make().generate(request, on_progress=Progress())
    part = fake.requests[0].file("image")
    assert part is not None and (part.content_type, sniff(part.data)) == ("image/png", "image/png")


async def test_vary_on_ultra_uses_the_source_prompt(fake: FakeStability, make: Make) -> None:
    """VARY on ultra: image + default strength, prompt is the source prompt, no mode field."""
    request = ImageRequest(
        "vary", kind=GenerationKind.VARY, reference_images=(make_reference(),), source_prompt="a cat"
    )
    await make(model="ultra").generate(request, on_progress=Progress())
    fields = fake.requests[0].fields
    assert fields["prompt"] == "a cat" and fields["strength"] == "0.45" and "mode" not in fields


async def test_edit_on_core_is_invalid(make: Make) -> None:
    """core has no image input: an edit is InvalidRequest with a hint."""
    request = ImageRequest("x", kind=GenerationKind.EDIT, reference_images=(make_reference(),))
    with pytest.raises(InvalidRequest) as info:
        await make(model="core").generate(request, on_progress=Progress())
    assert "ultra or sd3" in info.value.user_message


# --------------------------------------------------------------------------------------------- faults


@pytest.mark.parametrize("status", [400, 403])
async def test_content_moderation_error_is_refused(fake: FakeStability, make: Make, status: int) -> None:
    """An HTTP 400/403 named content_moderation → Refused."""
    fake.moderate_next(status)
    with pytest.raises(Refused, match="content policy"):
        await generate(make())


async def test_out_of_credits_is_misconfigured(fake: FakeStability, make: Make) -> None:
    """402 → Misconfigured with the quota message."""
    fake.status_next(402, "payment_required", "You lack sufficient credits to make this request.")
    with pytest.raises(Misconfigured) as info:
        await generate(make())
    assert info.value.user_message == http_errors.QUOTA_TEXT


async def test_payload_too_large_is_invalid_request(fake: FakeStability, make: Make) -> None:
    """413 → InvalidRequest telling the user the image is too large."""
    fake.status_next(413, "payload_too_large", "body: payloads cannot be larger than 10MiB in size")
    with pytest.raises(InvalidRequest) as info:
        await generate(make())
    assert "too large" in info.value.user_message


async def test_bad_parameter_is_invalid_request(make: Make) -> None:
    """A 400 the server explains → InvalidRequest that shows its reason."""
    with pytest.raises(InvalidRequest) as info:
        await generate(make(options={"style_preset": "watercolour"}))
    assert "style_preset" in info.value.user_message


async def test_empty_answer_is_unavailable(fake: FakeStability, make: Make) -> None:
    """A 200 without an image → Unavailable."""
    fake.empty_next()
    with pytest.raises(Unavailable, match="without an image"):
        await generate(make())


def test_unknown_model_is_misconfigured(make: Make) -> None:
    """A configured model that is neither core, ultra nor sd3 → Misconfigured."""
    with pytest.raises(Misconfigured, match="dall-e-3"):
        make(model="dall-e-3")


def test_default_base_url_is_the_public_api(client: httpx.AsyncClient) -> None:
    """Without base_url the provider talks to https://api.stability.ai."""
    provider = create(DiffusionSettings(api_key=SecretStr(KEY)), client=client)
    assert provider.base_url == "https://api.stability.ai"


# --------------------------------------------------------------------------------------------- health


async def test_check_ok_against_the_fake(fake: FakeStability, make: Make) -> None:
    """check() reads the credit balance with the key."""
    health = await make().check()
    assert health.ok and "42.5 credits" in health.detail
    assert fake.requests[0].path == "/v1/user/balance"
