"""The web chat's guards: access token, uploads, cross-site requests and paths."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import httpx
import pytest

from bot.core.errors import ConfigError
from bot.settings import load_settings
from tests.web.conftest import WebRun, open_web, png

TOKEN = "correct-horse-battery"


def bomb_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------------------- access token


def test_a_short_token_is_refused() -> None:
    """An access token must be long enough not to be guessed."""
    with pytest.raises(ConfigError, match="at least 12 characters"):
        load_settings(None, environ={"EASEL__WEB__AUTH_TOKEN": "short"})


def test_binding_off_loopback_needs_a_token() -> None:
    """web.host 0.0.0.0 without web.auth_token is refused at load time."""
    with pytest.raises(ConfigError, match=r"needs web\.auth_token"):
        load_settings(None, environ={"EASEL__WEB__HOST": "0.0.0.0"})


async def test_off_loopback_with_token_refuses_requests_without_it(tmp_path: Path) -> None:
    """Bound to every interface, the API answers 401 without the token and 200 with it."""
    env = {"EASEL__WEB__HOST": "0.0.0.0", "EASEL__WEB__AUTH_TOKEN": TOKEN}
    async with open_web(tmp_path, env=env, authorise=False) as run:
        port = run.adapter.url.rsplit(":", 1)[1].strip("/")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/api/session")).status_code == 401
            assert (await client.get("/metrics")).status_code == 401
            page = await client.get("/gallery")
            assert page.status_code == 303 and page.headers["location"] == "/login"
            bearer = await client.get("/api/session", headers={"Authorization": f"Bearer {TOKEN}"})
            assert bearer.status_code == 200
            wrong = await client.get("/api/session", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            assert (await client.get("/healthz")).status_code == 200


async def test_token_in_the_url_becomes_a_cookie(tmp_path: Path) -> None:
    """``?token=`` once: redirected to the clean URL with a cookie that then authorises the browser."""
    env = {"EASEL__WEB__AUTH_TOKEN": TOKEN}
    async with open_web(tmp_path, env=env, authorise=False) as run:
        client = run.client
        first = await client.get("/gallery", params={"token": TOKEN})
        assert first.status_code == 303 and first.headers["location"] == "/gallery"
        assert TOKEN not in first.headers["set-cookie"]
        assert (await client.get("/api/session")).status_code == 200
        assert (await client.get("/", params={"token": "wrong"})).status_code == 401


async def test_login_form_sets_the_cookie(tmp_path: Path) -> None:
    """The login form accepts the right token and sends the wrong one back to the form."""
    async with open_web(tmp_path, env={"EASEL__WEB__AUTH_TOKEN": TOKEN}, authorise=False) as run:
        wrong = await run.client.post("/login", data={"token": "nope"})
        assert wrong.headers["location"] == "/login?failed=1"
        assert (await run.client.get("/api/session")).status_code == 401
        right = await run.client.post("/login", data={"token": TOKEN})
        assert right.status_code == 303 and right.headers["location"] == "/"
        assert (await run.client.get("/api/session")).status_code == 200


# -------------------------------------------------------------------------------------------- uploads


async def test_a_file_that_is_not_an_image_is_refused(web: WebRun) -> None:
    """Uploads are checked by their bytes: text named .png is 415 with a friendly message."""
    response = await web.send("make it warmer", image=b"just some text, honestly")
    assert response.status_code == 415
    assert "not an image" in response.json()["error"]


async def test_an_oversized_upload_is_refused(tmp_path: Path) -> None:
    """Past web.max_upload_mb the upload is 413, whatever it contains."""
    async with open_web(tmp_path, env={"EASEL__WEB__MAX_UPLOAD_MB": "0.05"}) as run:
        await run.login()
        response = await run.send("make it warmer", image=png() + os.urandom(120_000))
        assert response.status_code == 413
        assert "too large" in response.json()["error"]


async def test_a_decompression_bomb_is_refused(web: WebRun) -> None:
    """A small file claiming 900 megapixels is 413 before any pixel is decoded."""
    response = await web.send("make it warmer", image=bomb_png())
    assert response.status_code == 413
    assert "too many pixels" in response.json()["error"]


async def test_a_truncated_image_is_refused(web: WebRun) -> None:
    """A PNG cut short is a 400, not a failed job."""
    response = await web.send("make it warmer", image=png(400, 300)[:200])
    assert response.status_code == 400


# ----------------------------------------------------------------------------------- cross-site posts


async def test_a_cross_origin_post_is_refused(web: WebRun) -> None:
    """Another site's page cannot post into the chat, even with the right token in hand."""
    response = await web.client.post(
        "/api/command", json={"text": "/status"}, headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403
    fetch_site = await web.client.post(
        "/api/command", json={"text": "/status"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert fetch_site.status_code == 403


async def test_a_post_without_the_csrf_token_is_refused(web: WebRun) -> None:
    """Same origin is not enough: the session's CSRF token must come in the header."""
    del web.client.headers["X-CSRF-Token"]
    response = await web.client.post("/api/command", json={"text": "/status"})
    assert response.status_code == 403
    forged = await web.client.post(
        "/api/command", json={"text": "/status"}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert forged.status_code == 403


# -------------------------------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    "path",
    [
        "/static/../settings.py",
        "/static/%2e%2e%2fweb.py",
        "/static/..%2f..%2fpyproject.toml",
        "/static/web.py",
        "/images/1/../../../etc/passwd",
        "/images/999/0",
        "/files/0123456789abcdef0123456789abcdef",
        "/files/..%2f..%2fetc%2fpasswd",
    ],
)
async def test_no_browser_path_reaches_the_file_system(web: WebRun, path: str) -> None:
    """Assets come from an in-memory table and images by id: anything else is 404."""
    response = await web.client.get(path)
    assert response.status_code == 404
    assert b"import" not in response.content and b"root:" not in response.content
