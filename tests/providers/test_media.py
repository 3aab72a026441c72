"""Getting image bytes out of provider answers: base64, data URLs, and guarded downloads."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from PIL import Image as PILImage

from bot.core.errors import TooLarge, Unavailable
from bot.providers._http.media import (
    base_is_local,
    decode_base64,
    download,
    is_private_host,
    to_image,
)


def png_bytes(size: tuple[int, int] = (6, 4)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, (10, 200, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = png_bytes()


@pytest.fixture
async def server() -> AsyncIterator[str]:
    """A tiny image host: /ok, /big, /text, /gone, /hop/N (redirect chains), /loop."""

    async def ok(request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="application/octet-stream")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG" + b"0" * 5000, content_type="image/png")

    async def text(request: web.Request) -> web.Response:
        return web.Response(text="<html>not an image</html>", content_type="image/png")

    async def gone(request: web.Request) -> web.Response:
        return web.Response(status=404, text="expired")

    async def hop(request: web.Request) -> web.Response:
        left = int(request.match_info["n"])
        raise web.HTTPFound("/ok" if left == 0 else f"/hop/{left - 1}")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/big", big)
    app.router.add_get("/text", text)
    app.router.add_get("/gone", gone)
    app.router.add_get("/hop/{n}", hop)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


def test_decode_bare_base64_sniffs_the_type() -> None:
    """Bare base64 decodes to the bytes with the sniffed mime."""
    assert decode_base64(base64.b64encode(PNG).decode(), provider="p") == (PNG, "image/png")


def test_decode_data_url() -> None:
    """A data URL decodes the same way, whatever type it claims."""
    data_url = "data:image/jpeg;base64," + base64.b64encode(PNG).decode()
    assert decode_base64(data_url, provider="p") == (PNG, "image/png")


def test_base64_of_non_image_is_unavailable() -> None:
    """Base64 of something that is not an image is the provider's failure, not the user's."""
    with pytest.raises(Unavailable):
        decode_base64(base64.b64encode(b"hello").decode(), provider="p")


def test_to_image_reads_real_size() -> None:
    """to_image records the sniffed mime and the real width and height."""
    image = to_image(png_bytes((30, 20)), provider="p", model="m", seed=5)
    assert (image.mime, image.width, image.height, image.seed) == ("image/png", 30, 20, 5)


@pytest.mark.parametrize(
    ("host", "private"),
    [("127.0.0.1", True), ("10.1.2.3", True), ("169.254.169.254", True), ("localhost", True), ("::1", True),
     ("8.8.8.8", False), ("example.com", False)],
)  # fmt: skip
def test_private_hosts_are_recognised(host: str, private: bool) -> None:
    """Loopback, private, link-local and localhost names count as private."""
    assert is_private_host(host) is private


def test_local_base_url_allows_local_downloads() -> None:
    """A provider configured on 127.0.0.1 may hand out local URLs; a cloud one may not."""
    assert base_is_local("http://127.0.0.1:7860")
    assert base_is_local(["https://api.example.com", "http://192.168.1.5:8188"])
    assert not base_is_local("https://api.openai.com/v1")
    assert not base_is_local(None)


async def test_download_returns_bytes_and_sniffed_type(server: str, client: httpx.AsyncClient) -> None:
    """A served image comes back byte for byte with its real type, whatever the header said."""
    assert await download(client, f"{server}/ok", provider="p", allow_private=True) == (PNG, "image/png")


async def test_download_refuses_private_address_for_cloud_provider(
    server: str, client: httpx.AsyncClient
) -> None:
    """SSRF guard: a cloud provider's URL pointing at loopback is not fetched."""
    with pytest.raises(Unavailable, match="private address"):
        await download(client, f"{server}/ok", provider="p", allow_private=False)


async def test_download_follows_a_few_redirects(server: str, client: httpx.AsyncClient) -> None:
    """Up to three redirects are followed."""
    data, _ = await download(client, f"{server}/hop/2", provider="p", allow_private=True)
    assert data == PNG


async def test_download_stops_after_too_many_redirects(server: str, client: httpx.AsyncClient) -> None:
    """A redirect chain longer than the limit is abandoned."""
    with pytest.raises(Unavailable, match="redirects"):
        await download(client, f"{server}/hop/5", provider="p", allow_private=True)


async def test_download_enforces_the_size_cap(server: str, client: httpx.AsyncClient) -> None:
    """An image larger than the cap is refused, as too large (not retried: it would be again)."""
    with pytest.raises(TooLarge) as caught:
        await download(client, f"{server}/big", provider="p", allow_private=True, max_bytes=1000)
    assert "too large" in caught.value.user_message


async def test_download_of_non_image_is_unavailable(server: str, client: httpx.AsyncClient) -> None:
    """HTML served as image/png is caught by sniffing."""
    with pytest.raises(Unavailable):
        await download(client, f"{server}/text", provider="p", allow_private=True)


async def test_expired_result_link_says_so(server: str, client: httpx.AsyncClient) -> None:
    """A 404 on a result URL means the link expired."""
    with pytest.raises(Unavailable) as caught:
        await download(client, f"{server}/gone", provider="p", allow_private=True)
    assert "expired" in caught.value.user_message


async def test_download_of_data_url_decodes_it(client: httpx.AsyncClient) -> None:
    """A data: URL is decoded, not fetched."""
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert await download(client, url, provider="p", allow_private=False) == (PNG, "image/png")
