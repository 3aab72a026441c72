"""openrouter against the loopback OpenRouter fake: request shape, images, HTTP-200 refusals, errors."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.core.errors import InvalidRequest, Misconfigured, RateLimited, Refused, Unavailable
from bot.core.ports import Provider
from bot.core.types import Aspect, GenerationKind, Image, ImageRequest
from bot.providers._http.client import timeout_for
from bot.providers._http.errors import QUOTA_TEXT
from bot.providers._http.multimodal import NO_IMAGE_TEXT, RECITATION_TEXT
from bot.providers.openrouter import ASPECTS, DEFAULT_BASE_URL, DEFAULT_MODEL, OpenRouterProvider, create
from bot.providers.settings import ProviderSettings
from tests.fakes.providers.chat_image_base import animated_gif, make_image
from tests.fakes.providers.harness import TLS, Progress
from tests.fakes.providers.openrouter import FakeOpenRouter

KEY = "sk-or-v1-test-0123456789"
MakeProvider = Callable[..., OpenRouterProvider]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenRouter]:
    async with FakeOpenRouter(api_key=KEY) as server:
        yield server


@pytest.fixture
async def make_provider(fake: FakeOpenRouter) -> AsyncIterator[MakeProvider]:
    """Providers on the fake (right key, default model), each on its own client, closed after."""
    clients: list[httpx.AsyncClient] = []

    def build(**overrides: Any) -> OpenRouterProvider:
        fields: dict[str, Any] = {"base_url": fake.base_url, "api_key": SecretStr(KEY)}
        fields.update(overrides)
        settings = ProviderSettings(**fields)
        client = httpx.AsyncClient(timeout=timeout_for(settings, 5.0), verify=TLS)
        clients.append(client)
        return create(settings, client=client)

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
def provider(make_provider: MakeProvider) -> OpenRouterProvider:
    return make_provider()


async def generate(provider: OpenRouterProvider, prompt: str = "a lighthouse", **fields: Any) -> list[Image]:
    return await provider.generate(ImageRequest(prompt, **fields), on_progress=Progress())


# ----------------------------------------------------------------------------------------- generation


def test_implements_the_provider_protocol(provider: OpenRouterProvider) -> None:
    """The provider satisfies the Provider protocol with truthful capabilities."""
    assert isinstance(provider, Provider)
    caps = provider.capabilities
    assert (caps.edit, caps.max_n, caps.negative_prompt, caps.seed) == (True, 1, False, False)
    assert caps.aspects == ASPECTS and Aspect(4, 5) in ASPECTS
    assert provider.catalog[0] == DEFAULT_MODEL == "google/gemini-2.5-flash-image"


async def test_request_has_the_documented_shape(fake: FakeOpenRouter, provider: OpenRouterProvider) -> None:
    """POST /chat/completions: Bearer key, X-Title, model, messages, modalities, image_config."""
    await generate(provider, seed=7, negative="text")
    [request] = fake.requests
    assert request.path == "/api/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["x-title"] == "Easel" and "http-referer" not in request.headers
    assert request.json == {
        "model": DEFAULT_MODEL,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "a lighthouse"}]}],
        "modalities": ["image", "text"],
        "image_config": {"aspect_ratio": "1:1"},
        "stream": False,
    }


async def test_attribution_headers_come_from_options(
    fake: FakeOpenRouter, make_provider: MakeProvider
) -> None:
    """options.http_referer / x_title become headers and stay out of the body."""
    provider = make_provider(options={"http_referer": "https://easel.example", "x_title": "My Easel"})
    await generate(provider)
    request = fake.requests[0]
    assert request.headers["http-referer"] == "https://easel.example"
    assert request.headers["x-title"] == "My Easel"
    assert "http_referer" not in request.json and "x_title" not in request.json


async def test_options_are_merged_into_the_body(fake: FakeOpenRouter, make_provider: MakeProvider) -> None:
    """Other options are laid over the body; nested objects merge."""
    provider = make_provider(
        options={"provider": {"order": ["Google"]}, "image_config": {"image_size": "4K"}}
    )
    [image] = await generate(provider, aspect=Aspect(16, 9))
    body = fake.requests[0].json
    assert body["provider"] == {"order": ["Google"]}
    assert body["image_config"] == {"aspect_ratio": "16:9", "image_size": "4K"}
    assert (image.width, image.height) == (336, 192)


@pytest.mark.parametrize(
    ("aspect", "label"),
    [(Aspect(16, 9), "16:9"), (Aspect(4, 5), "4:5"), (Aspect(10, 8), "5:4"), (Aspect(2, 1), "16:9")],
)
async def test_aspect_maps_to_aspect_ratio(
    fake: FakeOpenRouter, provider: OpenRouterProvider, aspect: Aspect, label: str
) -> None:
    """The aspect is sent reduced, or as the nearest supported ratio."""
    await generate(provider, aspect=aspect)
    assert fake.requests[0].json["image_config"] == {"aspect_ratio": label}


async def test_image_only_models_ask_for_images_only(
    fake: FakeOpenRouter, make_provider: MakeProvider
) -> None:
    """FLUX outputs only images: modalities ["image"] (the API has no endpoint for image+text)."""
    [image] = await generate(make_provider(model="black-forest-labs/flux.2-pro"))
    assert fake.requests[0].json["modalities"] == ["image"]
    assert image.model == "black-forest-labs/flux.2-pro"


async def test_quality_sets_image_size_on_gemini_3(fake: FakeOpenRouter, make_provider: MakeProvider) -> None:
    """--quality hd → image_size 2K, only for Gemini 3 models."""
    [image] = await generate(make_provider(model="google/gemini-3-pro-image-preview"), quality="hd")
    assert fake.requests[0].json["image_config"] == {"aspect_ratio": "1:1", "image_size": "2K"}
    assert (image.width, image.height) == (128, 128)
    await generate(make_provider(), quality="hd")
    assert fake.requests[1].json["image_config"] == {"aspect_ratio": "1:1"}


async def test_url_results_are_downloaded(make_provider: MakeProvider) -> None:
    """An http image URL (not a data URL) is fetched at once, byte-identical."""
    async with FakeOpenRouter(api_key=KEY, image_urls=True) as url_fake:
        [image] = await generate(make_provider(base_url=url_fake.base_url))
        assert image.data == url_fake.served[-1]
        assert [d.path for d in url_fake.downloads] == ["/files/img-1.png"]


async def test_expired_result_url_is_unavailable(make_provider: MakeProvider) -> None:
    """A result URL that answers 404 is Unavailable (worth a retry), not a configuration error."""
    async with FakeOpenRouter(api_key=KEY, image_urls=True) as url_fake:
        url_fake.expire_next()
        with pytest.raises(Unavailable) as info:
            await generate(make_provider(base_url=url_fake.base_url))
        assert "no longer be fetched" in info.value.user_message


# ---------------------------------------------------------------------------------------------- edits


async def test_edit_sends_the_reference_as_a_data_url(
    fake: FakeOpenRouter, provider: OpenRouterProvider
) -> None:
    """EDIT: the instruction plus an image_url part holding the reference as a data URL."""
    reference = make_image(16, 16, "jpeg")
    [image] = await generate(
        provider,
        "make it warmer",
        kind=GenerationKind.EDIT,
        reference_images=(reference,),
        source_prompt="a cat",
    )
    text, part = fake.requests[0].json["messages"][0]["content"]
    assert "make it warmer" in text["text"] and "a cat" in text["text"]
    assert part == {
        "type": "image_url",
        "image_url": {"url": "data:image/jpeg;base64," + base64.b64encode(reference).decode()},
    }
    assert image.data == fake.served[-1]


async def test_gif_reference_is_sent_as_png(fake: FakeOpenRouter, provider: OpenRouterProvider) -> None:
    """The image models behind OpenRouter take no GIF: the reference goes as a PNG data URL."""
    await generate(provider, "make it warmer", kind=GenerationKind.EDIT, reference_images=(animated_gif(),))
    part = fake.requests[0].json["messages"][0]["content"][1]
    assert part["image_url"]["url"].startswith("data:image/png;base64,")


# ------------------------------------------------------------------------------------ HTTP-200 refusals


async def test_text_only_answer_is_shown_to_the_user(
    fake: FakeOpenRouter, provider: OpenRouterProvider
) -> None:
    """A 200 with text and no images → InvalidRequest quoting the model."""
    fake.text_only_next("I'm sorry, I can't create that image.")
    with pytest.raises(InvalidRequest, match="without images") as info:
        await generate(provider)
    assert "I'm sorry, I can't create that image." in info.value.user_message


async def test_recitation_is_refused_with_its_own_text(
    fake: FakeOpenRouter, provider: OpenRouterProvider
) -> None:
    """native_finish_reason IMAGE_RECITATION → Refused, explained."""
    fake.content_filter_next("IMAGE_RECITATION")
    with pytest.raises(Refused) as info:
        await generate(provider)
    assert info.value.user_message == RECITATION_TEXT


async def test_upstream_error_in_a_choice_is_unavailable(
    fake: FakeOpenRouter, provider: OpenRouterProvider
) -> None:
    """A 200 whose choice carries a 502 error → Unavailable."""
    fake.choice_error_next(502)
    with pytest.raises(Unavailable, match="HTTP 502"):
        await generate(provider)


async def test_empty_choices_is_invalid_request(fake: FakeOpenRouter, provider: OpenRouterProvider) -> None:
    """A 200 with no choices → InvalidRequest with the no-image text."""
    fake.empty_next()
    with pytest.raises(InvalidRequest) as info:
        await generate(provider)
    assert info.value.user_message == NO_IMAGE_TEXT


# ------------------------------------------------------------------------------------------- failures


async def test_rate_limit_reset_from_metadata(fake: FakeOpenRouter, provider: OpenRouterProvider) -> None:
    """Without Retry-After, metadata.headers X-RateLimit-Reset gives the wait."""
    fake.rate_limit_next(retry_after=None, reset_in_s=30)
    with pytest.raises(RateLimited) as info:
        await generate(provider)
    assert info.value.retry_after is not None and 25 < info.value.retry_after <= 30


async def test_out_of_credit_is_misconfigured(fake: FakeOpenRouter, provider: OpenRouterProvider) -> None:
    """402 → Misconfigured with the out-of-credit text."""
    fake.no_credit_next()
    with pytest.raises(Misconfigured, match="HTTP 402") as info:
        await generate(provider)
    assert info.value.user_message == QUOTA_TEXT


async def test_moderation_403_is_refused(fake: FakeOpenRouter, provider: OpenRouterProvider) -> None:
    """403 with moderation reasons → Refused naming the reasons."""
    fake.moderate_next(("violence", "harassment"))
    with pytest.raises(Refused) as info:
        await generate(provider)
    assert (
        info.value.user_message
        == "The image service's moderation refused this prompt (violence, harassment)."
    )


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_unavailable(
    fake: FakeOpenRouter, provider: OpenRouterProvider, status: int
) -> None:
    """500, 502 (upstream) and 503 → Unavailable."""
    fake.fail_next(status)
    with pytest.raises(Unavailable, match=f"HTTP {status}") as info:
        await generate(provider)
    assert "try again" in info.value.user_message


async def test_unknown_model_is_invalid_request(make_provider: MakeProvider) -> None:
    """400 "not a valid model ID" → InvalidRequest that names the model."""
    with pytest.raises(InvalidRequest) as info:
        await generate(make_provider(model="acme/nothing"))
    assert "acme/nothing is not a valid model ID" in info.value.user_message


async def test_defaults_to_the_public_api() -> None:
    """Without base_url/model: openrouter.ai/api/v1 and google/gemini-2.5-flash-image."""
    async with httpx.AsyncClient(verify=TLS) as client:
        provider = OpenRouterProvider(ProviderSettings(api_key=SecretStr(KEY)), client=client)
    assert provider.pool.urls == [DEFAULT_BASE_URL] and provider.model == DEFAULT_MODEL


# ----------------------------------------------------------------------------------- health and models


async def test_check_is_ok_against_the_fake(fake: FakeOpenRouter, provider: OpenRouterProvider) -> None:
    """check() GETs /key with the key and reports ok with the credit left."""
    health = await provider.check()
    assert health.ok and health.detail == "ok (credit left: 4.90)"
    assert fake.requests[0].path == "/api/v1/key"


async def test_list_models_asks_for_image_output(fake: FakeOpenRouter, provider: OpenRouterProvider) -> None:
    """list_models: GET /models?output_modalities=image → the image-capable ids."""
    models = await provider.list_models()
    assert models == [
        "google/gemini-2.5-flash-image",
        "google/gemini-3-pro-image-preview",
        "black-forest-labs/flux.2-pro",
    ]
    assert fake.requests[0].query == {"output_modalities": "image"}


# ----------------------------------------------------------------------------------------- the fake


@pytest.mark.parametrize(
    ("change", "status", "fragment"),
    [
        ({"image_config": {"aspect_ratio": "7:3"}}, 400, "Invalid option"),
        ({"model": "black-forest-labs/flux.2-pro"}, 404, "No endpoints found"),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "data:image/png;base64,bm9wZQ=="}}
                        ],
                    }
                ]
            },
            400,
            "could not decode",
        ),
        ({"model": "acme/nothing"}, 400, "not a valid model ID"),
        ({"modalities": ["image", "audio"]}, 404, "No endpoints found"),
        ({"modalities": ["video"]}, 400, "Invalid modalities"),
    ],
)
async def test_fake_rejects_what_the_api_rejects(
    fake: FakeOpenRouter, change: dict[str, Any], status: int, fragment: str
) -> None:
    """The fake answers OpenRouter's errors for bad aspect ratios, modalities, images and models."""
    body = {
        "model": DEFAULT_MODEL,
        "messages": [{"role": "user", "content": "x"}],
        "modalities": ["image", "text"],
        **change,
    }
    async with httpx.AsyncClient(verify=TLS) as client:
        response = await client.post(
            f"{fake.base_url}/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"}
        )
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (status, status)
    assert fragment in error["message"]
