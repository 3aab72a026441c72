"""What the Gemini and OpenRouter fakes share: an aiohttp.web server on 127.0.0.1, recording, faults.

A subclass adds its routes in ``routes()`` and answers scripted faults in ``fault_response()``::

    async with FakeGemini(api_key="k") as fake:      # random free port; stopped cleanly on exit
        fake.delay_s = 0.5                           # every API answer waits this long
        fake.requests                                # every request, recorded in arrival order
"""

from __future__ import annotations

import abc
import asyncio
import io
import json
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web
from PIL import Image as PILImage

__all__ = ["Fault", "LoopbackFake", "Recorded", "animated_gif", "json_response", "make_image"]

_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it (header names lower-case)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any = None


_RECORDED: web.RequestKey[Recorded] = web.RequestKey("recorded", Recorded)


@dataclass(frozen=True)
class Fault:
    """What the next API request gets instead of a normal answer (the subclass gives ``kind`` meaning)."""

    kind: str
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def make_image(
    width: int, height: int, fmt: str = "png", colour: tuple[int, int, int] = (70, 120, 190)
) -> bytes:
    """A small, deterministic image of one colour with a darker stripe (so it is not trivially flat)."""
    img = PILImage.new("RGB", (width, height), colour)
    stripe = tuple(c // 2 for c in colour)
    for x in range(width):
        img.putpixel((x, height // 2), stripe)
    buffer = io.BytesIO()
    img.save(buffer, format=_FORMATS[fmt])
    return buffer.getvalue()


def animated_gif(
    width: int = 24,
    height: int = 16,
    colours: tuple[tuple[int, int, int], ...] = ((200, 30, 30), (30, 30, 200)),
) -> bytes:
    """A GIF with one frame per colour (what chat users send as a reference): the first is red."""
    frames = [PILImage.new("RGB", (width, height), colour) for colour in colours]
    buffer = io.BytesIO()
    frames[0].save(
        buffer, format="GIF", save_all=len(frames) > 1, append_images=frames[1:], duration=100, loop=0
    )
    return buffer.getvalue()


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/json", headers=headers or {}
    )


class LoopbackFake(abc.ABC):
    """The server's lifecycle and bookkeeping; subclasses are the APIs."""

    api_prefix = "/"
    """Requests under this path are API calls (recorded in ``requests``, delayed, subject to faults)."""

    def __init__(self, *, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.requests: list[Recorded] = []
        self.downloads: list[Recorded] = []
        self.faults: list[Fault] = []
        self._runner: web.AppRunner | None = None
        self._port = 0

    # ------------------------------------------------------------------------------------- lifecycle

    @property
    def origin(self) -> str:
        assert self._runner is not None, "not started"
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        self.routes(app)
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.2, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(runner.addresses[0][1])
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -------------------------------------------------------------------------------------- for subclasses

    @abc.abstractmethod
    def routes(self, app: web.Application) -> None:
        """Add the API's routes (each fake defines its own)."""

    def fault_response(self, fault: Fault, request: Recorded) -> web.StreamResponse:
        """The answer for a scripted fault; the default handles ``status`` and ``malformed``."""
        if fault.kind == "malformed":
            return web.Response(status=200, text='{"candidates": [', content_type="application/json")
        return json_response(fault.status, fault.body, fault.headers)

    def script(self, fault: Fault, times: int = 1) -> None:
        self.faults.extend([fault] * times)

    def recorded(self, request: web.Request) -> Recorded:
        return request[_RECORDED]

    # ------------------------------------------------------------------------------------------ internals

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        recorded = Recorded(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            json=parsed,
        )
        request[_RECORDED] = recorded
        if not request.path.startswith(self.api_prefix):
            self.downloads.append(recorded)
            response: web.StreamResponse = await handler(request)
            return response
        self.requests.append(recorded)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        denied = self.authorize(recorded)
        if denied is not None:
            return denied
        if self.faults:
            return self.fault_response(self.faults.pop(0), recorded)
        answer: web.StreamResponse = await handler(request)
        return answer

    def authorize(self, request: Recorded) -> web.StreamResponse | None:
        """None when the request may go on; otherwise the API's answer to bad credentials."""
        return None
