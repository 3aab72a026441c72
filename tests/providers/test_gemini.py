"""gemini against the loopback Gemini API fake: request shape, images, HTTP-200 refusals, errors."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.core.errors import InvalidRequest, Misconfigured, ProviderTimeout, RateLimited, Refused
from bot.core.imaging import image_size, sniff
from bot.core.ports import Provider
from bot.core.types import Aspect, GenerationKind, Image, ImageRequest
from bot.providers._http.client import timeout_for
from bot.providers._http.errors import NOT_FOUND_TEXT, QUOTA_TEXT, REFUSED_TEXT
from bot.providers._http.multimodal import NO_IMAGE_TEXT, RECITATION_TEXT
from bot.providers.gemini.errors import raise_for_google, retry_delay
from bot.providers.gemini.provider import ASPECTS, DEFAULT_BASE_URL, DEFAULT_MODEL, GeminiProvider, create
from bot.providers.settings import ProviderSettings
from tests.fakes.providers.chat_image_base import animated_gif, make_image
from tests.fakes.providers.gemini import FakeGemini
from tests.fakes.providers.harness import TLS, Progress

KEY = "AIza-test-key-0123456789"
MakeProvider = Callable[..., GeminiProvider]


@pytest.fixture
async def fake() -> AsyncIterator[FakeGemini]:
    async with FakeGemini(api_key=KEY) as server:
        yield server


@pytest.fixture
async def make_provider(fake: FakeGemini) -> AsyncIterator[MakeProvider]:
    """Providers on the fake (right key, default model), each on its own client, closed after."""
    clients: list[httpx.AsyncClient] = []

    def build(**overrides: Any) -> GeminiProvider:
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
def provider(make_provider: MakeProvider) -> GeminiProvider:
    return make_provider()


async def generate(provider: GeminiProvider, prompt: str = "a lighthouse", **fields: Any) -> list[Image]:
    return await provider.generate(ImageRequest(prompt, **fields), on_progress=Progress())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ----------------------------------------------------------------------------------------- generation


def test_implements_the_provider_protocol(provider: GeminiProvider) -> None:
    """The provider satisfies the Provider protocol with truthful capabilities."""
    assert isinstance(provider, Provider)
    caps = provider.capabilities
    assert (caps.edit, caps.max_n, caps.negative_prompt, caps.seed) == (True, 1, False, False)
    assert caps.aspects == ASPECTS and len(ASPECTS) == 8
    assert provider.catalog[0] == DEFAULT_MODEL == "gemini-2.5-flash-image"


async def test_request_has_the_documented_shape(fake: FakeGemini, provider: GeminiProvider) -> None:
    """POST models/{model}:generateContent with the key header, one user turn and imageConfig."""
    await generate(provider, seed=7, negative="text")
    [request] = fake.requests
    assert request.path == f"/v1beta/models/{DEFAULT_MODEL}:generateContent"
    assert request.headers["x-goog-api-key"] == KEY and "key" not in request.query
    assert request.json == {
        "contents": [{"role": "user", "parts": [{"text": "a lighthouse"}]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"], "imageConfig": {"aspectRatio": "1:1"}},
    }


@pytest.mark.parametrize(
    ("aspect", "label", "size"),
    [
        (Aspect(16, 9), "16:9", (84, 48)),
        (Aspect(32, 18), "16:9", (84, 48)),
        (Aspect(2, 3), "2:3", (52, 78)),
        (Aspect(4, 5), "3:4", (54, 74)),
        (Aspect(2, 1), "16:9", (84, 48)),
    ],
)
async def test_aspect_maps_to_aspect_ratio(
    fake: FakeGemini, provider: GeminiProvider, aspect: Aspect, label: str, size: tuple[int, int]
) -> None:
    """The aspect is sent reduced, or as the nearest supported ratio."""
    [image] = await generate(provider, aspect=aspect)
    assert fake.requests[0].json["generationConfig"]["imageConfig"] == {"aspectRatio": label}
    assert (image.width, image.height) == size


async def test_quality_sets_image_size_on_gemini_3(fake: FakeGemini, make_provider: MakeProvider) -> None:
    """--quality high asks a Gemini 3 model for 2K; its thought draft is skipped, the final returned."""
    provider = make_provider(model="gemini-3-pro-image-preview")
    [image] = await generate(provider, quality="high")
    config = fake.requests[0].json["generationConfig"]["imageConfig"]
    assert config == {"aspectRatio": "1:1", "imageSize": "2K"}
    assert image.data == fake.served[-1] and (image.width, image.height) == (128, 128)


async def test_no_image_size_on_flash_2_5(fake: FakeGemini, provider: GeminiProvider) -> None:
    """gemini-2.5-flash-image takes no imageSize, so --quality does not send one."""
    await generate(provider, quality="hd")
    assert "imageSize" not in fake.requests[0].json["generationConfig"]["imageConfig"]


async def test_request_model_overrides_the_setting(fake: FakeGemini, provider: GeminiProvider) -> None:
    """request.model (with or without the models/ prefix) picks the model in the path."""
    [image] = await generate(provider, model="models/gemini-3.1-flash-image-preview")
    assert fake.requests[0].path == "/v1beta/models/gemini-3.1-flash-image-preview:generateContent"
    assert image.model == "gemini-3.1-flash-image-preview"


async def test_mime_is_sniffed_not_trusted(make_provider: MakeProvider) -> None:
    """JPEG bytes labelled image/png come back as image/jpeg."""
    async with FakeGemini(api_key=KEY, output_format="jpeg") as jpeg_fake:
        [image] = await generate(make_provider(base_url=jpeg_fake.base_url))
        assert image.mime == "image/jpeg" and image.data == jpeg_fake.served[-1]


async def test_options_are_merged_into_the_body(fake: FakeGemini, make_provider: MakeProvider) -> None:
    """providers.gemini.options are laid over the body; nested objects merge."""
    options = {"generationConfig": {"temperature": 0.4}, "safetySettings": []}
    await generate(make_provider(options=options))
    body = fake.requests[0].json
    assert body["generationConfig"]["temperature"] == 0.4
    assert body["generationConfig"]["imageConfig"] == {"aspectRatio": "1:1"}
    assert body["safetySettings"] == []


# ---------------------------------------------------------------------------------------------- edits


async def test_edit_sends_the_reference_inline(fake: FakeGemini, provider: GeminiProvider) -> None:
    """EDIT: the instruction (with the source prompt) and the reference as an inlineData part."""
    reference = make_image(16, 16, "jpeg")
    [image] = await generate(
        provider,
        "make it warmer",
        kind=GenerationKind.EDIT,
        reference_images=(reference,),
        source_prompt="a lighthouse",
    )
    text, inline = fake.requests[0].json["contents"][0]["parts"]
    assert "make it warmer" in text["text"] and "a lighthouse" in text["text"]
    assert inline == {"inlineData": {"mimeType": "image/jpeg", "data": b64(reference)}}
    assert image.data == fake.served[-1]


async def test_gif_reference_is_sent_as_png(fake: FakeGemini, provider: GeminiProvider) -> None:
    """Gemini takes png/jpeg/webp/heic/heif: a GIF reference goes as inline PNG."""
    await generate(provider, "make it warmer", kind=GenerationKind.EDIT, reference_images=(animated_gif(),))
    inline = fake.requests[0].json["contents"][0]["parts"][1]["inlineData"]
    assert inline["mimeType"] == "image/png" and sniff(base64.b64decode(inline["data"])) == "image/png"


async def test_vary_asks_for_a_variation(fake: FakeGemini, provider: GeminiProvider) -> None:
    """VARY sends the image with a variation instruction naming the original prompt."""
    await generate(provider, "a lighthouse", kind=GenerationKind.VARY, reference_images=(make_image(8, 8),))
    text = fake.requests[0].json["contents"][0]["parts"][0]["text"]
    assert "variation" in text and "a lighthouse" in text


# ------------------------------------------------------------------------------------ HTTP-200 refusals


@pytest.mark.parametrize(
    "reason", ["IMAGE_SAFETY", "SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT"]
)
async def test_safety_finish_without_image_is_refused(
    fake: FakeGemini, provider: GeminiProvider, reason: str
) -> None:
    """A candidate that stopped for a safety reason, with no image part → Refused."""
    fake.finish_next(reason)
    with pytest.raises(Refused, match=reason) as info:
        await generate(provider)
    assert info.value.user_message == REFUSED_TEXT


async def test_recitation_is_refused_with_its_own_text(fake: FakeGemini, provider: GeminiProvider) -> None:
    """IMAGE_RECITATION → Refused, explained as too close to existing work."""
    fake.finish_next("IMAGE_RECITATION")
    with pytest.raises(Refused) as info:
        await generate(provider)
    assert info.value.user_message == RECITATION_TEXT


@pytest.mark.parametrize("reason", ["NO_IMAGE", "IMAGE_OTHER"])
async def test_no_image_finish_is_invalid_request(
    fake: FakeGemini, provider: GeminiProvider, reason: str
) -> None:
    """NO_IMAGE / IMAGE_OTHER are not policy blocks: InvalidRequest asking to rephrase."""
    fake.finish_next(reason)
    with pytest.raises(InvalidRequest, match=reason) as info:
        await generate(provider)
    assert info.value.user_message == NO_IMAGE_TEXT


async def test_text_only_answer_is_shown_to_the_user(fake: FakeGemini, provider: GeminiProvider) -> None:
    """A text answer without an image → InvalidRequest quoting the model's words."""
    fake.text_only_next("I can't draw that, but here is a description.")
    with pytest.raises(InvalidRequest) as info:
        await generate(provider)
    assert "I can't draw that" in info.value.user_message and "rephrasing" in info.value.user_message


async def test_empty_answer_is_invalid_request(fake: FakeGemini, provider: GeminiProvider) -> None:
    """An HTTP 200 with neither candidates nor feedback → InvalidRequest."""
    fake.empty_next()
    with pytest.raises(InvalidRequest) as info:
        await generate(provider)
    assert info.value.user_message == NO_IMAGE_TEXT


# ------------------------------------------------------------------------------------------- failures


async def test_rate_limit_falls_back_to_retry_after(fake: FakeGemini, provider: GeminiProvider) -> None:
    """Without RetryInfo, the Retry-After header gives the wait."""
    fake.rate_limit_next(retry_delay=None, retry_after="5")
    with pytest.raises(RateLimited) as info:
        await generate(provider)
    assert info.value.retry_after == 5.0


async def test_zero_quota_is_misconfigured(fake: FakeGemini, provider: GeminiProvider) -> None:
    """A quota whose limit is 0 (no free tier for the model) will not pass by waiting: Misconfigured."""
    fake.rate_limit_next(free_tier=True)
    with pytest.raises(Misconfigured) as info:
        await generate(provider)
    assert info.value.user_message == QUOTA_TEXT


async def test_deadline_exceeded_is_a_timeout(fake: FakeGemini, provider: GeminiProvider) -> None:
    """504 DEADLINE_EXCEEDED → ProviderTimeout."""
    fake.fail_next(504)
    with pytest.raises(ProviderTimeout):
        await generate(provider)


async def test_unsupported_region_is_misconfigured(fake: FakeGemini, provider: GeminiProvider) -> None:
    """400 FAILED_PRECONDITION (location not supported) → Misconfigured, not a bad prompt."""
    fake.fail_next(400)
    with pytest.raises(Misconfigured, match="FAILED_PRECONDITION") as info:
        await generate(provider)
    assert "admin" in info.value.user_message


async def test_unknown_model_is_misconfigured(make_provider: MakeProvider) -> None:
    """404 NOT_FOUND for the model → Misconfigured naming base_url/model."""
    with pytest.raises(Misconfigured) as info:
        await generate(make_provider(model="gemini-9-image"))
    assert info.value.user_message == NOT_FOUND_TEXT


async def test_defaults_to_the_public_api() -> None:
    """Without base_url/model: generativelanguage v1beta and gemini-2.5-flash-image."""
    async with httpx.AsyncClient(verify=TLS) as client:
        provider = GeminiProvider(ProviderSettings(api_key=SecretStr(KEY)), client=client)
    assert provider.pool.urls == [DEFAULT_BASE_URL] and provider.model == DEFAULT_MODEL


# ----------------------------------------------------------------------------------- health and models


async def test_check_is_ok_against_the_fake(fake: FakeGemini, provider: GeminiProvider) -> None:
    """check() GETs the model with the key and reports ok."""
    health = await provider.check()
    assert health.ok and health.detail == f"ok ({DEFAULT_MODEL})"
    assert fake.requests[0].path == f"/v1beta/models/{DEFAULT_MODEL}"


async def test_list_models_pages_and_filters(fake: FakeGemini, provider: GeminiProvider) -> None:
    """list_models follows nextPageToken and keeps only image models with generateContent."""
    fake.page_size = 2
    models = await provider.list_models()
    assert models == [
        "gemini-2.5-flash-image",
        "gemini-3-pro-image-preview",
        "gemini-3.1-flash-image-preview",
    ]
    assert [r.query.get("pageToken") for r in fake.requests] == [None, "2"]


# ----------------------------------------------------------------------------------------- the fake


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"negativePrompt": "x"}, 'Unknown name "negativePrompt"'),
        ({"personGeneration": "ALLOW_ALL"}, "not supported in Gemini API"),
        ({"aspectRatio": "7:3"}, "Unsupported aspect ratio"),
        ({"imageSize": "2K"}, "imageSize is not supported"),
        ({"imageOutputOptions": {"mimeType": "image/jpeg"}}, "not supported in Gemini API"),
        ({"prominentPeople": "BLOCK_PROMINENT_PEOPLE"}, "not supported in Gemini API"),
        ({"aspectRatio": "1:8"}, "Unsupported aspect ratio"),
    ],
)
async def test_fake_rejects_what_the_api_rejects(
    fake: FakeGemini, change: dict[str, str], fragment: str
) -> None:
    """The fake answers 400 INVALID_ARGUMENT for unknown, Vertex-only or unsupported imageConfig fields."""
    body = {
        "contents": [{"parts": [{"text": "x"}]}],
        "generationConfig": {
            "responseModalities": ["IMAGE"],
            "imageConfig": {"aspectRatio": "1:1", **change},
        },
    }
    url = f"{fake.base_url}/models/{DEFAULT_MODEL}:generateContent"
    async with httpx.AsyncClient(verify=TLS) as client:
        response = await client.post(url, json=body, headers={"x-goog-api-key": KEY})
    error = response.json()["error"]
    assert (response.status_code, error["status"]) == (400, "INVALID_ARGUMENT")
    assert fragment in error["message"]


async def _post_raw(fake: FakeGemini, model: str, body: dict[str, Any]) -> httpx.Response:
    url = f"{fake.base_url}/models/{model}:generateContent"
    async with httpx.AsyncClient(verify=TLS) as client:
        return await client.post(url, json=body, headers={"x-goog-api-key": KEY})


@pytest.mark.parametrize(
    "field",
    [
        {"responseLogprobs": False},
        {"responseJsonSchema": {"type": "object"}},
        {"enableEnhancedCivicAnswers": False},
    ],
)
async def test_fake_takes_every_generation_config_field_of_the_gemini_api(
    fake: FakeGemini, field: dict[str, Any]
) -> None:
    """generationConfig fields the SDK's Gemini-API converter sends are accepted (spec JSON), not 400."""
    body = {
        "contents": [{"parts": [{"text": "x"}]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"], **field},
    }
    response = await _post_raw(fake, DEFAULT_MODEL, body)
    assert response.status_code == 200, response.text


async def test_fake_takes_the_extended_sizes_on_gemini_3_1_flash_image(fake: FakeGemini) -> None:
    """gemini-3.1-flash-image takes aspect 1:8 and imageSize 512 (Google's enums), and serves that shape."""
    body = {
        "contents": [{"parts": [{"text": "x"}]}],
        "generationConfig": {
            "responseModalities": ["IMAGE"],
            "imageConfig": {"aspectRatio": "1:8", "imageSize": "512"},
        },
    }
    response = await _post_raw(fake, "gemini-3.1-flash-image-preview", body)
    assert response.status_code == 200, response.text
    width, height = image_size(fake.served[-1])
    assert height == 8 * width


async def test_fake_refuses_vertex_only_inline_data_fields(fake: FakeGemini) -> None:
    """inlineData.displayName is Vertex-only (the SDK refuses it for the Gemini API): 400."""
    part = {"inlineData": {"mimeType": "image/png", "data": b64(make_image(8, 8)), "displayName": "a.png"}}
    body = {"contents": [{"parts": [{"text": "x"}, part]}]}
    response = await _post_raw(fake, DEFAULT_MODEL, body)
    assert (
        response.status_code == 400 and "not supported in Gemini API" in response.json()["error"]["message"]
    )


# ------------------------------------------------------------------------------------- error envelope


def test_policy_wording_in_an_invalid_argument_is_refused() -> None:
    """An INVALID_ARGUMENT that reads as a safety block is Refused, not a bad request."""
    body = {"error": {"code": 400, "message": "Blocked by the safety system.", "status": "INVALID_ARGUMENT"}}
    with pytest.raises(Refused):
        raise_for_google(httpx.Response(400, json=body), provider="gemini")


@pytest.mark.parametrize(("value", "seconds"), [("1.5s", 1.5), ("0s", 0.0), ("soon", None)])
def test_retry_delay_reads_proto_durations(value: str, seconds: float | None) -> None:
    """RetryInfo.retryDelay is a proto Duration string such as "1.5s"."""
    details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": value}]
    assert retry_delay(details) == seconds
