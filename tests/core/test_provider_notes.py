"""Notes a provider attaches to its images (``Image.notes``) reach the user: merged by the chain into
the result, stored with the generation and shown under the image."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import open_easel
from bot.core.generation.chain import ProviderChain
from bot.core.messages import Attachment
from bot.core.ports import ProgressCallback
from bot.core.types import Capabilities, Image, ImageRequest
from bot.platforms.telegram.render import caption
from bot.providers._http.client import make_client
from bot.providers._http.references import PNG_JPEG_WEBP, prepare
from bot.providers.openai import create
from bot.providers.settings import ProviderSettings
from tests.core.conftest import Harness, easel_settings
from tests.fakes.clock import FixedClock
from tests.fakes.platform import RecordingPlatform
from tests.fakes.providers.chat_image_base import animated_gif
from tests.fakes.providers.openai_images import FakeOpenAIImages
from tests.fakes.scripted import ScriptedProvider

KEY = "sk-test-0123456789abcdef"
GIF_NOTE = "openai takes still images only; the first frame of the animated GIF was sent."


async def no_progress(fraction: float, preview: bytes | None) -> None:
    return None


class NotingProvider(ScriptedProvider):
    """A scripted provider whose every image carries the same note, one image per call."""

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        images = await super().generate(request, on_progress=on_progress)
        return [
            dataclasses.replace(image, notes=("the GIF was sent as its first frame.",)) for image in images
        ]


async def test_prepare_returns_the_conversion_note() -> None:
    """prepare hands back the note of each conversion along with the request."""
    request = ImageRequest("p", reference_images=(animated_gif(),))
    _, notes = await prepare(request, PNG_JPEG_WEBP, provider="openai")
    assert notes == (GIF_NOTE,)


async def test_the_chain_merges_image_notes_once() -> None:
    """Three calls (max_n 1, n 3) each noting the same thing: the result carries the note once."""
    provider = NotingProvider("p", capabilities=Capabilities(edit=True, max_n=1, seed=True))
    chain = ProviderChain([provider], timeout_s=5)
    result = await chain.generate(ImageRequest("fox", n=3, seed=1), on_progress=no_progress)
    assert len(result.images) == 3 and result.notes.count("the GIF was sent as its first frame.") == 1


@pytest.fixture
async def openai_harness(db_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    """A whole Easel whose only provider is openai against the strict OpenAI Images fake."""
    async with FakeOpenAIImages(api_key=KEY, strict=True, image_scale=1 / 16) as fake:
        settings = ProviderSettings(base_url=fake.base_url, api_key=SecretStr(KEY))
        client = make_client(settings, default_timeout_s=5.0)
        providers = [create(settings, client=client)]
        platform, clock = RecordingPlatform(), FixedClock()
        try:
            async with open_easel(
                easel_settings(db_url, tmp_path / "media"),
                platforms={"test": platform},
                clock=clock,
                providers_override=providers,
            ) as easel:
                yield Harness(easel, platform, clock, tmp_path / "media", providers)
        finally:
            await client.aclose()


async def test_a_gif_edits_note_reaches_the_reply(openai_harness: Harness) -> None:
    """An animated GIF sent to edit: openai gets its first frame, and the reply (and its caption) says so."""
    reply = await openai_harness.last("/edit make it warmer", attachments=(Attachment(animated_gif()),))
    assert not reply.is_error and reply.images
    assert GIF_NOTE in reply.notes
    assert f"note: {GIF_NOTE}" in caption(reply)
