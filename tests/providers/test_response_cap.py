"""Provider answers are read with a cap (providers.<name>.max_response_mb): a huge one is cut off early."""

from __future__ import annotations

import importlib
import io
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from PIL import Image as PILImage
from pydantic import SecretStr

from bot.core.errors import ProviderError, TooLarge, Unavailable
from bot.core.ports import Provider
from bot.core.types import ImageRequest
from bot.providers import registry
from bot.providers._http.client import make_client
from bot.providers._http.media import MAX_DOWNLOAD_BYTES, download
from bot.providers.comfyui import provider as comfyui
from bot.providers.comfyui.settings import ComfyUISettings
from bot.providers.settings import ProviderSettings
from tests.fakes.providers.harness import Progress
from tests.fakes.providers.hostile import MB, HostileServer

HUGE = 100 * MB
CAP_MB = 1
FAR_BELOW = 25 * MB
"""What may be sent before the client hangs up: the cap plus the two sockets' kernel buffers."""
KEY = SecretStr("test-key-0123456789")
BASE_PATHS = {
    "sdwebui": "",
    "comfyui": "",
    "openai-compatible": "/v1",
    "openai": "/v1",
    "openai-responses": "/v1",
    "gemini": "/v1beta",
    "xai": "/v1",
    "bedrock": "",
    "flux": "",
    "replicate": "/v1",
    "stability": "",
    "openrouter": "/api/v1",
}
KEYLESS = ("sdwebui", "comfyui", "openai-compatible")


@pytest.fixture
async def evil() -> AsyncIterator[HostileServer]:
    async with HostileServer() as server:
        yield server


def build(name: str, server: HostileServer, **fields: Any) -> tuple[Provider, httpx.AsyncClient]:
    """The real provider on a real client from make_client, pointed at the server, with a 1 MB cap."""
    fields.setdefault("base_url", server.origin + BASE_PATHS[name])
    if name not in KEYLESS:
        fields.setdefault("api_key", KEY)
    if name == "bedrock":
        fields.setdefault("region", "us-east-1")
    fields.setdefault("max_response_mb", CAP_MB)
    settings = registry.vendor(name).settings(**fields)
    assert isinstance(settings, ProviderSettings)
    client = make_client(settings, default_timeout_s=10.0)
    module = importlib.import_module(registry.vendor(name).module)
    provider: Provider = module.create(settings, client=client)
    return provider, client


async def generate_fails(
    provider: Provider, client: httpx.AsyncClient, expected: type[ProviderError] = TooLarge
) -> ProviderError:
    try:
        with pytest.raises(expected) as info:
            await provider.generate(ImageRequest(prompt="a fox"), on_progress=Progress())
    finally:
        await provider.aclose()
        await client.aclose()
    return info.value


def png(size: int) -> bytes:
    """A PNG of at least ``size`` bytes (noise does not compress)."""
    side = int((size / 3) ** 0.5) + 8
    buffer = io.BytesIO()
    PILImage.frombytes("RGB", (side, side), bytes(range(256)) * (side * side * 3 // 256 + 1)).save(
        buffer, format="PNG", compress_level=0
    )
    return buffer.getvalue()


@pytest.mark.parametrize("name", list(BASE_PATHS))
async def test_every_provider_cuts_off_a_huge_streamed_answer(name: str, evil: HostileServer) -> None:
    """A 100 MB chunked answer to any provider is TooLarge (not retried), after reading ~1 MB of it."""
    evil.huge(HUGE, mode="chunked")
    error = await generate_fails(*build(name, evil))
    await evil.settled()
    assert "too large" in error.user_message and error.provider == name
    assert "max_response_mb" in str(error)
    assert evil.cut_off >= 1 and evil.sent < FAR_BELOW


async def test_a_declared_content_length_over_the_cap_fails_before_reading(evil: HostileServer) -> None:
    """Content-Length: 100 MB is refused on the headers; the body is not read."""
    evil.huge(HUGE, mode="declared")
    error = await generate_fails(*build("openai", evil))
    await evil.settled()
    assert "declares 104857600 bytes" in str(error) and evil.sent < FAR_BELOW


async def test_a_gzip_bomb_counts_at_its_decoded_size(evil: HostileServer) -> None:
    """100 MB of JSON sent as ~130 KB of gzip is cut off at 1 MB decoded: memory stays small."""
    evil.huge(HUGE, mode="gzip")
    tracemalloc.start()
    try:
        error = await generate_fails(*build("xai", evil))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "too large" in error.user_message and peak < 16 * MB


async def test_a_poll_answer_is_capped_too(evil: HostileServer) -> None:
    """flux: the task is accepted, then its huge poll answer is cut off."""
    evil.json("/v1/flux-2-pro", {"id": "t1", "polling_url": f"{evil.origin}/v1/get_result?id=t1"})
    evil.huge(HUGE)
    error = await generate_fails(*build("flux", evil))
    await evil.settled()
    assert evil.requests[-1].path == "/v1/get_result" and "too large" in error.user_message
    assert evil.sent < FAR_BELOW


async def test_comfyui_history_polling_is_capped(evil: HostileServer) -> None:
    """comfyui: no websocket, /prompt accepted, then a huge /history answer is cut off."""
    evil.json("/prompt", {"prompt_id": "p1", "number": 1, "node_errors": {}})
    evil.huge(HUGE)
    error = await generate_fails(*build("comfyui", evil))
    await evil.settled()
    assert evil.requests[-1].path == "/history/p1" and "too large" in error.user_message


async def test_the_cap_follows_max_response_mb(evil: HostileServer) -> None:
    """A 3 MB answer passes a 4 MB cap (and is then just not an image answer)."""
    evil.huge(3 * MB)
    provider, client = build("openai-compatible", evil, max_response_mb=4)
    error = await generate_fails(provider, client, Unavailable)
    assert "too large" not in error.user_message and evil.cut_off == 0


async def test_downloads_keep_their_own_32_mb_cap(evil: HostileServer) -> None:
    """A 3 MB result image downloads through a client whose answers are capped at 1 MB."""
    image = png(3 * MB)
    evil.file("/files/r1", image)
    async with make_client(ProviderSettings(max_response_mb=CAP_MB), default_timeout_s=10.0) as client:
        data, mime = await download(client, f"{evil.origin}/files/r1", provider="p", allow_private=True)
    assert data == image and mime == "image/png" and len(image) > CAP_MB * MB


async def test_a_huge_download_stops_at_the_image_cap(evil: HostileServer) -> None:
    """A 100 MB result "image" stops at 32 MB with the image-size message."""
    evil.huge(HUGE)
    async with make_client(ProviderSettings(), default_timeout_s=10.0) as client:
        with pytest.raises(TooLarge, match="over the 33554432 limit") as info:
            await download(client, f"{evil.origin}/files/r1", provider="p", allow_private=True)
    await evil.settled()
    assert "too large" in info.value.user_message
    assert MAX_DOWNLOAD_BYTES <= evil.sent < MAX_DOWNLOAD_BYTES + FAR_BELOW


async def test_a_comfyui_websocket_message_over_the_cap_is_not_read() -> None:
    """A 2 MB websocket event (here a failure) is dropped unread at a 1 MB cap; /history decides."""
    image = png(1000)
    sockets: list[web.WebSocketResponse] = []
    outputs = {"9": {"images": [{"filename": "a.png", "subfolder": "", "type": "output"}]}}

    async def ws(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        sockets.append(socket)
        async for _ in socket:
            pass
        return socket

    async def prompt(request: web.Request) -> web.Response:
        huge_error = {"type": "execution_error", "data": {"exception_message": "x" * (2 * MB)}}
        for socket in sockets:
            await socket.send_json(huge_error)
        return web.json_response({"prompt_id": "p1", "number": 1, "node_errors": {}})

    async def history(request: web.Request) -> web.Response:
        return web.json_response({"p1": {"outputs": outputs, "status": {"completed": True}}})

    async def view(request: web.Request) -> web.Response:
        return web.Response(body=image, content_type="image/png")

    app = web.Application()
    app.add_routes([web.get("/ws", ws), web.post("/prompt", prompt), web.get("/history/p1", history)])
    app.add_routes([web.get("/view", view)])
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    settings = ComfyUISettings(base_url=f"http://127.0.0.1:{port}", max_response_mb=CAP_MB)
    client = make_client(settings, default_timeout_s=10.0)
    provider = comfyui.create(settings, client=client)
    try:
        [result] = await provider.generate(ImageRequest(prompt="a fox"), on_progress=Progress())
    finally:
        await provider.aclose()
        await client.aclose()
        await runner.cleanup()
    assert result.data == image and sockets
