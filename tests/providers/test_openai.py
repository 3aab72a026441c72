"""openai (Images API, GPT image models) against the strict loopback OpenAI Images fake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.core.errors import InvalidRequest, Misconfigured, RateLimited, Refused, Unavailable
from bot.core.generation.fitting import fit_to_capabilities
from bot.core.imaging import sniff
from bot.core.ports import Provider
from bot.core.types import Aspect, Capabilities, GenerationKind, Image, ImageRequest
from bot.providers._http.client import make_client
from bot.providers.openai import OpenAIProvider, create
from bot.providers.settings import ProviderSettings
from tests.fakes.providers.chat_image_base import animated_gif
from tests.fakes.providers.harness import Progress
from tests.fakes.providers.openai_images import FakeOpenAIImages, make_image

KEY = "sk-test-0123456789abcdef"
MakeProvider = Callable[..., OpenAIProvider]
GPT_ASPECTS = (Aspect(1, 1), Aspect(3, 2), Aspect(2, 3))


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAIImages]:
    async with FakeOpenAIImages(api_key=KEY, strict=True, image_scale=1 / 16) as server:
        yield server


@pytest.fixture
async def make_provider(fake: FakeOpenAIImages) -> AsyncIterator[MakeProvider]:
    """Providers on clients made as the app makes them (closed after the test, as the app does)."""
    clients: list[httpx.AsyncClient] = []

    def build(**overrides: Any) -> OpenAIProvider:
        fields: dict[str, Any] = {"base_url": fake.base_url, "api_key": SecretStr(KEY)} | overrides
        settings = ProviderSettings(**fields)
        client = make_client(settings, default_timeout_s=5.0)
        clients.append(client)
        return create(settings, client=client)

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
def provider(make_provider: MakeProvider) -> OpenAIProvider:
    return make_provider()


async def generate(provider: OpenAIProvider, prompt: str = "a lighthouse", **fields: Any) -> list[Image]:
    return await provider.generate(ImageRequest(prompt, **fields), on_progress=Progress())


# --------------------------------------------------------------------------------------- capabilities


def test_implements_the_provider_protocol(provider: OpenAIProvider) -> None:
    """A Provider with the GPT image capabilities: edits, n up to 10, three aspects, no seed/negative."""
    assert isinstance(provider, Provider) and provider.name == "openai"
    assert provider.model == "gpt-image-1.5"
    assert provider.capabilities == Capabilities(
        edit=True, max_n=10, aspects=GPT_ASPECTS, negative_prompt=False, seed=False, max_reference_images=16
    )
    assert "gpt-image-2.5-sunburst" in provider.catalog and "dall-e-3" not in provider.catalog


def test_catalogue_leaves_out_gpt_image_1() -> None:
    """gpt-image-1 was shut down on 2026-10-23 (openai SDK 3.60): the catalogue no longer offers it."""
    assert "gpt-image-1" not in OpenAIProvider.catalog and "gpt-image-1.5" in OpenAIProvider.catalog


async def test_gpt_image_1_is_misconfigured(make_provider: MakeProvider) -> None:
    """A configured gpt-image-1 gets model_not_found from the fake, as from OpenAI: Misconfigured."""
    with pytest.raises(Misconfigured, match="model not found"):
        await generate(make_provider(model="gpt-image-1"))


def test_gpt_image_2_takes_many_aspects(make_provider: MakeProvider) -> None:
    """gpt-image-2 accepts any WxH, so it declares 16:9, 9:16, 21:9 ... as well."""
    aspects = make_provider(model="gpt-image-2").capabilities.aspects or ()
    assert {Aspect(16, 9), Aspect(9, 16), Aspect(21, 9), Aspect(1, 1)} <= set(aspects)


def test_chain_moves_16_9_to_3_2_and_says_so(provider: OpenAIProvider) -> None:
    """The chain fits 16:9 to the nearest declared aspect (3:2) and tells the user."""
    fitted, notes = fit_to_capabilities(ImageRequest("x", aspect=Aspect(16, 9)), provider)
    assert fitted.aspect == Aspect(3, 2) and notes == ["openai has no 16:9; used the nearest, 3:2."]


# ----------------------------------------------------------------------------------------- generation


async def test_generation_request_shape(fake: FakeOpenAIImages, provider: OpenAIProvider) -> None:
    """POST /images/generations, Bearer key, JSON with model, prompt, n, size and no response_format."""
    await generate(provider, "a red fox", n=3)
    [request] = fake.requests
    assert (request.method, request.path) == ("POST", "/v1/images/generations")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.json == {"model": "gpt-image-1.5", "prompt": "a red fox", "n": 3, "size": "1024x1024"}


@pytest.mark.parametrize(
    ("aspect", "size"),
    [
        (Aspect(1, 1), "1024x1024"),
        (Aspect(3, 2), "1536x1024"),
        (Aspect(2, 3), "1024x1536"),
        (Aspect(16, 9), "1536x1024"),
        (Aspect(9, 16), "1024x1536"),
    ],
)
async def test_aspect_maps_to_a_gpt_size(
    fake: FakeOpenAIImages, provider: OpenAIProvider, aspect: Aspect, size: str
) -> None:
    """Each aspect becomes the nearest of the three GPT sizes."""
    await generate(provider, aspect=aspect)
    assert fake.requests[0].json["size"] == size


async def test_gpt_image_2_gets_an_exact_size(fake: FakeOpenAIImages, make_provider: MakeProvider) -> None:
    """On gpt-image-2, 16:9 is sent as 1536x864 (sides multiples of 16) and accepted."""
    [image] = await generate(make_provider(model="gpt-image-2"), aspect=Aspect(16, 9))
    assert fake.requests[0].json["size"] == "1536x864" and (image.width, image.height) == (96, 54)


@pytest.mark.parametrize(
    "model",
    [
        "gpt-image-2.5-sunburst",
        "gpt-image-2.5-flare",
        "gpt-image-2.5-sunburst-2026-09-08",
        "gpt-image-2.5-flare-2026-09-08",
    ],
)
@pytest.mark.parametrize(
    ("aspect", "size"),
    [(Aspect(16, 9), "1536x864"), (Aspect(9, 21), "656x1536"), (Aspect(1, 3), "512x1536")],
)
async def test_newer_gpt_image_models_get_an_exact_size(
    fake: FakeOpenAIImages, make_provider: MakeProvider, model: str, aspect: Aspect, size: str
) -> None:
    """gpt-image-2.5-* take any WxH too (SDK 3.60): the aspect goes as an exact size, accepted."""
    provider = make_provider(model=model)
    assert aspect in (provider.capabilities.aspects or ())
    await generate(provider, aspect=aspect)
    assert fake.requests[0].json["size"] == size


async def test_gpt_image_2_6_keeps_the_standard_sizes(
    fake: FakeOpenAIImages, make_provider: MakeProvider
) -> None:
    """gpt-image-2.6-* are not among the SDK's free-size models: 16:9 goes as 1536x1024."""
    await generate(make_provider(model="gpt-image-2.6-sunburst"), aspect=Aspect(16, 9))
    assert fake.requests[0].json["size"] == "1536x1024"


@pytest.mark.parametrize(
    ("model", "size"),
    [
        ("gpt-image-1.5", "1536x864"),
        ("gpt-image-2.6-flare", "1536x864"),
        ("gpt-image-2.5-flare", "1536x860"),
        ("gpt-image-2.5-flare", "3840x1024"),
        ("gpt-image-2.5-flare", "3840x2176"),
    ],
)
async def test_fake_enforces_the_size_rules(fake: FakeOpenAIImages, model: str, size: str) -> None:
    """The fake rejects a WxH for a standard-size model, sides not in 16s, beyond 3:1 or 3840x2160."""
    async with httpx.AsyncClient() as client:
        response = await client.post(
            fake.base_url + "/images/generations",
            headers={"Authorization": f"Bearer {KEY}"},
            json={"model": model, "prompt": "p", "size": size},
        )
    assert response.status_code == 400 and response.json()["error"]["param"] == "size"


@pytest.mark.parametrize(
    ("quality", "sent"), [("high", "high"), ("low", "low"), ("hd", "high"), ("standard", "medium")]
)
async def test_quality_is_translated(
    fake: FakeOpenAIImages, provider: OpenAIProvider, quality: str, sent: str
) -> None:
    """Easel's quality words become the GPT ones (hd → high, standard → medium)."""
    await generate(provider, quality=quality)
    assert fake.requests[0].json["quality"] == sent


async def test_the_chats_moderation_level_is_sent_to_gpt_image_models(
    fake: FakeOpenAIImages, provider: OpenAIProvider
) -> None:
    """moderation "low" (content policy off) reaches a GPT image generation, as the spec allows."""
    await generate(provider, moderation="low")
    assert fake.requests[0].json["moderation"] == "low"


async def test_request_model_overrides_the_configured_one(
    fake: FakeOpenAIImages, provider: OpenAIProvider
) -> None:
    """--model wins over providers.openai.model and is reported on the image."""
    [image] = await generate(provider, model="gpt-image-1-mini")
    assert fake.requests[0].json["model"] == "gpt-image-1-mini" and image.model == "gpt-image-1-mini"


async def test_options_pass_through_without_response_format(
    fake: FakeOpenAIImages, make_provider: MakeProvider
) -> None:
    """options reach the body (output_format jpeg → a JPEG); response_format, rejected by GPT, is dropped."""
    options = {"output_format": "jpeg", "moderation": "low", "response_format": "url"}
    [image] = await generate(make_provider(options=options))
    body = fake.requests[0].json
    assert (body["output_format"], body["moderation"]) == ("jpeg", "low") and "response_format" not in body
    assert image.mime == "image/jpeg" and image.data == fake.served[0]


async def test_revised_prompt_is_kept(fake: FakeOpenAIImages, provider: OpenAIProvider) -> None:
    """A revised_prompt in data[] is carried on the Image."""
    fake.revised_prompt = "a lighthouse at dusk"
    [image] = await generate(provider)
    assert image.revised_prompt == "a lighthouse at dusk"


async def test_legacy_dall_e_3_gets_its_own_rules(
    fake: FakeOpenAIImages, make_provider: MakeProvider
) -> None:
    """Where dall-e-3 still answers (a proxy): its sizes, n=1, quality hd and response_format b64_json."""
    fake.retired_models = ()
    await generate(make_provider(model="dall-e-3"), aspect=Aspect(16, 9), quality="high", n=3)
    body = fake.requests[0].json
    assert (body["size"], body["n"], body["quality"], body["response_format"]) == (
        "1792x1024",
        1,
        "hd",
        "b64_json",
    )


# ---------------------------------------------------------------------------------------------- edits


async def test_edit_sends_image_array_and_mask(fake: FakeOpenAIImages, provider: OpenAIProvider) -> None:
    """EDIT → multipart /images/edits: each reference as image[], the mask, prompt, model, n, size."""
    first, second, mask = make_image(32, 32), make_image(32, 32, "webp"), make_image(32, 32, colour=(0, 0, 0))
    [image] = await generate(
        provider, "add a moon", kind=GenerationKind.EDIT, reference_images=(first, second), mask=mask
    )
    [request] = fake.requests
    assert request.path == "/v1/images/edits"
    assert [(p.data, p.content_type) for p in request.files("image[]")] == [
        (first, "image/png"),
        (second, "image/webp"),
    ]
    assert request.files("mask")[0].data == mask
    fields = {name: request.field(name) for name in ("prompt", "model", "n", "size", "response_format")}
    assert fields == {
        "prompt": "Edit the attached image: add a moon",
        "model": "gpt-image-1.5",
        "n": "1",
        "size": "1024x1024",
        "response_format": None,
    }
    assert image.data == fake.served[0]


async def test_gif_reference_is_sent_as_png(fake: FakeOpenAIImages, provider: OpenAIProvider) -> None:
    """/images/edits takes png/webp/jpg only: an animated GIF reference goes as its first frame in PNG."""
    await generate(provider, "add a moon", kind=GenerationKind.EDIT, reference_images=(animated_gif(),))
    [part] = fake.requests[0].files("image[]")
    assert (part.content_type, sniff(part.data), part.filename) == ("image/png", "image/png", "image-1.png")


async def test_fake_rejects_a_gif_as_openai_does(fake: FakeOpenAIImages) -> None:
    """The fake answers a GIF part with OpenAI's 400 unsupported_file_mimetype."""
    async with httpx.AsyncClient() as client:
        response = await client.post(
            fake.base_url + "/images/edits",
            headers={"Authorization": f"Bearer {KEY}"},
            data={"prompt": "p", "model": "gpt-image-1.5"},
            files=[("image[]", ("a.gif", animated_gif(), "image/gif"))],
        )
    error = response.json()["error"]
    assert response.status_code == 400 and (error["code"], error["param"]) == (
        "unsupported_file_mimetype",
        "image[0]",
    )
    assert error["message"].startswith("Invalid file 'image[0]': unsupported mimetype ('image/gif').")


async def test_vary_asks_for_a_variation(fake: FakeOpenAIImages, provider: OpenAIProvider) -> None:
    """VARY is an edit of the reference whose prompt asks for a variation of the source prompt."""
    await generate(
        provider,
        "a lighthouse",
        kind=GenerationKind.VARY,
        reference_images=(make_image(8, 8),),
        source_prompt="a lighthouse",
    )
    prompt = fake.requests[0].field("prompt") or ""
    assert fake.requests[0].path == "/v1/images/edits" and "variation" in prompt and "a lighthouse" in prompt


# ------------------------------------------------------------------------------------------- failures


@pytest.mark.parametrize("code", ["moderation_blocked", "content_policy_violation"])
async def test_content_policy_is_refused(fake: FakeOpenAIImages, provider: OpenAIProvider, code: str) -> None:
    """The GPT-image and dall-e refusal envelopes → Refused with the friendly text."""
    fake.refuse_next(code)
    with pytest.raises(Refused) as info:
        await generate(provider)
    assert info.value.user_message == "The image service refused this prompt (content policy)."


async def test_retry_after_ms_wins(fake: FakeOpenAIImages, provider: OpenAIProvider) -> None:
    """retry-after-ms is read before Retry-After."""
    fake.rate_limit_next(retry_after="7", retry_after_ms="1500")
    with pytest.raises(RateLimited) as info:
        await generate(provider)
    assert info.value.retry_after == 1.5


async def test_insufficient_quota_is_misconfigured(fake: FakeOpenAIImages, provider: OpenAIProvider) -> None:
    """429 insufficient_quota will not pass by waiting: Misconfigured, telling an admin."""
    fake.quota_next()
    with pytest.raises(Misconfigured) as info:
        await generate(provider)
    assert "out of credit or quota" in info.value.user_message


async def test_dropped_connection_is_unavailable(fake: FakeOpenAIImages, provider: OpenAIProvider) -> None:
    """The server hangs up without answering → Unavailable."""
    fake.drop_next()
    with pytest.raises(Unavailable, match="connection dropped"):
        await generate(provider)


async def test_retired_model_is_misconfigured(fake: FakeOpenAIImages, make_provider: MakeProvider) -> None:
    """dall-e-3 is shut down: model_not_found → Misconfigured naming the setting."""
    with pytest.raises(Misconfigured, match="model not found") as info:
        await generate(make_provider(model="dall-e-3"))
    assert "providers.openai.model" in info.value.user_message


async def test_expired_result_url_is_unavailable(fake: FakeOpenAIImages, make_provider: MakeProvider) -> None:
    """A URL result (dall-e through a proxy) that has expired (403) → Unavailable, not a config error."""
    fake.retired_models, fake.response_format = (), "url"
    fake.expire_next_download(403)
    with pytest.raises(Unavailable) as info:
        await generate(make_provider(model="dall-e-2"))
    assert "link expired" in info.value.user_message and len(fake.downloads) == 1


# ------------------------------------------------------------------------------------ settings, health


async def test_base_url_list_is_misconfigured() -> None:
    """openai talks to one base URL; a list is a configuration mistake."""
    async with httpx.AsyncClient() as client:
        with pytest.raises(Misconfigured, match="one URL"):
            create(
                ProviderSettings(api_key=SecretStr(KEY), base_url=["http://a/v1", "http://b/v1"]),
                client=client,
            )


async def test_default_base_url_is_openai() -> None:
    """Without base_url the provider talks to https://api.openai.com/v1."""
    async with httpx.AsyncClient() as client:
        provider = create(ProviderSettings(api_key=SecretStr(KEY)), client=client)
    assert provider.base_url == "https://api.openai.com/v1"


async def test_check_is_ok_against_the_fake(fake: FakeOpenAIImages, provider: OpenAIProvider) -> None:
    """check(): GET /models with the key answers → ok."""
    health = await provider.check()
    assert health.ok and fake.requests[0].path == "/v1/models"


async def test_list_models_keeps_image_models(fake: FakeOpenAIImages, provider: OpenAIProvider) -> None:
    """list_models(): GET /models filtered to gpt-image*, chatgpt-image* and dall-e*."""
    fake.models = ("gpt-4.1", "gpt-image-1.5", "whisper-1", "dall-e-3", "chatgpt-image-latest")
    assert await provider.list_models() == ["chatgpt-image-latest", "dall-e-3", "gpt-image-1.5"]


# ------------------------------------------------------------------------------------------- the fake


# --------------------------------------------------------------------------- the vendored OpenAPI schema


async def test_fake_validates_generations_against_the_openapi_schema(
    fake: FakeOpenAIImages, make_provider: MakeProvider
) -> None:
    """A value the OpenAPI schema forbids (partial_images 5; the schema says 0-3) is a 400 there."""
    provider = make_provider(options={"partial_images": 5})
    with pytest.raises(InvalidRequest, match="partial_images"):
        await generate(provider)


async def test_fake_validates_edit_forms_against_the_openapi_schema(fake: FakeOpenAIImages) -> None:
    """Form fields are typed by the schema: stream "maybe" is not a boolean, so the edit is refused."""
    async with httpx.AsyncClient() as client:
        response = await client.post(
            fake.base_url + "/images/edits",
            headers={"Authorization": f"Bearer {KEY}"},
            data={"prompt": "p", "model": "gpt-image-1.5", "stream": "maybe"},
            files=[("image[]", ("a.png", make_image(8, 8), "image/png"))],
        )
    error = response.json()["error"]
    assert response.status_code == 400 and (error["param"], error["code"]) == ("stream", "invalid_type")


async def test_fake_takes_what_the_schema_allows(fake: FakeOpenAIImages, make_provider: MakeProvider) -> None:
    """Nullable fields and enums pass: quality null, moderation low, output_format webp."""
    provider = make_provider(options={"moderation": "low", "output_format": "webp", "quality": None})
    [image] = await generate(provider)
    assert image.mime == "image/webp"
