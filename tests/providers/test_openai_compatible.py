"""openai-compatible against the loopback OpenAI Images fake: shapes, errors, backends, health."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.core.errors import InvalidRequest, Misconfigured, Refused, Unavailable
from bot.core.imaging import sniff
from bot.core.ports import Provider
from bot.core.types import Aspect, Capabilities, GenerationKind, Image, ImageRequest
from bot.providers._http.client import make_client
from bot.providers.openai_compatible import OpenAICompatibleProvider, create
from bot.providers.settings import ProviderSettings
from tests.fakes.providers.chat_image_base import animated_gif
from tests.fakes.providers.harness import Progress, dead_url
from tests.fakes.providers.openai_images import FakeOpenAIImages, make_image

KEY = "sk-test-0123456789abcdef"
MakeProvider = Callable[..., OpenAICompatibleProvider]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAIImages]:
    async with FakeOpenAIImages(api_key=KEY) as server:
        yield server


@pytest.fixture
async def make_provider(fake: FakeOpenAIImages) -> AsyncIterator[MakeProvider]:
    """Build providers (default: the fake's URL, the right key, model gpt-image-1), each on a client made
    the way the app makes it; the clients are closed after the test, as the app closes them."""
    clients: list[httpx.AsyncClient] = []

    def build(**overrides: Any) -> OpenAICompatibleProvider:
        fields: dict[str, Any] = {
            "base_url": fake.base_url,
            "api_key": SecretStr(KEY),
            "model": "gpt-image-1",
        }
        fields.update(overrides)
        transport = fields.pop("transport", None)
        settings = ProviderSettings(**fields)
        client = make_client(settings, default_timeout_s=5.0, transport=transport)
        clients.append(client)
        return create(settings, client=client)

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
def provider(make_provider: MakeProvider) -> OpenAICompatibleProvider:
    return make_provider()


async def generate(
    provider: OpenAICompatibleProvider, prompt: str = "a lighthouse", **fields: Any
) -> list[Image]:
    return await provider.generate(ImageRequest(prompt, **fields), on_progress=Progress())


# ----------------------------------------------------------------------------------------- generation


def test_implements_the_provider_protocol(provider: OpenAICompatibleProvider) -> None:
    """The provider satisfies bot.core.ports.Provider and declares its capabilities."""
    assert isinstance(provider, Provider)
    assert provider.name == "openai-compatible"
    assert provider.capabilities == Capabilities(
        edit=True, max_n=4, aspects=None, negative_prompt=False, seed=False, max_reference_images=1
    )


async def test_generation_returns_decoded_images(provider: OpenAICompatibleProvider) -> None:
    """b64_json results are decoded into PNG images with their real size, provider and model."""
    images = await generate(provider, n=2)
    assert len(images) == 2
    for image in images:
        assert image.data.startswith(b"\x89PNG")
        assert (image.mime, image.width, image.height) == ("image/png", 1024, 1024)
        assert (image.provider, image.model) == ("openai-compatible", "gpt-image-1")


async def test_mime_is_sniffed_from_the_bytes(
    fake: FakeOpenAIImages, provider: OpenAICompatibleProvider
) -> None:
    """A server that answers JPEG gives image/jpeg, whatever the field is called."""
    fake.output_format = "jpeg"
    [image] = await generate(provider)
    assert image.mime == "image/jpeg" and image.data.startswith(b"\xff\xd8\xff")


async def test_generation_request_shape(fake: FakeOpenAIImages, provider: OpenAICompatibleProvider) -> None:
    """POST /images/generations with JSON prompt, model, n, size and response_format b64_json."""
    await generate(provider, "a red fox", n=3)
    [request] = fake.requests
    assert (request.method, request.path) == ("POST", "/v1/images/generations")
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "prompt": "a red fox",
        "model": "gpt-image-1",
        "n": 3,
        "size": "1024x1024",
        "response_format": "b64_json",
    }


async def test_request_model_overrides_the_configured_one(
    fake: FakeOpenAIImages, provider: OpenAICompatibleProvider
) -> None:
    """--model on the request wins over providers.openai-compatible.model."""
    [image] = await generate(provider, model="flux-schnell")
    assert fake.requests[0].json["model"] == "flux-schnell" and image.model == "flux-schnell"


async def test_model_is_omitted_when_none_is_configured(
    fake: FakeOpenAIImages, make_provider: MakeProvider
) -> None:
    """A local server with one model needs no model field."""
    await generate(make_provider(model=None))
    assert "model" not in fake.requests[0].json


async def test_revised_prompt_is_kept(fake: FakeOpenAIImages, provider: OpenAICompatibleProvider) -> None:
    """A revised_prompt in the result is carried on the Image."""
    fake.revised_prompt = "a lighthouse at dusk, oil painting"
    [image] = await generate(provider)
    assert image.revised_prompt == "a lighthouse at dusk, oil painting"


async def test_url_results_are_downloaded_at_once(
    fake: FakeOpenAIImages, provider: OpenAICompatibleProvider
) -> None:
    """A server answering with url entries: each is fetched with the same client."""
    fake.response_format = "url"
    images = await generate(provider, n=2)
    assert [image.mime for image in images] == ["image/png", "image/png"]
    assert len(fake.downloads) == 2 and all(d.path.startswith("/files/") for d in fake.downloads)


async def test_key_is_not_sent_to_a_foreign_download_host(make_provider: MakeProvider) -> None:
    """Result URLs on another origin (a CDN) are fetched without our Authorization header."""
    seen: dict[str, httpx.Headers] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[request.url.host] = request.headers
        if request.url.host == "cdn.example":
            return httpx.Response(200, content=make_image(16, 8))
        return httpx.Response(
            200, json={"created": 1, "data": [{"url": "https://cdn.example/x.png?sig=s3cr3t"}]}
        )

    provider = make_provider(base_url="http://10.0.0.7/v1", transport=httpx.MockTransport(handler))
    [image] = await generate(provider)
    assert (image.width, image.height) == (16, 8)
    assert seen["10.0.0.7"]["authorization"] == f"Bearer {KEY}"
    assert "authorization" not in seen["cdn.example"]


async def test_remote_server_cannot_point_downloads_at_private_addresses(make_provider: MakeProvider) -> None:
    """A server on a public address handing out a loopback URL: not fetched (SSRF guard), Unavailable."""
    fetched: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        return httpx.Response(200, json={"created": 1, "data": [{"url": "http://127.0.0.1:9/secret.png"}]})

    provider = make_provider(base_url="http://93.184.216.34/v1", transport=httpx.MockTransport(handler))
    with pytest.raises(Unavailable, match="private address"):
        await generate(provider)
    assert fetched == ["http://93.184.216.34/v1/images/generations"]


@pytest.mark.parametrize("status", [403, 404])
async def test_expired_result_url_is_unavailable(
    fake: FakeOpenAIImages, provider: OpenAICompatibleProvider, status: int
) -> None:
    """A result URL that has expired (403/404) → Unavailable with a try-again message."""
    fake.response_format = "url"
    fake.expire_next_download(status)
    with pytest.raises(Unavailable, match=f"answered {status}") as info:
        await generate(provider)
    assert "link expired" in info.value.user_message


async def test_downloaded_bytes_are_the_served_ones(
    fake: FakeOpenAIImages, provider: OpenAICompatibleProvider
) -> None:
    """URL results are byte-identical to what the server stored."""
    fake.response_format = "url"
    images = await generate(provider, n=2)
    assert [image.data for image in images] == fake.served


async def test_data_url_results_are_decoded(make_provider: MakeProvider) -> None:
    """b64_json with a data: prefix (OpenRouter style) is accepted."""
    b64 = base64.b64encode(make_image(8, 8)).decode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"created": 1, "data": [{"b64_json": f"data:image/png;base64,{b64}"}]}
        )

    provider = make_provider(base_url="http://server.local/v1", transport=httpx.MockTransport(handler))
    [image] = await generate(provider)
    assert (image.mime, image.width) == ("image/png", 8)


async def test_non_image_bytes_are_unavailable(make_provider: MakeProvider) -> None:
    """A result that is not an image is a broken backend (transient), not a crash."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [{"b64_json": base64.b64encode(b"hello").decode()}]})

    provider = make_provider(base_url="http://server.local/v1", transport=httpx.MockTransport(handler))
    with pytest.raises(Unavailable, match="not an image"):
        await generate(provider)


# ---------------------------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("aspect", "size"),
    [(Aspect(1, 1), "1024x1024"), (Aspect(16, 9), "1024x576"), (Aspect(2, 3), "704x1024")],
)
async def test_aspect_maps_to_a_size(
    fake: FakeOpenAIImages, provider: OpenAICompatibleProvider, aspect: Aspect, size: str
) -> None:
    """The aspect becomes WxH with a 1024 long side, both multiples of 64."""
    fake.allowed_sizes = (size,)
    [image] = await generate(provider, aspect=aspect)
    assert fake.requests[0].json["size"] == size
    assert f"{image.width}x{image.height}" == size


async def test_size_the_server_rejects_is_invalid_request(provider: OpenAICompatibleProvider) -> None:
    """OpenAI's standard sizes have no 16:9: its 400 about size is InvalidRequest, shown to the user."""
    with pytest.raises(InvalidRequest) as info:
        await generate(provider, aspect=Aspect(16, 9))
    assert "1024x576" in str(info.value) and "Supported values" in info.value.user_message


# ---------------------------------------------------------------------------------------------- edits


async def test_edit_sends_multipart_with_the_image(
    fake: FakeOpenAIImages, provider: OpenAICompatibleProvider
) -> None:
    """EDIT with a reference → POST /images/edits as multipart with image, prompt, model, n, size."""
    reference = make_image(32, 32)
    [image] = await generate(
        provider, "make it warmer", kind=GenerationKind.EDIT, reference_images=(reference,)
    )
    [request] = fake.requests
    assert request.path == "/v1/images/edits"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    [part] = request.files("image")
    assert (part.data, part.content_type, part.filename) == (reference, "image/png", "image.png")
    fields = {name: request.field(name) for name in ("prompt", "model", "n", "size", "response_format")}
    assert fields == {
        "prompt": "make it warmer",
        "model": "gpt-image-1",
        "n": "1",
        "size": "1024x1024",
        "response_format": "b64_json",
    }
    assert image.mime == "image/png"


async def test_gif_reference_is_sent_as_png(
    fake: FakeOpenAIImages, provider: OpenAICompatibleProvider
) -> None:
    """An OpenAI-style edits endpoint takes png/webp/jpg: a GIF goes as its first frame in PNG."""
    await generate(provider, "make it warmer", kind=GenerationKind.EDIT, reference_images=(animated_gif(),))
    [part] = fake.requests[0].files("image")
    assert (part.content_type, sniff(part.data)) == ("image/png", "image/png")


async def test_edit_sends_the_mask(fake: FakeOpenAIImages, provider: OpenAICompatibleProvider) -> None:
    """A mask goes along as its own file part."""
    reference, mask = make_image(32, 32), make_image(32, 32, colour=(0, 0, 0))
    await generate(provider, "add a moon", kind=GenerationKind.EDIT, reference_images=(reference,), mask=mask)
    [part] = fake.requests[0].files("mask")
    assert part.data == mask


async def test_vary_uses_the_edits_endpoint(
    fake: FakeOpenAIImages, provider: OpenAICompatibleProvider
) -> None:
    """VARY of a reference image is an edit with the source prompt."""
    await generate(provider, "a lighthouse", kind=GenerationKind.VARY, reference_images=(make_image(8, 8),))
    assert fake.requests[0].path == "/v1/images/edits"


# ----------------------------------------------------------------------------------------------- auth


async def test_bearer_header_is_sent_with_a_key(
    fake: FakeOpenAIImages, provider: OpenAICompatibleProvider
) -> None:
    """With api_key set, requests carry Authorization: Bearer <key>."""
    await generate(provider)
    assert fake.requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_no_authorization_header_without_a_key(make_provider: MakeProvider) -> None:
    """Without api_key, no Authorization header is sent at all."""
    async with FakeOpenAIImages() as open_fake:
        await generate(make_provider(base_url=open_fake.base_url, api_key=None))
        assert "authorization" not in open_fake.requests[0].headers


# ------------------------------------------------------------------------------------------- failures


@pytest.mark.parametrize("code", ["moderation_blocked", "content_policy_violation"])
async def test_content_policy_is_refused(
    fake: FakeOpenAIImages, provider: OpenAICompatibleProvider, code: str
) -> None:
    """The GPT-image and dall-e refusal envelopes → Refused with the friendly text."""
    fake.refuse_next(code)
    with pytest.raises(Refused) as info:
        await generate(provider)
    assert info.value.user_message == "The image service refused this prompt (content policy)."


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"created": 1}, InvalidRequest),
        ({"data": [{"respect_moderation": False}]}, Refused),
        ({"error": {"message": "rejected by the safety system", "code": "moderation_blocked"}}, Refused),
        ({"error": {"message": "bad field", "code": None}}, InvalidRequest),
    ],
)
async def test_http_200_without_images_is_classified(
    make_provider: MakeProvider, body: dict[str, Any], error: type[Exception]
) -> None:
    """Missing data, moderated items and error envelopes inside a 200 are not successes."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    with pytest.raises(error):
        await generate(make_provider(base_url="http://server.local/v1", transport=transport))


async def test_non_json_200_is_unavailable(make_provider: MakeProvider) -> None:
    """A 200 that is not JSON comes from something broken in between: Unavailable."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>proxy</html>"))
    with pytest.raises(Unavailable, match="not JSON"):
        await generate(make_provider(base_url="http://server.local/v1", transport=transport))


async def test_insufficient_quota_is_misconfigured(
    fake: FakeOpenAIImages, provider: OpenAICompatibleProvider
) -> None:
    """429 insufficient_quota → Misconfigured (waiting will not help)."""
    fake.quota_next()
    with pytest.raises(Misconfigured) as info:
        await generate(provider)
    assert "out of credit or quota" in info.value.user_message


async def test_dropped_connection_is_unavailable(
    fake: FakeOpenAIImages, provider: OpenAICompatibleProvider
) -> None:
    """The server hangs up without answering → Unavailable."""
    fake.drop_next()
    with pytest.raises(Unavailable, match="connection dropped"):
        await generate(provider)


# ------------------------------------------------------------------------------ backends and settings


async def test_max_concurrency_is_per_backend(make_provider: MakeProvider) -> None:
    """max_concurrency sets the pool's per-backend cap (default 1 for a local server)."""
    assert make_provider().pool.max_per_backend == 1
    assert make_provider(max_concurrency=3).pool.max_per_backend == 3


async def test_check_reports_every_backend(fake: FakeOpenAIImages, make_provider: MakeProvider) -> None:
    """check(): GET /models on each backend; ok when any is up; detail names each one."""
    dead = dead_url("/v1")
    health = await make_provider(base_url=[fake.base_url, dead]).check()
    assert health.ok
    assert health.detail == f"{fake.base_url}: ok; {dead}: connection refused"
    assert fake.requests[0].path == "/v1/models"


async def test_list_models_lists_what_the_server_has(
    fake: FakeOpenAIImages, provider: OpenAICompatibleProvider
) -> None:
    """list_models(): every id GET /models returns (a local server lists only its own)."""
    fake.models = ("sdxl-turbo", "flux-schnell")
    assert await provider.list_models() == ["flux-schnell", "sdxl-turbo"]


@pytest.mark.parametrize("base_url", [None, "localhost:8080/v1", "ftp://host/v1"])
async def test_unusable_base_url_is_misconfigured(base_url: str | None) -> None:
    """No base_url, or one that is not http(s), is refused at construction."""
    async with httpx.AsyncClient() as client:
        with pytest.raises(Misconfigured):
            create(ProviderSettings(base_url=base_url, api_key=SecretStr(KEY)), client=client)
