"""openai-responses (Responses API image_generation tool) against the loopback Responses fake."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.core.errors import InvalidRequest, Misconfigured, RateLimited, Refused, Unavailable
from bot.core.ports import Provider
from bot.core.types import Aspect, Capabilities, GenerationKind, Image, ImageRequest
from bot.providers._http.client import make_client
from bot.providers.openai_responses import OpenAIResponsesProvider, create
from bot.providers.settings import ProviderSettings
from tests.fakes.providers.chat_image_base import animated_gif
from tests.fakes.providers.harness import Progress
from tests.fakes.providers.openai_images import make_image
from tests.fakes.providers.openai_responses import FakeOpenAIResponses, Kind

KEY = "sk-test-0123456789abcdef"
PNG_URL = "data:image/png;base64," + base64.b64encode(make_image(8, 8)).decode()
"""A valid reference image: a request refused with it is refused for something else."""
MakeProvider = Callable[..., OpenAIResponsesProvider]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAIResponses]:
    async with FakeOpenAIResponses(api_key=KEY) as server:
        yield server


@pytest.fixture
async def make_provider(fake: FakeOpenAIResponses) -> AsyncIterator[MakeProvider]:
    """Providers on clients made as the app makes them (closed after the test, as the app does)."""
    clients: list[httpx.AsyncClient] = []

    def build(**overrides: Any) -> OpenAIResponsesProvider:
        fields: dict[str, Any] = {"base_url": fake.base_url, "api_key": SecretStr(KEY)} | overrides
        settings = ProviderSettings(**fields)
        client = make_client(settings, default_timeout_s=5.0)
        clients.append(client)
        return create(settings, client=client)

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
def provider(make_provider: MakeProvider) -> OpenAIResponsesProvider:
    return make_provider()


async def generate(
    provider: OpenAIResponsesProvider, prompt: str = "a lighthouse", **fields: Any
) -> list[Image]:
    return await provider.generate(ImageRequest(prompt, **fields), on_progress=Progress())


def body(fake: FakeOpenAIResponses) -> dict[str, Any]:
    [request] = fake.requests
    assert isinstance(request.json, dict)
    return request.json


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


# --------------------------------------------------------------------------------------- capabilities


def test_implements_the_provider_protocol(provider: OpenAIResponsesProvider) -> None:
    """A Provider making one image per call, editing from up to 16 images, three GPT aspects."""
    assert isinstance(provider, Provider) and provider.name == "openai-responses"
    assert (provider.mainline_model, provider.image_model) == ("gpt-4.1", "gpt-image-1.5")
    assert provider.capabilities == Capabilities(
        edit=True,
        max_n=1,
        aspects=(Aspect(1, 1), Aspect(3, 2), Aspect(2, 3)),
        negative_prompt=False,
        seed=False,
        max_reference_images=16,
    )
    assert "gpt-image-2.5-flare" in provider.catalog and "gpt-image-1" not in provider.catalog


@pytest.mark.parametrize(
    ("model", "mainline", "image_model"),
    [("gpt-5", "gpt-5", "gpt-image-1.5"), ("gpt-image-1-mini", "gpt-4.1", "gpt-image-1-mini")],
)
def test_model_setting_names_either_model(
    make_provider: MakeProvider, model: str, mainline: str, image_model: str
) -> None:
    """providers.openai-responses.model sets the image model when it is gpt-image*, else the mainline one."""
    provider = make_provider(model=model)
    assert (provider.mainline_model, provider.image_model) == (mainline, image_model)


# ----------------------------------------------------------------------------------------- generation


async def test_generation_returns_the_served_bytes(
    fake: FakeOpenAIResponses, provider: OpenAIResponsesProvider
) -> None:
    """The call's base64 result decodes to the exact bytes served, with mime, size and revised prompt."""
    [image] = await generate(provider)
    assert image.data == fake.served[0]
    assert (image.mime, image.width, image.height) == ("image/png", 64, 64)
    assert (image.provider, image.model, image.seed) == ("openai-responses", "gpt-image-1.5", None)
    assert image.revised_prompt == "A revised prompt."


async def test_generation_request_shape(fake: FakeOpenAIResponses, provider: OpenAIResponsesProvider) -> None:
    """POST /responses with the Bearer key, the prompt as input_text and the forced image_generation tool."""
    await generate(provider, "a red fox", aspect=Aspect(2, 3), quality="high")
    [request] = fake.requests
    assert (request.method, request.path) == ("POST", "/v1/responses")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert body(fake) == {
        "model": "gpt-4.1",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "a red fox"}]}],
        "tools": [
            {"type": "image_generation", "model": "gpt-image-1.5", "size": "1024x1536", "quality": "high"}
        ],
        "tool_choice": {"type": "image_generation"},
    }


@pytest.mark.parametrize(("aspect", "size"), [(Aspect(1, 1), "1024x1024"), (Aspect(16, 9), "1536x1024")])
async def test_aspect_maps_to_a_tool_size(
    fake: FakeOpenAIResponses, provider: OpenAIResponsesProvider, aspect: Aspect, size: str
) -> None:
    """The aspect becomes the nearest size the image model takes."""
    await generate(provider, aspect=aspect)
    assert body(fake)["tools"][0]["size"] == size


async def test_request_model_switches_the_image_model(
    fake: FakeOpenAIResponses, provider: OpenAIResponsesProvider
) -> None:
    """--model gpt-image-2 goes into the tool; the mainline model stays."""
    [image] = await generate(provider, model="gpt-image-2")
    assert body(fake)["tools"][0]["model"] == "gpt-image-2" and body(fake)["model"] == "gpt-4.1"
    assert image.model == "gpt-image-2"


async def test_newer_image_model_gets_an_exact_tool_size(
    fake: FakeOpenAIResponses, provider: OpenAIResponsesProvider
) -> None:
    """gpt-image-2.5-sunburst takes any WxH in the tool too: 16:9 goes as 1536x864, accepted."""
    await generate(provider, model="gpt-image-2.5-sunburst", aspect=Aspect(16, 9))
    assert body(fake)["tools"][0]["size"] == "1536x864"


async def test_options_split_between_tool_and_body(
    fake: FakeOpenAIResponses, make_provider: MakeProvider
) -> None:
    """Tool fields in options go into the tool (output_format jpeg → JPEG); others into the body."""
    [image] = await generate(make_provider(options={"output_format": "jpeg", "store": False}))
    assert body(fake)["tools"][0]["output_format"] == "jpeg" and body(fake)["store"] is False
    assert image.mime == "image/jpeg" and image.data == fake.served[0]


# ---------------------------------------------------------------------------------------------- edits


async def test_edit_sends_input_images_and_mask(
    fake: FakeOpenAIResponses, provider: OpenAIResponsesProvider
) -> None:
    """EDIT: the instruction plus each reference as an input_image data URL; the mask in the tool."""
    reference, mask = make_image(16, 16, "jpeg"), make_image(16, 16, colour=(0, 0, 0))
    [image] = await generate(
        provider, "make it warmer", kind=GenerationKind.EDIT, reference_images=(reference,), mask=mask
    )
    [message] = body(fake)["input"]
    assert message["content"] == [
        {"type": "input_text", "text": "Edit the attached image: make it warmer"},
        {"type": "input_image", "image_url": data_url(reference, "image/jpeg"), "detail": "auto"},
    ]
    assert body(fake)["tools"][0]["input_image_mask"] == {"image_url": data_url(mask)}
    assert "previous_response_id" not in body(fake)
    assert image.data == fake.served[0]


async def test_animated_gif_reference_is_sent_as_png(
    fake: FakeOpenAIResponses, provider: OpenAIResponsesProvider
) -> None:
    """input_image takes non-animated GIF only: an animation goes as its first frame in PNG."""
    await generate(provider, "make it warmer", kind=GenerationKind.EDIT, reference_images=(animated_gif(),))
    image = body(fake)["input"][0]["content"][1]
    assert image["image_url"].startswith("data:image/png;base64,")


async def test_still_gif_reference_is_sent_as_it_is(
    fake: FakeOpenAIResponses, provider: OpenAIResponsesProvider
) -> None:
    """A one-frame GIF is a type input_image takes: sent byte for byte."""
    still = animated_gif(colours=((10, 20, 30),))
    await generate(provider, "make it warmer", kind=GenerationKind.EDIT, reference_images=(still,))
    assert body(fake)["input"][0]["content"][1]["image_url"] == data_url(still, "image/gif")


async def test_vary_asks_for_a_variation(
    fake: FakeOpenAIResponses, provider: OpenAIResponsesProvider
) -> None:
    """VARY sends the reference with a request for a variation of the source prompt."""
    await generate(
        provider,
        "a fox",
        kind=GenerationKind.VARY,
        reference_images=(make_image(8, 8),),
        source_prompt="a fox",
    )
    text = body(fake)["input"][0]["content"][0]["text"]
    assert "variation" in text and "a fox" in text


# ------------------------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("kind", "error", "said"),
    [
        ("failed_call", Refused, "declined to make this image"),
        ("refusal", Refused, "content policy"),
        ("content_filter", Refused, "content policy"),
        ("text", InvalidRequest, "which style"),
        ("max_output_tokens", InvalidRequest, "max_output_tokens"),
        ("failed", Unavailable, "unavailable"),
    ],
)
async def test_http_200_without_an_image_is_classified(
    fake: FakeOpenAIResponses,
    provider: OpenAIResponsesProvider,
    kind: Kind,
    error: type[Exception],
    said: str,
) -> None:
    """A 200 with no image: failed call, refusal part, content_filter → Refused; text → InvalidRequest."""
    fake.answer_next(kind)
    with pytest.raises(error) as info:
        await generate(provider)
    assert said in getattr(info.value, "user_message", "")


async def test_rate_limit_carries_retry_after_ms(
    fake: FakeOpenAIResponses, provider: OpenAIResponsesProvider
) -> None:
    """429 with retry-after-ms: 1500 → RateLimited(retry_after=1.5)."""
    fake.rate_limit_next(retry_after="9", retry_after_ms="1500")
    with pytest.raises(RateLimited) as info:
        await generate(provider)
    assert info.value.retry_after == 1.5 and "try again" in info.value.user_message


async def test_insufficient_quota_is_misconfigured(
    fake: FakeOpenAIResponses, provider: OpenAIResponsesProvider
) -> None:
    """429 insufficient_quota → Misconfigured."""
    fake.quota_next()
    with pytest.raises(Misconfigured, match="out of quota"):
        await generate(provider)


# ------------------------------------------------------------------------------------ settings, health


async def test_list_models_keeps_gpt_image_models(
    fake: FakeOpenAIResponses, provider: OpenAIResponsesProvider
) -> None:
    """list_models(): the GPT image models the key can use in the tool."""
    assert await provider.list_models() == ["gpt-image-1.5", "gpt-image-2"]


# ------------------------------------------------------------------------------------------- the fake


@pytest.mark.parametrize(
    "request_body",
    [
        {"model": "gpt-4.1", "input": "x", "tools": [{"type": "image_generation", "n": 2}]},
        {"model": "gpt-4.1", "input": "x", "tools": [{"type": "image_generation", "size": "1792x1024"}]},
        {"model": "gpt-4.1", "input": "x", "tools": [{"type": "image_generation", "quality": "hd"}]},
        {
            "model": "gpt-4.1",
            "input": [
                {
                    "role": "user",
                    "content": [{"type": "input_image", "image_url": "data:image/png;base64,AAAA"}],
                }
            ],
            "tools": [{"type": "image_generation"}],
        },
        {
            "model": "gpt-4.1",
            "input": [{"role": "user", "content": [{"type": "input_image", "image_url": PNG_URL}]}],
            "tools": [{"type": "image_generation"}],
        },
        {
            "model": "gpt-4.1",
            "input": "x",
            "tools": [{"type": "image_generation"}],
            "previous_response_id": "resp_nope",
        },
        {"input": "x", "tools": [{"type": "image_generation"}]},
    ],
)
async def test_fake_rejects_what_the_api_rejects(
    fake: FakeOpenAIResponses, request_body: dict[str, Any]
) -> None:
    """The fake answers 400 with the OpenAI envelope for bad tool fields, images, ids and missing fields."""
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{fake.base_url}/responses", json=request_body, headers={"Authorization": f"Bearer {KEY}"}
        )
    assert response.status_code == 400 and set(response.json()["error"]) == {
        "message",
        "type",
        "param",
        "code",
    }


async def test_fake_accepts_a_chained_previous_response(fake: FakeOpenAIResponses) -> None:
    """previous_response_id naming an earlier response is accepted (a chained edit)."""
    headers = {"Authorization": f"Bearer {KEY}"}
    first = {"model": "gpt-4.1", "input": "a fox", "tools": [{"type": "image_generation"}]}
    async with httpx.AsyncClient(headers=headers) as client:
        earlier = (await client.post(f"{fake.base_url}/responses", json=first)).json()
        chained = first | {"input": "make it blue", "previous_response_id": earlier["id"]}
        response = await client.post(f"{fake.base_url}/responses", json=chained)
    assert response.status_code == 200 and response.json()["previous_response_id"] == earlier["id"]


async def test_fake_validates_the_tool_against_the_openapi_schema(make_provider: MakeProvider) -> None:
    """The image_generation tool is checked against the vendored ImageGenTool schema (partial_images 0-3)."""
    provider = make_provider(options={"partial_images": 9})
    with pytest.raises(InvalidRequest, match="partial_images"):
        await generate(provider)
