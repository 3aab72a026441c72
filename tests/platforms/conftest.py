"""A running Easel Telegram bot (the real PTB, through ``bot.app.serve`` as ``easel run`` uses it)
against the fake Bot API. Shape it with ``@pytest.mark.easel(env={...}, providers=lambda: [...])``."""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage

from bot.app import Easel, serve
from bot.settings import AppSettings, load_settings
from tests.fakes.telegram import TOKEN, FakeTelegram

USER = 4242
CHAT = USER  # a private chat's id is its user's


@dataclass
class Running:
    tg: FakeTelegram
    easel: Easel
    settings: AppSettings

    async def photo_after(
        self, text: str, *, chat: int = CHAT, user: int = USER, **kw: Any
    ) -> dict[str, Any]:
        """Send ``text``; return the next photo message the bot sends to the chat."""
        before = len(self.tg.photos(chat))
        self.tg.say(chat, user, text, **kw)
        await self.tg.wait_for(lambda: len(self.tg.photos(chat)) > before)
        return self.tg.photos(chat)[before]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def picture(data: bytes) -> PILImage.Image:
    img = PILImage.open(io.BytesIO(data))
    img.load()
    return img


@pytest.fixture
async def running(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    marker = request.node.get_closest_marker("easel")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    async with FakeTelegram() as tg:
        env = {
            "EASEL__DATABASE_URL": db_url,
            "EASEL__MEDIA_DIR": str(tmp_path / "media"),
            "EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "160",
            "EASEL__LIMITS__USER_RATE": "1000/minute",
            "EASEL__LIMITS__CHAT_RATE": "1000/minute",
            "EASEL__LIMITS__GLOBAL_RATE": "1000/minute",
            "EASEL__TELEGRAM__TOKEN": TOKEN,
            "EASEL__WEB__ENABLED": "false",
            "EASEL__TELEGRAM__BASE_URL": tg.base_url,
            "EASEL__TELEGRAM__BASE_FILE_URL": tg.base_file_url,
        } | options.get("env", {})
        settings = load_settings(None, environ=env)
        stop = asyncio.Event()
        ready: asyncio.Future[Easel] = asyncio.get_running_loop().create_future()
        factory = options.get("providers")
        task = asyncio.create_task(
            serve(
                settings,
                stop=stop,
                on_ready=ready.set_result,
                providers_override=list(factory()) if factory else None,
            )
        )
        waiters: set[asyncio.Future[Any]] = {task, ready}
        done, _ = await asyncio.wait(waiters, timeout=20, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # start-up failed: show why
        assert ready in done, "the bot did not start"
        try:
            yield Running(tg, ready.result(), settings)
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
