"""The common skeleton of the aiohttp provider fakes (xai, flux, replicate): a loopback server.

A subclass adds its routes in ``_routes`` and answers with the real API's shapes; this base starts and
stops the server (``async with``, random free port on 127.0.0.1), records every request, serves result
files under ``/files/<name>`` (which can be made to expire), applies ``delay_s`` and scripted faults::

    async with FakeXAI(api_key="xai-test") as fake:
        fake.fault(429, {"error": "..."}, headers={"Retry-After": "7"})   # next API request
        fake.fault(200, raw=b"{not json", path="/v1/get_result")        # next matching request
        fake.expire_files()                                               # downloads now 404
        fake.requests[-1].json
"""

from __future__ import annotations

import abc
import asyncio
import io
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web
from PIL import Image as PILImage

_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def make_image(
    width: int, height: int, fmt: str = "png", colour: tuple[int, int, int] = (70, 120, 190)
) -> bytes:
    """A small deterministic image."""
    buffer = io.BytesIO()
    picture = PILImage.new("RGB", (width, height), colour)
    picture.putpixel((0, 0), (255, 255, 255))
    picture.save(buffer, format=_FORMATS[fmt])
    return buffer.getvalue()


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Lower-case names."""
    body: bytes
    json: Any = None


@dataclass
class Fault:
    """The answer the next request (under ``path``, if given) gets instead of the normal one."""

    status: int
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    path: str | None = None


class LoopbackFake(abc.ABC):
    """Start with ``async with``; ``origin`` is ``http://127.0.0.1:<port>``."""

    def __init__(self, *, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.requests: list[Recorded] = []
        """API requests (everything but /files), in arrival order."""
        self.downloads: list[Recorded] = []
        self.faults: list[Fault] = []
        self.files_status: int | None = None
        """When set, result downloads answer this status (an expired signed URL)."""
        self._files: dict[str, tuple[bytes, str]] = {}
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._port = 0

    # ------------------------------------------------------------------------------------- lifecycle

    @property
    def origin(self) -> str:
        assert self._runner is not None, "not started"
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        app.router.add_get("/files/{name}", self._file)
        self._routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self._port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @abc.abstractmethod
    def _routes(self, app: web.Application) -> None:
        """Add the API's routes (each fake defines its own)."""

    # -------------------------------------------------------------------------------------- scripting

    def fault(
        self,
        status: int,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        path: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` API requests (whose path starts with ``path``) this way."""
        for _ in range(times):
            self.faults.append(Fault(status, body, raw, dict(headers or {}), path))

    def expire_files(self, status: int = 404) -> None:
        """Result URLs stop working, as signed URLs do after a while."""
        self.files_status = status

    def add_file(self, data: bytes, mime: str) -> str:
        """Serve ``data``; its URL."""
        ext = mime.rsplit("/", 1)[-1]
        name = f"r{next(self._ids)}.{ext}"
        self._files[name] = (data, mime)
        return f"{self.origin}/files/{name}?sig=s3cr3t-signature"

    def next_id(self, prefix: str = "") -> str:
        return f"{prefix}{next(self._ids):08d}"

    # ------------------------------------------------------------------------------------------- HTTP

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        parsed: Any = None
        if body and request.content_type == "application/json":
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        recorded = Recorded(
            request.method,
            request.path,
            dict(request.query),
            {k.lower(): v for k, v in request.headers.items()},
            body,
            parsed,
        )
        if request.path.startswith("/files/"):
            self.downloads.append(recorded)
            response: web.StreamResponse = await handler(request)
            return response
        self.requests.append(recorded)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        for index, fault in enumerate(self.faults):
            if fault.path is None or request.path.startswith(fault.path):
                del self.faults[index]
                if fault.raw is not None:
                    return web.Response(
                        status=fault.status,
                        body=fault.raw,
                        headers=fault.headers,
                        content_type="application/json",
                    )
                return web.json_response(fault.body, status=fault.status, headers=fault.headers)
        answer: web.StreamResponse = await handler(request)
        return answer

    async def _file(self, request: web.Request) -> web.Response:
        stored = self._files.get(request.match_info["name"])
        if self.files_status is not None or stored is None:
            status = self.files_status or 404
            return web.Response(
                status=status, text="<Error><Code>AccessDenied</Code></Error>", content_type="application/xml"
            )
        return web.Response(body=stored[0], content_type=stored[1])


def json_error(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers)
