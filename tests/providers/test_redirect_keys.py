"""An API key never goes to another origin: redirects away from the provider drop the auth headers."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image as PILImage
from pydantic import SecretStr

from bot.core.errors import Unavailable
from bot.core.types import ImageRequest
from bot.providers import flux, openai_compatible
from bot.providers._http.client import make_client
from bot.providers._http.media import download
from bot.providers.settings import ProviderSettings
from tests.fakes.providers.harness import Progress
from tests.fakes.providers.hostile import HostileServer

KEY = "plain-provider-key-4c1d"
AUTH_HEADERS = ("Authorization", "x-api-key", "x-goog-api-key", "api-key", "x-key", "X-Amz-Security-Token")


def png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = png()


@pytest.fixture
async def servers() -> AsyncIterator[tuple[HostileServer, HostileServer]]:
    """The provider, and a second server on another port that records what it is sent."""
    async with HostileServer() as provider, HostileServer() as elsewhere:
        elsewhere.file("/img.png", PNG)
        yield provider, elsewhere


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(ProviderSettings(), default_timeout_s=10.0) as http:
        yield http


def leaked(server: HostileServer) -> list[str]:
    """Headers that reached ``server`` carrying the key."""
    return [f"{k}: {v}" for seen in server.requests for k, v in seen.headers.items() if KEY in v]


@pytest.mark.parametrize("header", AUTH_HEADERS)
async def test_a_redirect_to_another_origin_drops_the_key(
    servers: tuple[HostileServer, HostileServer], client: httpx.AsyncClient, header: str
) -> None:
    """A result URL on the provider that redirects to another port: the image comes, the key does not."""
    provider, elsewhere = servers
    provider.redirect("/files/r1", f"{elsewhere.origin}/img.png")
    value = f"Bearer {KEY}" if header == "Authorization" else KEY
    data, _ = await download(
        client, f"{provider.origin}/files/r1", provider="p", allow_private=True, headers={header: value}
    )
    assert data == PNG and elsewhere.requests and leaked(elsewhere) == []
    assert provider.requests[0].headers[header.lower()] == value


async def test_a_same_origin_redirect_keeps_the_key(
    servers: tuple[HostileServer, HostileServer], client: httpx.AsyncClient
) -> None:
    """A redirect within the provider's origin still sends the key (signed-in result hosts)."""
    provider, _ = servers
    provider.redirect("/files/r1", "/files/real.png")
    provider.file("/files/real.png", PNG)
    headers = {"Authorization": f"Bearer {KEY}"}
    data, _ = await download(
        client, f"{provider.origin}/files/r1", provider="p", allow_private=True, headers=headers
    )
    assert data == PNG and provider.requests[-1].headers["authorization"] == f"Bearer {KEY}"


async def test_the_key_is_not_sent_again_after_leaving_the_origin(
    servers: tuple[HostileServer, HostileServer], client: httpx.AsyncClient
) -> None:
    """Provider → elsewhere → back to the provider: the hop chosen by the other server gets no key."""
    provider, elsewhere = servers
    provider.redirect("/files/r1", f"{elsewhere.origin}/bounce")
    elsewhere.redirect("/bounce", f"{provider.origin}/files/real.png")
    provider.file("/files/real.png", PNG)
    await download(
        client,
        f"{provider.origin}/files/r1",
        provider="p",
        allow_private=True,
        headers={"x-api-key": KEY},
    )
    assert leaked(elsewhere) == [] and "x-api-key" not in provider.requests[-1].headers


async def test_url_credentials_stay_on_their_origin(
    servers: tuple[HostileServer, HostileServer], client: httpx.AsyncClient
) -> None:
    """A base_url with user:password (comfyui /view) sends Basic auth there, not after a redirect away."""
    provider, elsewhere = servers
    provider.redirect("/view", f"{elsewhere.origin}/img.png")
    host = provider.origin.removeprefix("http://")
    await download(client, f"http://easel:{KEY}@{host}/view?filename=a.png", provider="p", allow_private=True)
    assert "authorization" in provider.requests[0].headers
    assert [seen.headers.get("authorization") for seen in elsewhere.requests] == [None]


async def test_openai_compatible_result_url_redirect_keeps_the_key_home(
    servers: tuple[HostileServer, HostileServer],
) -> None:
    """End to end: an images API answer whose own-origin result URL redirects elsewhere leaks no key."""
    provider_server, elsewhere = servers
    provider_server.json("/v1/images/generations", {"data": [{"url": f"{provider_server.origin}/files/r1"}]})
    provider_server.redirect("/files/r1", f"{elsewhere.origin}/img.png")
    settings = ProviderSettings(base_url=f"{provider_server.origin}/v1", api_key=SecretStr(KEY))
    async with make_client(settings, default_timeout_s=10.0) as http:
        provider = openai_compatible.create(settings, client=http)
        [image] = await provider.generate(ImageRequest(prompt="a fox"), on_progress=Progress())
    assert image.data == PNG and leaked(elsewhere) == []
    assert provider_server.requests[-1].headers["authorization"] == f"Bearer {KEY}"


async def test_a_poll_url_redirect_is_not_followed(servers: tuple[HostileServer, HostileServer]) -> None:
    """flux: a polling URL answering 302 elsewhere is not followed with the x-key (nor at all)."""
    provider_server, elsewhere = servers
    polling_url = f"{provider_server.origin}/v1/get_result?id=t1"
    provider_server.json("/v1/flux-2-pro", {"id": "t1", "polling_url": polling_url})
    provider_server.redirect("/v1/get_result", f"{elsewhere.origin}/steal")
    settings = ProviderSettings(base_url=provider_server.origin, api_key=SecretStr(KEY))
    async with make_client(settings, default_timeout_s=10.0) as http:
        provider = flux.create(settings, client=http)
        with pytest.raises(Unavailable):
            await provider.generate(ImageRequest(prompt="a fox"), on_progress=Progress())
    assert elsewhere.requests == []
