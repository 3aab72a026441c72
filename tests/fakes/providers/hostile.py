"""A broken or hostile provider on 127.0.0.1: huge answers, redirects elsewhere, header recording.

Any provider's routes can be scripted on it; what it does not know it answers with the ``huge`` body
(when set) or a 404 JSON error. Huge bodies are made on the fly (never held in memory) and the server
counts the bytes it managed to send before the client hung up::

    async with HostileServer() as evil, HostileServer() as elsewhere:
        evil.huge(100 * MB, mode="chunked")                   # or "declared" (Content-Length), "gzip"
        evil.json("/v1/predict", {"id": "1", "polling_url": f"{evil.origin}/v1/poll"})
        evil.redirect("/files/r1", f"{elsewhere.origin}/img")  # 302 Found
        elsewhere.file("/img", png)
        ...
        await evil.settled()                                   # the huge answer ended (or was cut)
        evil.sent, elsewhere.requests[0].headers
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, Self

from aiohttp import web

MB = 1024 * 1024
CHUNK = 64 * 1024
Mode = Literal["chunked", "declared", "gzip"]


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    """Lower-case names."""


class HostileServer:
    """Start with ``async with``; ``origin`` is ``http://127.0.0.1:<port>``."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.sent = 0
        """Bytes of huge bodies written to the socket (compressed ones for ``gzip``)."""
        self.cut_off = 0
        """Huge answers the client hung up on before their end."""
        self._routes: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self._huge: tuple[int, Mode] | None = None
        self._streaming = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self._port = server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -------------------------------------------------------------------------------------- scripting

    def huge(self, size: int, *, mode: Mode = "chunked") -> None:
        """Answer every unscripted request with a JSON body of ``size`` bytes (decoded size for gzip)."""
        self._huge = (size, mode)

    def json(self, path: str, body: Any, status: int = 200) -> None:
        self._routes[path] = (status, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self._routes[path] = (status, b"", {"Location": location})

    def file(self, path: str, data: bytes, mime: str = "image/png") -> None:
        self._routes[path] = (200, data, {"Content-Type": mime})

    async def settled(self, timeout_s: float = 10.0) -> None:
        """Wait until no huge answer is being written any more."""
        await asyncio.wait_for(self._idle.wait(), timeout_s)

    # ------------------------------------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(Seen(request.method, request.path, headers))
        scripted = self._routes.get(request.path)
        if scripted is not None:
            status, body, extra = scripted
            return web.Response(status=status, body=body, headers=extra)
        if self._huge is None or request.path.endswith("/ws"):
            return web.json_response({"error": {"message": "not found"}}, status=404)
        return await self._stream_huge(request, *self._huge)

    async def _stream_huge(self, request: web.Request, size: int, mode: Mode) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        if mode == "declared":
            response.content_length = size
        else:
            response.enable_chunked_encoding()
        if mode == "gzip":
            response.headers["Content-Encoding"] = "gzip"
        self._streaming += 1
        self._idle.clear()
        try:
            await response.prepare(request)
            for chunk in _body(size, gzip=mode == "gzip"):
                await response.write(chunk)
                self.sent += len(chunk)
            await response.write_eof()
        except (ConnectionError, RuntimeError):  # the client hung up ("closing transport")
            self.cut_off += 1
        finally:
            self._streaming -= 1
            if not self._streaming:
                self._idle.set()
        return response


def _body(size: int, *, gzip: bool) -> Iterator[bytes]:
    """``{"data": [{"b64_json": "AAAA...`` up to ``size`` bytes, made chunk by chunk."""
    head = b'{"data": [{"b64_json": "'
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31) if gzip else None
    left = size
    first = True
    while left > 0:
        piece = head if first else b"A" * min(CHUNK, left)
        first = False
        left -= len(piece)
        if compressor is None:
            yield piece
        elif out := compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH):
            yield out
    if compressor is not None:
        yield compressor.flush()
