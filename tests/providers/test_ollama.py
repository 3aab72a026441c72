"""ollama against the loopback Ollama fake: versions with and without image generation, the streamed
progress, the /api/generate body, edits on FLUX.2 models, errors."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from bot.core.errors import InvalidRequest, Misconfigured, Unavailable
from bot.core.imaging import sniff
from bot.core.types import Aspect, GenerationKind, Image, ImageRequest
from bot.providers.ollama import OllamaProvider, create, parse_version
from bot.providers.settings import ProviderSettings
from tests.fakes.providers.chat_image_base import animated_gif
from tests.fakes.providers.harness import Progress
from tests.fakes.providers.loopback import make_image
from tests.fakes.providers.ollama import FakeOllama

MakeProvider = Callable[..., OllamaProvider]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with FakeOllama(version="0.20.0") as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield http


@pytest.fixture
def make_provider(fake: FakeOllama, client: httpx.AsyncClient) -> MakeProvider:
    def build(**overrides: Any) -> OllamaProvider:
        return create(ProviderSettings(**({"base_url": fake.base_url} | overrides)), client=client)

    return build


async def generate(
    provider: OllamaProvider, request: ImageRequest, progress: Progress | None = None
) -> Image:
    [image] = await provider.generate(request, on_progress=progress or Progress())
    return image


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.20.1", (0, 20, 1)), ("0.32.6-rc0", (0, 32, 6)), ("v0.14.3", (0, 14, 3)), ("dev", None)],
)
def test_versions_are_read(text: str, expected: tuple[int, int, int] | None) -> None:
    """Release, pre-release and v-prefixed versions parse; anything else is None."""
    assert parse_version(text) == expected


async def test_the_request_is_api_generate_with_top_level_sizes(
    fake: FakeOllama, make_provider: MakeProvider
) -> None:
    """width/height/stream at the top level (not in options), the seed in options.seed."""
    image = await generate(make_provider(), ImageRequest("a lighthouse", aspect=Aspect(16, 9), seed=42))
    sent = fake.requests[-1]
    assert [r.path for r in fake.requests] == ["/api/version", "/api/generate"]
    assert sent.json == {
        "model": "x/z-image-turbo", "prompt": "a lighthouse", "width": 1024, "height": 576,
        "stream": True, "options": {"seed": 42},
    }  # fmt: skip
    assert image.data == fake.served[-1] and image.seed == 42 and image.mime == "image/png"


async def test_progress_follows_the_streamed_steps(fake: FakeOllama, make_provider: MakeProvider) -> None:
    """completed/total lines become rising fractions below 1, then 1.0 at the end."""
    progress = Progress()
    await generate(make_provider(), ImageRequest("a lighthouse"), progress)
    assert progress.calls == [0.25, 0.5, 0.75, 0.99, 1.0]


async def test_the_version_is_asked_once_per_server(fake: FakeOllama, make_provider: MakeProvider) -> None:
    """Two generations: /api/version once."""
    provider = make_provider()
    await generate(provider, ImageRequest("one"))
    await generate(provider, ImageRequest("two"))
    assert [r.path for r in fake.requests].count("/api/version") == 1


@pytest.mark.parametrize(
    ("version", "says"), [("0.32.6", "removed in 0.32.6"), ("0.14.2", "added in 0.14.3")]
)
async def test_a_version_without_image_generation_is_misconfigured(
    fake: FakeOllama, make_provider: MakeProvider, version: str, says: str
) -> None:
    """Before 0.14.3 and from 0.32.6 on: Misconfigured naming the version, /api/generate not called."""
    fake.version = version
    with pytest.raises(Misconfigured, match=says) as info:
        await generate(make_provider(), ImageRequest("a lighthouse"))
    assert version in info.value.user_message and "0.14.3 to 0.32.5" in info.value.user_message
    assert [r.path for r in fake.requests] == ["/api/version"]


async def test_check_names_an_unsupported_version(fake: FakeOllama, make_provider: MakeProvider) -> None:
    """check() against Ollama 0.33.0 is not ok and says why."""
    fake.version = "0.33.0"
    health = await make_provider().check()
    assert not health.ok and "Ollama 0.33.0" in health.detail and "no image generation" in health.detail


async def test_a_text_model_is_misconfigured(make_provider: MakeProvider) -> None:
    """A language model answers with text: Misconfigured saying it is not an image model."""
    with pytest.raises(Misconfigured, match="not an image generation model"):
        await generate(make_provider(model="llama3.2"), ImageRequest("a lighthouse"))


async def test_an_error_line_mid_stream_is_unavailable(fake: FakeOllama, make_provider: MakeProvider) -> None:
    """{"error"} after progress lines (out of memory) → Unavailable with Ollama's reason."""
    fake.error_line_next()
    with pytest.raises(Unavailable, match="out of memory"):
        await generate(make_provider(), ImageRequest("a lighthouse"))


async def test_an_unknown_model_is_misconfigured(make_provider: MakeProvider) -> None:
    """404 "model 'x' not found" → Misconfigured."""
    with pytest.raises(Misconfigured, match="not found"):
        await generate(make_provider(model="x/nope"), ImageRequest("a lighthouse"))


def flux2_edit(reference: bytes) -> ImageRequest:
    return ImageRequest(
        "warmer", kind=GenerationKind.EDIT, reference_images=(reference,), source_prompt="a lighthouse"
    )


async def test_a_flux2_edit_sends_the_reference(fake: FakeOllama, make_provider: MakeProvider) -> None:
    """EDIT with x/flux2-klein: the reference as bare base64 in images, the prompt a description."""
    fake.version = "0.15.4"  # the last version whose image runner uses references
    reference = make_image(16, 16)
    provider = make_provider(model="x/flux2-klein")
    assert provider.capabilities.edit
    await generate(provider, flux2_edit(reference))
    sent = fake.requests[-1].json
    assert (
        sent["images"] == [base64.b64encode(reference).decode()] and sent["prompt"] == "a lighthouse, warmer"
    )
    assert fake.references == [reference]


async def test_a_gif_reference_goes_as_png_with_a_note(fake: FakeOllama, make_provider: MakeProvider) -> None:
    """The image runner decodes PNG, JPEG and WebP only: a GIF goes as its first frame in PNG, noted."""
    fake.version = "0.15.4"
    image = await generate(make_provider(model="x/flux2-klein"), flux2_edit(animated_gif()))
    assert [sniff(data) for data in fake.references] == ["image/png"]
    assert image.notes == ("ollama takes still images only; the first frame of the animated GIF was sent.",)


async def test_a_webp_reference_is_sent_as_it_is(fake: FakeOllama, make_provider: MakeProvider) -> None:
    """WebP is among the types the image runner decodes: sent byte for byte, no note."""
    fake.version = "0.15.0"
    reference = make_image(16, 16, "webp")
    image = await generate(make_provider(model="x/flux2-klein"), flux2_edit(reference))
    assert fake.references == [reference] and image.notes == ()


async def test_a_version_that_ignores_references_says_so(
    fake: FakeOllama, make_provider: MakeProvider
) -> None:
    """From 0.15.5 the image runner ignores references: the image comes with a note that says so."""
    image = await generate(make_provider(model="x/flux2-klein"), flux2_edit(make_image(16, 16)))
    assert fake.references == []
    assert image.notes == (
        "Ollama 0.20.0 does not use the picture to work from (only 0.15.0 to 0.15.4 do); "
        "this image was drawn from the description alone.",
    )


async def test_z_image_cannot_edit(fake: FakeOllama, make_provider: MakeProvider) -> None:
    """The Z-Image models draw from text only: capabilities say so and an edit is refused unsent."""
    provider = make_provider()
    request = ImageRequest("warmer", kind=GenerationKind.EDIT, reference_images=(make_image(8, 8),))
    assert not provider.capabilities.edit
    with pytest.raises(InvalidRequest, match="cannot edit") as info:
        await provider.generate(request, on_progress=Progress())
    assert "x/flux2-klein" in info.value.user_message and fake.requests == []
