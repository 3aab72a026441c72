"""Security headers on every answer the web chat gives: pages, errors, redirects, event streams, and
a handler's unexpected exception (a generic 500, logged)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.observability.metrics import PrometheusMetrics
from bot.platforms.web.security import CSP
from tests.web.conftest import WebRun, open_web

TOKEN = "correct-horse-battery"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def assert_secured(headers: Any) -> None:
    assert headers["content-security-policy"] == CSP
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


@pytest.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[WebRun]:
    """A server with an access token and a small upload limit; the client sends no token by itself."""
    env = {"EASEL__WEB__AUTH_TOKEN": TOKEN, "EASEL__WEB__MAX_UPLOAD_MB": "0.05"}
    async with open_web(tmp_path, env=env, authorise=False) as run:
        yield run


@pytest.mark.parametrize(
    ("method", "path", "extra", "status"),
    [
        ("GET", "/", {"headers": BEARER}, 200),
        ("GET", "/gallery", {}, 303),
        ("GET", "/api/session", {}, 401),
        ("GET", "/no/such/page", {"headers": BEARER}, 404),
        ("DELETE", "/api/session", {"headers": BEARER}, 405),
        ("POST", "/api/command", {"headers": BEARER, "content": b"{" + b" " * 200_000 + b"}"}, 413),
        ("GET", "/", {"headers": {"Host": "rebind.example"}}, 421),
    ],
)
async def test_every_answer_carries_the_security_headers(
    guarded: WebRun, method: str, path: str, extra: dict[str, Any], status: int
) -> None:
    """Pages, redirects, 401, 404, 405, 413 and 421 all carry CSP, nosniff and frame denial."""
    response = await guarded.client.request(method, path, **extra)
    assert response.status_code == status
    assert_secured(response.headers)


async def test_the_event_stream_carries_the_security_headers(web: WebRun) -> None:
    """The Server-Sent Events stream gets them before it starts."""
    async with web.client.stream("GET", "/api/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert_secured(response.headers)


class BrokenMetrics(PrometheusMetrics):
    def render(self) -> bytes:
        raise RuntimeError("the registry is broken: secret detail")


async def test_an_unexpected_exception_is_a_logged_generic_500(
    web: WebRun, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler raising a plain exception: 500 with the headers and no detail; logged with traceback."""
    web.adapter.metrics = BrokenMetrics()
    with caplog.at_level(logging.ERROR, logger="bot.platforms.web.security"):
        response = await web.client.get("/metrics")
    assert response.status_code == 500
    assert_secured(response.headers)
    assert "secret detail" not in response.text
    [record] = [r for r in caplog.records if r.name == "bot.platforms.web.security"]
    assert record.exc_info is not None and "/metrics" in record.getMessage()
