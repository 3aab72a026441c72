"""imagen against the loopback Imagen fake: the :predict body, sizes, RAI-filtered answers, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.core.errors import InvalidRequest, Misconfigured, Refused
from bot.core.ports import Provider
from bot.core.types import Aspect, GenerationKind, Image, ImageRequest
from bot.providers.imagen import ImagenProvider, create
from tests.fakes.providers.harness import Progress, keyed_builder
from tests.fakes.providers.imagen import FakeImagen
from tests.fakes.providers.loopback import make_image

KEY = "AIza-imagen-test-0123456789"
MakeProvider = Callable[..., ImagenProvider]


@pytest.fixture
async def fake() -> AsyncIterator[FakeImagen]:
    async with FakeImagen(api_key=KEY) as server:
        yield server


@pytest.fixture
def make_provider(fake: FakeImagen, client: httpx.AsyncClient) -> MakeProvider:
    return keyed_builder(create, base_url=fake.base_url, key=KEY, client=client)


async def generate(provider: ImagenProvider, prompt: str = "a lighthouse", **fields: Any) -> list[Image]:
    return await provider.generate(ImageRequest(prompt, **fields), on_progress=Progress())


def test_capabilities_are_imagens(make_provider: MakeProvider) -> None:
    """Four images a call, Imagen's five ratios, no edits, seed or negative prompt on the Gemini API."""
    provider = make_provider()
    assert isinstance(provider, Provider)
    caps = provider.capabilities
    assert (caps.edit, caps.max_n, caps.seed, caps.negative_prompt) == (False, 4, False, False)
    assert caps.aspects is not None and set(caps.aspects) == {
        Aspect(1, 1), Aspect(3, 4), Aspect(4, 3), Aspect(9, 16), Aspect(16, 9)
    }  # fmt: skip


async def test_the_request_is_a_predict_call(fake: FakeImagen, make_provider: MakeProvider) -> None:
    """POST models/{model}:predict with the key header, one instance, sampleCount, aspectRatio and the
    RAI reason asked for; the seed and negative prompt are not sent (the Gemini API rejects them)."""
    images = await generate(make_provider(), n=3, aspect=Aspect(32, 18), seed=5, negative="fog")
    sent = fake.requests[-1]
    assert sent.path == "/v1beta/models/imagen-4.0-generate-001:predict"
    assert sent.headers["x-goog-api-key"] == KEY
    assert sent.json == {
        "instances": [{"prompt": "a lighthouse"}],
        "parameters": {"sampleCount": 3, "aspectRatio": "16:9", "includeRaiReason": True},
    }
    assert [i.data for i in images] == fake.served and (images[0].width, images[0].height) == (64, 36)


async def test_more_than_four_are_asked_for_as_four(fake: FakeImagen, make_provider: MakeProvider) -> None:
    """n above the API's limit of four is capped (the chain asks again for the rest)."""
    assert len(await generate(make_provider(), n=9)) == 4
    assert fake.requests[-1].json["parameters"]["sampleCount"] == 4


async def test_hd_asks_the_standard_model_for_2k(fake: FakeImagen, make_provider: MakeProvider) -> None:
    """--quality hd → sampleImageSize 2K on imagen-4.0-generate-001."""
    [image] = await generate(make_provider(), quality="hd")
    assert fake.requests[-1].json["parameters"]["sampleImageSize"] == "2K" and image.width == 128


async def test_hd_is_not_sent_to_a_model_without_sizes(fake: FakeImagen, make_provider: MakeProvider) -> None:
    """The Fast and Imagen 3 models take no sampleImageSize: it is left out for them."""
    await generate(make_provider(model="imagen-4.0-fast-generate-001"), quality="hd")
    assert "sampleImageSize" not in fake.requests[-1].json["parameters"]


async def test_all_images_filtered_is_refused_naming_the_reason(
    fake: FakeImagen, make_provider: MakeProvider
) -> None:
    """HTTP 200 whose predictions carry only raiFilteredReason → Refused with Google's reason."""
    fake.filter_next()
    with pytest.raises(Refused, match="usage guidelines") as info:
        await generate(make_provider())
    assert info.value.user_message == "The image service refused this prompt (content policy)."


async def test_an_empty_answer_is_refused(fake: FakeImagen, make_provider: MakeProvider) -> None:
    """HTTP 200 ``{}`` (everything filtered, no reason asked for) → Refused."""
    fake.filter_next()
    provider = make_provider(options={"parameters": {"includeRaiReason": False}})
    with pytest.raises(Refused, match="no predictions"):
        await generate(provider)


async def test_the_positive_prompt_entry_is_not_an_image(
    fake: FakeImagen, make_provider: MakeProvider
) -> None:
    """With safety attributes asked for, the "Positive Prompt" entry is skipped, not decoded."""
    provider = make_provider(options={"parameters": {"includeSafetyAttributes": True}})
    images = await generate(provider, n=2)
    assert [i.data for i in images] == fake.served


async def test_an_edit_is_refused_before_any_request(fake: FakeImagen, make_provider: MakeProvider) -> None:
    """Imagen on the Gemini API cannot edit: InvalidRequest saying so, nothing sent."""
    request = ImageRequest("warmer", kind=GenerationKind.EDIT, reference_images=(make_image(8, 8),))
    with pytest.raises(InvalidRequest, match="cannot edit"):
        await make_provider().generate(request, on_progress=Progress())
    assert fake.requests == []


async def test_a_vertex_only_option_is_rejected_by_the_api(make_provider: MakeProvider) -> None:
    """options adding a Vertex-only parameter (seed) get the API's 400 → InvalidRequest."""
    provider = make_provider(options={"parameters": {"seed": 3}})
    with pytest.raises(InvalidRequest, match="not supported in Gemini API"):
        await generate(provider)


async def test_an_unknown_model_is_misconfigured(make_provider: MakeProvider) -> None:
    """A model the API does not have → 404 NOT_FOUND → Misconfigured."""
    with pytest.raises(Misconfigured, match="NOT_FOUND"):
        await generate(make_provider(model="imagen-9"))


async def test_a_wrong_key_is_misconfigured(make_provider: MakeProvider) -> None:
    """400 API_KEY_INVALID → Misconfigured (the key), not InvalidRequest."""
    with pytest.raises(Misconfigured, match="API key was rejected"):
        await generate(make_provider(api_key=SecretStr("AIza-wrong-key-0000000")))


async def test_list_models_names_the_imagen_models(make_provider: MakeProvider) -> None:
    """list_models: the models that serve predict, without the models/ prefix."""
    assert "imagen-4.0-ultra-generate-001" in await make_provider().list_models()
