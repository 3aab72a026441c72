"""Provider error text never repeats the configured key, whatever it looks like, nor a URL password."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from pydantic import SecretStr

from bot.core.errors import InvalidRequest, Misconfigured, ProviderError, Unavailable
from bot.core.types import ImageRequest
from bot.providers import flux, openai_compatible, sdwebui
from bot.providers._http.client import make_client
from bot.providers.settings import ProviderSettings, SamplerSettings
from tests.fakes.providers.harness import Progress, dead_url
from tests.fakes.providers.hostile import HostileServer

KEY = "plain/key+no=prefix-5e7b9"
"""Nothing like ``sk-...``: only knowing the configured value can hide it."""
ENCODED = quote(KEY, safe="")


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    async with HostileServer() as fake:
        yield fake


def shown(exc: ProviderError) -> str:
    """Everything an operator or a user may read of the error."""
    return f"{exc} | {exc.user_message}"


async def generate(provider: openai_compatible.OpenAICompatibleProvider | flux.FluxProvider) -> None:
    await provider.generate(ImageRequest(prompt="a fox"), on_progress=Progress())


async def test_an_error_message_echoing_the_key_is_scrubbed(server: HostileServer) -> None:
    """A 400 whose message quotes the key (plain and URL-encoded) shows neither to user or log."""
    message = f"key {KEY} (sent as ?key={ENCODED}) is not allowed to use this model"
    server.json("/v1/images/generations", {"error": {"message": message, "code": "bad"}}, status=400)
    settings = ProviderSettings(base_url=f"{server.origin}/v1", api_key=SecretStr(KEY))
    async with make_client(settings, default_timeout_s=10.0) as http:
        with pytest.raises(InvalidRequest) as info:
            await generate(openai_compatible.create(settings, client=http))
    text = shown(info.value)
    assert "not allowed to use this model" in text and KEY not in text and ENCODED not in text


async def test_a_key_rejection_echoing_the_key_is_scrubbed(server: HostileServer) -> None:
    """A 401 "invalid key <key>" becomes Misconfigured without the key in it."""
    server.json("/v1/images/generations", {"error": {"message": f"invalid key {KEY}"}}, status=401)
    settings = ProviderSettings(base_url=f"{server.origin}/v1", api_key=SecretStr(KEY))
    async with make_client(settings, default_timeout_s=10.0) as http:
        with pytest.raises(Misconfigured) as info:
            await generate(openai_compatible.create(settings, client=http))
    assert "invalid key ***" in str(info.value) and KEY not in shown(info.value)


async def test_a_failed_task_echoing_the_key_is_scrubbed(server: HostileServer) -> None:
    """flux: a poll answer "Error" whose details quote the key (an HTTP 200) hides it too."""
    server.json("/v1/flux-2-pro", {"id": "t1", "polling_url": f"{server.origin}/v1/get_result?id=t1"})
    server.json("/v1/get_result", {"status": "Error", "details": f"upstream refused x-key {KEY}"})
    settings = ProviderSettings(base_url=server.origin, api_key=SecretStr(KEY))
    async with make_client(settings, default_timeout_s=10.0) as http:
        with pytest.raises(Unavailable) as info:
            await generate(flux.create(settings, client=http))
    assert "upstream refused" in str(info.value) and KEY not in shown(info.value)


async def test_a_base_url_password_is_not_in_transport_errors() -> None:
    """sdwebui on http://user:password@host that refuses connections: the message has no password."""
    password = "pw-short"
    base = dead_url().replace("http://", f"http://easel:{password}@")
    settings = SamplerSettings(base_url=base)
    async with make_client(settings, default_timeout_s=5.0) as http:
        provider = sdwebui.create(settings, client=http)
        with pytest.raises(Unavailable) as info:
            await provider.generate(ImageRequest(prompt="a fox"), on_progress=Progress())
        await provider.aclose()
    assert "connection refused" in str(info.value) and password not in shown(info.value)
