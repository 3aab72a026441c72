"""aihubmix: OpenAI's Images API at AIHubMix's address, under its own name and key."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from bot.core.errors import Misconfigured
from bot.core.types import ImageRequest
from bot.providers.aihubmix import DEFAULT_BASE_URL, create
from bot.providers.settings import ProviderSettings
from tests.fakes.providers.aihubmix import FakeAIHubMix
from tests.fakes.providers.harness import Progress

KEY = "sk-aihubmix-test-0123456789"


@pytest.fixture
async def fake() -> AsyncIterator[FakeAIHubMix]:
    async with FakeAIHubMix(api_key=KEY, image_scale=1 / 16) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield http


def test_the_default_address_is_aihubmix(client: httpx.AsyncClient) -> None:
    """Without base_url the provider calls https://aihubmix.com/v1, not OpenAI."""
    provider = create(ProviderSettings(api_key=SecretStr(KEY)), client=client)
    assert provider.base_url == DEFAULT_BASE_URL == "https://aihubmix.com/v1"


async def test_a_generation_is_an_openai_images_call(fake: FakeAIHubMix, client: httpx.AsyncClient) -> None:
    """POST /v1/images/generations with the Bearer key and the GPT image fields; images named aihubmix."""
    provider = create(ProviderSettings(base_url=fake.base_url, api_key=SecretStr(KEY)), client=client)
    [image] = await provider.generate(ImageRequest("a lighthouse"), on_progress=Progress())
    sent = fake.requests[-1]
    assert sent.path == "/v1/images/generations" and sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.json["model"] == "gpt-image-1.5" and "response_format" not in sent.json
    assert (image.provider, image.data) == ("aihubmix", fake.served[-1])


async def test_a_missing_key_names_aihubmixs_setting(client: httpx.AsyncClient) -> None:
    """No key: Misconfigured naming providers.aihubmix.api_key (not openai's)."""
    with pytest.raises(Misconfigured, match=r"providers\.aihubmix\.api_key"):
        create(ProviderSettings(), client=client)
