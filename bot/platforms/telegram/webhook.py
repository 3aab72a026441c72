"""The webhook receiver: Telegram POSTs one Update (JSON) per request to ``telegram.webhook_url``.

A request is accepted only with ``Content-Type: application/json`` and the configured
``X-Telegram-Bot-Api-Secret-Token`` (compared in constant time); anything else gets 403, as PTB's own
webhook server does. Accepted updates are put on the PTB application's update queue.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024


class WebhookServer:
    def __init__(
        self,
        *,
        listen: str,
        port: int,
        path: str,
        secret_token: str,
        on_update: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        self._listen = listen
        self._port = port
        self._path = path or "/"
        self._secret = secret_token.encode()
        self._on_update = on_update
        self._runner: web.AppRunner | None = None
        self.port = port
        """The bound port (differs from the configured one only when that was 0)."""

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        app.router.add_post(self._path, self._receive)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._listen, self._port)
        await site.start()
        server = site._server
        if isinstance(server, asyncio.Server) and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        log.info("telegram webhook listening on %s:%s%s", self._listen, self.port, self._path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("telegram webhook: request without the right secret token from %s", request.remote)
            return web.Response(status=403, text="Forbidden")
        if request.headers.get("Content-Type") != "application/json":
            return web.Response(status=403, text="Forbidden")
        try:
            data = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="Bad Request")
        if not isinstance(data, dict):
            return web.Response(status=400, text="Bad Request")
        await self._on_update(data)
        return web.Response(status=200)
