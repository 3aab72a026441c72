"""The adapter's life cycle and Platform side: binding, its URL, replies without a generation id."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.core.types import Image, Reply, Target
from bot.platforms.web.adapter import WebAdapter
from bot.settings import WebSettings
from tests.web.conftest import WebRun, png


async def test_a_busy_port_is_a_clear_config_error(tmp_path: Path) -> None:
    """Another process on web.port: initialize() says which address and what to change."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        adapter = WebAdapter(WebSettings(port=port, secret_file=tmp_path / "web_secret"))
        try:
            with pytest.raises(ConfigError, match=f"127.0.0.1:{port}"):
                await adapter.initialize()
        finally:
            await adapter.shutdown()


async def test_url_names_the_port_actually_bound(tmp_path: Path) -> None:
    """Port 0 picks a free port; ``url`` reports it (the line `easel run` prints)."""
    adapter = WebAdapter(WebSettings(port=0, secret_file=tmp_path / "web_secret"))
    try:
        await adapter.initialize()
        assert adapter.url.startswith("http://127.0.0.1:") and not adapter.url.endswith(":0/")
        assert adapter.name == "web" and adapter.username is None
    finally:
        await adapter.shutdown()


async def test_a_reply_image_without_generation_is_served_by_its_id(web: WebRun) -> None:
    """Images of replies that name no generation get an opaque /files/<id> URL, and only those."""
    stored = await web.easel.artifacts.save(
        Image(data=png(), mime="image/png", width=64, height=48), metadata={}, now=datetime.now(UTC)
    )
    await web.adapter.send(Target("web", "web"), Reply(text="a card", images=(stored,)))
    reply = web.adapter.hub.recent()[-1].data
    assert reply["images"][0]["url"] == f"/files/{stored.id}"
    response = await web.client.get(reply["images"][0]["url"])
    assert response.status_code == 200 and response.content == png()
