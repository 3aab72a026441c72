"""A running Easel with the web chat on a free port of 127.0.0.1 (the offline renderer, a SQLite file),
driven over real HTTP with httpx."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from bot.app import Easel, SchedulerClock, open_easel
from bot.observability.metrics import PrometheusMetrics
from bot.platforms.web.adapter import WebAdapter
from bot.settings import load_settings


@dataclass
class WebRun:
    easel: Easel
    adapter: WebAdapter
    metrics: PrometheusMetrics
    client: httpx.AsyncClient
    """Talks to the server like the page does: same Origin, session cookie, CSRF header once fetched."""

    @property
    def url(self) -> str:
        return self.adapter.url

    @property
    def port(self) -> int:
        return int(self.adapter.url.rstrip("/").rsplit(":", 1)[1])

    async def login(self) -> str:
        """Fetch the session like the page does; return the CSRF token (also set on the client)."""
        response = await self.client.get("/api/session")
        response.raise_for_status()
        csrf: str = response.json()["csrf"]
        self.client.headers["X-CSRF-Token"] = csrf
        return csrf

    async def send(
        self, text: str, *, image: bytes | None = None, reply_to: int | None = None
    ) -> httpx.Response:
        data: dict[str, str] = {"text": text}
        if reply_to is not None:
            data["reply_to"] = str(reply_to)
        files = {"image": ("photo.png", image, "image/png")} if image is not None else None
        if files is None:
            files = {"_": ("", b"", "application/octet-stream")}  # always multipart, as the page sends
        return await self.client.post("/api/messages", data=data, files=files)

    async def generate(self, text: str, **kw: Any) -> int:
        """Send ``text``; wait for its job; return the generation it made."""
        response = await self.send(text, **kw)
        assert response.status_code == 200, response.text
        job_id = response.json()["job_id"]
        assert job_id is not None, self.adapter.hub.recent()
        await self.easel.queue.wait_for(job_id)
        job = await self.easel.jobs.get_job(job_id=job_id)
        assert job is not None and job.generation_id is not None
        return job.generation_id


def web_settings(tmp_path: Path, env: dict[str, str] | None = None) -> Any:
    base = {
        "EASEL__DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db' / 'easel.sqlite3'}",
        "EASEL__MEDIA_DIR": str(tmp_path / "media"),
        "EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "96",
        "EASEL__LIMITS__USER_RATE": "1000/minute",
        "EASEL__LIMITS__CHAT_RATE": "1000/minute",
        "EASEL__LIMITS__GLOBAL_RATE": "1000/minute",
        "EASEL__WEB__PORT": "0",
        "EASEL__WEB__SECRET_FILE": str(tmp_path / "data" / "web_secret"),
    }
    return load_settings(None, environ=base | (env or {}))


@asynccontextmanager
async def open_web(
    tmp_path: Path,
    *,
    env: dict[str, str] | None = None,
    scheduler_alive: Callable[[], bool] | None = None,
    authorise: bool = True,
    others: dict[str, Any] | None = None,
    providers: list[Any] | None = None,
) -> AsyncIterator[WebRun]:
    """The whole life cycle as ``bot.app.serve`` runs it: initialize, open Easel, attach, start.
    ``others``: more platforms (by name) beside the web chat; ``providers``: instead of the configured."""
    settings = web_settings(tmp_path, env)
    metrics = PrometheusMetrics()
    adapter = WebAdapter(settings.web, metrics=metrics, scheduler_alive=scheduler_alive)
    try:
        await adapter.initialize()
        async with open_easel(
            settings,
            platforms={"web": adapter, **(others or {})},
            metrics=metrics,
            scheduler_clock=SchedulerClock(poll_s=0.05),
            providers_override=providers,
        ) as easel:
            adapter.attach(easel.front)
            await adapter.start()
            origin = adapter.url.rstrip("/")
            headers = {"Origin": origin}
            token = settings.web.auth_token
            if token is not None and authorise:
                headers["Authorization"] = f"Bearer {token.get_secret_value()}"
            try:
                async with httpx.AsyncClient(base_url=origin, headers=headers, timeout=10) as client:
                    yield WebRun(easel, adapter, metrics, client)
            finally:
                await adapter.stop()
    finally:
        await adapter.shutdown()


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[WebRun]:
    async with open_web(tmp_path) as run:
        await run.login()
        yield run


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()
