"""stability's HTTP-200 ``CONTENT_FILTERED``: the blurred image comes back flagged, not refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from bot.core.types import Image, ImageRequest
from bot.providers.settings import DiffusionSettings
from bot.providers.stability import create
from tests.fakes.providers.harness import Progress
from tests.fakes.providers.stability import FakeStability

KEY = "sk-stab-0123456789abcdef"


@pytest.fixture
async def fake() -> AsyncIterator[FakeStability]:
    async with FakeStability(api_key=KEY) as server:
        yield server


async def generate(fake: FakeStability, client: httpx.AsyncClient) -> Image:
    provider = create(DiffusionSettings(base_url=fake.base_url, api_key=SecretStr(KEY)), client=client)
    [image] = await provider.generate(ImageRequest("a lighthouse"), on_progress=Progress())
    return image


async def ask_for_raw_images(request: httpx.Request) -> None:
    """Send ``Accept: image/*`` (the raw-bytes answer with a ``finish-reason`` header)."""
    request.headers["Accept"] = "image/*"


async def test_a_filtered_json_answer_is_the_blurred_image_flagged(fake: FakeStability) -> None:
    """JSON ``finish_reason: CONTENT_FILTERED`` → the served (blurred) image, flagged."""
    fake.filter_next()
    async with httpx.AsyncClient(timeout=5.0) as client:
        image = await generate(fake, client)
    assert image.flagged and image.data == fake.served[0]


async def test_a_filtered_raw_answer_is_the_blurred_image_flagged(fake: FakeStability) -> None:
    """``Accept: image/*`` with header ``finish-reason: CONTENT_FILTERED`` → the image, flagged."""
    fake.filter_next()
    async with httpx.AsyncClient(timeout=5.0, event_hooks={"request": [ask_for_raw_images]}) as client:
        image = await generate(fake, client)
    assert fake.requests[0].headers["accept"] == "image/*"
    assert image.flagged and image.data == fake.served[0]


async def test_an_unfiltered_answer_is_not_flagged(fake: FakeStability) -> None:
    """``finish_reason: SUCCESS`` → an ordinary image."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        image = await generate(fake, client)
    assert not image.flagged and image.data == fake.served[0]
