"""xai against the loopback xAI fake: request shapes, JSON edits, silent moderation, errors, health."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.core.errors import InvalidRequest, Misconfigured, Refused, Unavailable
from bot.core.ports import Provider
from bot.core.types import Aspect, GenerationKind, Image, ImageRequest
from bot.providers.settings import ProviderSettings
from bot.providers.xai import XAIProvider, aspect_ratio, create
from tests.fakes.providers.chat_image_base import animated_gif
from tests.fakes.providers.harness import Progress
from tests.fakes.providers.loopback import make_image
from tests.fakes.providers.xai import FakeXAI

KEY = "xai-test-key-0123456789"
MakeProvider = Callable[..., XAIProvider]


@pytest.fixture
async def fake() -> AsyncIterator[FakeXAI]:
    async with FakeXAI(api_key=KEY) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield http


@pytest.fixture
def make_provider(fake: FakeXAI, client: httpx.AsyncClient) -> MakeProvider:
    def build(**overrides: Any) -> XAIProvider:
        fields: dict[str, Any] = {"base_url": fake.base_url, "api_key": SecretStr(KEY)}
        fields.update(overrides)
        return create(ProviderSettings(**fields), client=client)

    return build


@pytest.fixture
def provider(make_provider: MakeProvider) -> XAIProvider:
    return make_provider()


async def generate(provider: XAIProvider, prompt: str = "a lighthouse", **fields: Any) -> list[Image]:
    return await provider.generate(ImageRequest(prompt, **fields), on_progress=Progress())


# ----------------------------------------------------------------------------------------- generation


def test_implements_the_provider_protocol(provider: XAIProvider) -> None:
    """The provider satisfies the protocol; capabilities list xAI's ratios, ten images, three references."""
    assert isinstance(provider, Provider)
    caps = provider.capabilities
    assert (caps.edit, caps.max_n, caps.seed, caps.negative_prompt, caps.max_reference_images) == (
        True, 10, False, False, 3,
    )  # fmt: skip
    assert caps.aspects is not None and Aspect(16, 9) in caps.aspects and Aspect(18, 39) in caps.aspects
    assert provider.catalog[0] == provider.model == "grok-imagine-image"


async def test_generation_returns_the_served_bytes(fake: FakeXAI, provider: XAIProvider) -> None:
    """b64_json results decode to exactly the JPEG bytes served, with mime, size, model, revised prompt."""
    images = await generate(provider, n=2)
    assert [image.data for image in images] == fake.served
    assert {(i.mime, i.provider, i.model, i.seed) for i in images} == {
        ("image/jpeg", "xai", "grok-imagine-image", None)
    }
    assert images[0].revised_prompt == "A revised prompt" and (images[0].width, images[0].height) == (64, 64)


async def test_generation_request_fields(fake: FakeXAI, provider: XAIProvider) -> None:
    """POST /images/generations: Bearer key, model, prompt, n, aspect_ratio, b64_json; never size/style."""
    await generate(provider, n=3, aspect=Aspect(16, 9))
    [request] = fake.requests
    assert request.path == "/v1/images/generations"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.json == {
        "model": "grok-imagine-image",
        "prompt": "a lighthouse",
        "n": 3,
        "response_format": "b64_json",
        "aspect_ratio": "16:9",
    }


@pytest.mark.parametrize(
    ("aspect", "expected"),
    [(Aspect(18, 39), "9:19.5"), (Aspect(32, 18), "16:9"), (Aspect(5, 4), "4:3"), (Aspect(1, 1), "1:1")],
)
def test_aspect_mapping(aspect: Aspect, expected: str) -> None:
    """Aspects map to xAI's names, unreduced or unsupported ones to the nearest."""
    assert aspect_ratio(aspect) == expected


async def test_hd_quality_asks_for_2k(fake: FakeXAI, provider: XAIProvider) -> None:
    """--quality hd → resolution 2k, and no quality tier."""
    await generate(provider, quality="hd")
    assert fake.requests[0].json["resolution"] == "2k" and "quality" not in fake.requests[0].json


@pytest.mark.parametrize(("wanted", "sent"), [("low", "low"), ("medium", "medium"), ("high", "medium")])
async def test_quality_tier_goes_to_the_model_that_takes_it(
    fake: FakeXAI, provider: XAIProvider, wanted: str, sent: str
) -> None:
    """grok-imagine-image-2.0 gets xai-sdk's tiers (low/medium; high is its best, medium)."""
    await generate(provider, quality=wanted, model="grok-imagine-image-2.0")
    assert fake.requests[0].json["quality"] == sent


async def test_quality_is_not_sent_to_models_without_it(fake: FakeXAI, provider: XAIProvider) -> None:
    """Only grok-imagine-image-2.0 documents quality; the default model gets none (and succeeds)."""
    [image] = await generate(provider, quality="low")
    assert "quality" not in fake.requests[0].json and image.model == "grok-imagine-image"


async def test_fake_rejects_quality_outside_the_sdk_values(
    fake: FakeXAI, make_provider: MakeProvider
) -> None:
    """The fake holds xAI's rules: quality high (not an xai-sdk value) is an invalid argument."""
    provider = make_provider(model="grok-imagine-image-2.0", options={"quality": "high"})
    with pytest.raises(InvalidRequest, match="quality"):
        await generate(provider)


async def test_model_and_options_pass_through(fake: FakeXAI, make_provider: MakeProvider) -> None:
    """The request's model wins over the configured one; options are merged into the body."""
    provider = make_provider(model="grok-imagine-image-quality", options={"user": "easel-7"})
    [image] = await generate(provider, model="grok-imagine-image-2.0")
    body = fake.requests[0].json
    assert (body["model"], body["user"], image.model) == ("grok-imagine-image-2.0", "easel-7", body["model"])


async def test_url_results_are_downloaded_at_once(fake: FakeXAI, provider: XAIProvider) -> None:
    """A server answering with URLs: each is fetched straight away, bytes unchanged."""
    fake.response_format = "url"
    images = await generate(provider, n=2)
    assert [image.data for image in images] == fake.served and len(fake.downloads) == 2


async def test_expired_url_is_unavailable(fake: FakeXAI, provider: XAIProvider) -> None:
    """A result URL that already answers 403 → Unavailable saying the link expired."""
    fake.response_format = "url"
    fake.expire_files(403)
    with pytest.raises(Unavailable) as info:
        await generate(provider)
    assert "expired" in info.value.user_message


# ---------------------------------------------------------------------------------------------- edits


async def test_edit_is_json_with_a_data_url(fake: FakeXAI, provider: XAIProvider) -> None:
    """EDIT → JSON /images/edits with image {url: data URL, type: image_url}; no aspect for one image."""
    reference = make_image(16, 16)
    [image] = await generate(
        provider, "make it warmer", kind=GenerationKind.EDIT, reference_images=(reference,)
    )
    [request] = fake.requests
    assert request.path == "/v1/images/edits" and request.headers["content-type"] == "application/json"
    body = request.json
    assert body["image"] == {
        "url": "data:image/png;base64," + base64.b64encode(reference).decode(),
        "type": "image_url",
    }
    assert body["prompt"] == "Edit the attached image: make it warmer"
    assert "aspect_ratio" not in body and "images" not in body
    assert image.data == fake.served[0]


async def test_multi_reference_edit_sends_images(fake: FakeXAI, provider: XAIProvider) -> None:
    """Several references → "images": [...] (and the aspect, which no single input decides)."""
    refs = (make_image(8, 8), make_image(8, 8, "jpeg"))
    await generate(provider, "combine", kind=GenerationKind.EDIT, reference_images=refs, aspect=Aspect(3, 2))
    body = fake.requests[0].json
    assert [item["url"][:22] for item in body["images"]] == [
        "data:image/png;base64,",
        "data:image/jpeg;base64",
    ]
    assert body["aspect_ratio"] == "3:2" and "image" not in body


async def test_gif_and_webp_references_are_sent_as_png(fake: FakeXAI, provider: XAIProvider) -> None:
    """xAI takes jpg/png only: GIF and WebP references go as PNG data URLs."""
    references = (animated_gif(), make_image(8, 8, "webp"))
    await generate(provider, "make it warmer", kind=GenerationKind.EDIT, reference_images=references)
    urls = [image["url"] for image in fake.requests[0].json["images"]]
    assert all(url.startswith("data:image/png;base64,") for url in urls) and len(urls) == 2


async def test_vary_describes_a_variation(fake: FakeXAI, provider: XAIProvider) -> None:
    """VARY sends the reference and a prompt asking for a variation of the source prompt."""
    request = ImageRequest(
        "a red fox", kind=GenerationKind.VARY, reference_images=(make_image(8, 8),), source_prompt="a red fox"
    )
    await provider.generate(request, on_progress=Progress())
    assert "variation" in fake.requests[0].json["prompt"] and "a red fox" in fake.requests[0].json["prompt"]


# ------------------------------------------------------------------------------------------- failures


async def test_empty_data_is_refused(fake: FakeXAI, provider: XAIProvider) -> None:
    """HTTP 200 with an empty data list → Refused."""
    fake.empty_next()
    with pytest.raises(Refused):
        await generate(provider)


async def test_unknown_model_is_misconfigured(provider: XAIProvider) -> None:
    """xAI's 404 for a model the team cannot use → Misconfigured."""
    with pytest.raises(Misconfigured):
        await generate(provider, model="grok-2-image")


async def test_invalid_argument_is_invalid_request(fake: FakeXAI, make_provider: MakeProvider) -> None:
    """A field xAI rejects (here size, through options) → InvalidRequest quoting the reason."""
    with pytest.raises(InvalidRequest) as info:
        await generate(make_provider(options={"size": "1024x1024"}))
    assert "Argument not supported: size" in info.value.user_message


# ------------------------------------------------------------------------------------ settings, health


def test_default_base_url(client: httpx.AsyncClient) -> None:
    """Without base_url the provider talks to api.x.ai."""
    assert create(ProviderSettings(api_key=SecretStr(KEY)), client=client).base_url == "https://api.x.ai/v1"


async def test_list_models(provider: XAIProvider) -> None:
    """list_models reads GET /image-generation-models."""
    assert await provider.list_models() == list(provider.catalog)
