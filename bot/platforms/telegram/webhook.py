"""The webhook receiver: Telegram POSTs one Update (JSON) per request to ``telegram.webhook_url``.

A request is accepted only with ``Content-Type: application/json`` and the configured
``X-Telegram-Bot-Api-Secret-Token`` (compared in constant time); anything else gets 403, as PTB's own
webhook server does.

An accepted update is answered 200 only once it has been *handled* (``on_update`` returned: the
handler ran and, for a request, its job row is in the database), because Telegram never sends a
200'd update again: a replica that died between a 200 and the handler would lose it. The wait is
bounded (``answer_timeout_s``): an update still being handled then is answered 503, and Telegram sends
it again later, possibly to another replica behind the load balancer. The handling goes on meanwhile;
a copy of an update that is still being handled here waits for the same handling instead of starting
another, and one already handled here is answered 200 at once. Copies handled by different replicas
make one job all the same: the job's idempotency key comes from the message (or button press).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024
DEFAULT_ANSWER_TIMEOUT_S = 10.0
STOP_WAIT_S = 5.0
"""At shutdown, how long updates being handled may take to finish (keep shutdowns quick; one cut off
was never answered 200, so Telegram sends it again)."""
REMEMBERED_UPDATES = 4096
"""Handled update ids kept to answer Telegram's repeats at once (a few minutes of a busy bot)."""


class WebhookServer:
    def __init__(
        self,
        *,
        listen: str,
        port: int,
        path: str,
        secret_token: str,
        on_update: Callable[[dict[str, Any]], Awaitable[None]],
        answer_timeout_s: float = DEFAULT_ANSWER_TIMEOUT_S,
    ) -> None:
        self._listen = listen
        self._port = port
        self._path = path or "/"
        self._secret = secret_token.encode()
        self._on_update = on_update
        self._timeout_s = answer_timeout_s
        self._runner: web.AppRunner | None = None
        self._handling: dict[int, asyncio.Task[None]] = {}
        self._handled: OrderedDict[int, None] = OrderedDict()
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
        """Stop taking updates, then let the ones being handled finish (within :data:`STOP_WAIT_S` or
        the answer timeout, whichever is shorter; one that does not is cancelled, and Telegram, which
        got no 200 for it, sends it again)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        pending = list(self._handling.values())
        if pending:
            _, late = await asyncio.wait(pending, timeout=min(self._timeout_s, STOP_WAIT_S))
            for task in late:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*late, return_exceptions=True)

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
        update_id = data.get("update_id")
        if not isinstance(update_id, int):
            return web.Response(status=400, text="Bad Request")
        if update_id in self._handled:
            return web.Response(status=200)  # a repeat of one handled here (its 200 was lost)
        task = self._handling.get(update_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(
                self._handle(update_id, data), name=f"telegram-update-{update_id}"
            )
            task.add_done_callback(_retrieved)
            self._handling[update_id] = task
        try:
            await asyncio.wait_for(asyncio.shield(task), self._timeout_s)
        except TimeoutError:
            log.warning(
                "telegram webhook: update %s not handled within %.1f s; answering 503 so Telegram "
                "sends it again",
                update_id,
                self._timeout_s,
            )
            return web.Response(status=503, text="Service Unavailable", headers={"Retry-After": "1"})
        except Exception:  # logged by _handle; Telegram sends the update again
            return web.Response(status=500, text="Internal Server Error")
        return web.Response(status=200)

    async def _handle(self, update_id: int, data: dict[str, Any]) -> None:
        try:
            await self._on_update(data)
        except Exception:
            log.exception("telegram webhook: update %s could not be handled", update_id)
            raise
        finally:
            del self._handling[update_id]
        self._handled[update_id] = None
        if len(self._handled) > REMEMBERED_UPDATES:
            self._handled.popitem(last=False)


def _retrieved(task: asyncio.Task[None]) -> None:
    """A handling whose request already got its 503 still ends quietly (its error was logged)."""
    if not task.cancelled():
        task.exception()
