"""The ``web`` platform: a local chat, gallery, schedules and status pages served with aiohttp, plus
``/healthz`` and ``/metrics`` on the same port.

Life cycle (see ``bot.platforms.base``): ``initialize()`` binds the socket (so ``url`` is known, and a
busy port fails before anything else starts) → ``attach(front)`` → ``start()`` serves → ``stop()`` ends
the live streams and the server → ``shutdown()``. Replies and job events (``send``/``event``) go to
every open page over Server-Sent Events (:mod:`.web_hub`). Routes live in :mod:`.web_chat` (chat API,
images) and :mod:`.web_pages` (pages, gallery, status, health, metrics); guards in :mod:`.web_security`
(which names it answers to: :mod:`.web_hosts`; the per-installation secret: :mod:`.web_secret`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from aiohttp import web

from bot.core.errors import ConfigError, StorageError
from bot.core.front_door import FrontDoor
from bot.core.gallery import GalleryStore
from bot.core.i18n import _
from bot.core.types import JobEvent, Progress, Reply, StoredImage, Target
from bot.observability.metrics import PrometheusMetrics
from bot.platforms.web.chat import PLATFORM, ChatRoutes
from bot.platforms.web.history import HistoryRoutes
from bot.platforms.web.hosts import HostPolicy
from bot.platforms.web.hub import EventHub
from bot.platforms.web.localize import language
from bot.platforms.web.pages import PageRoutes, load_static
from bot.platforms.web.render import event_json, reply_json
from bot.platforms.web.schedules import ScheduleRoutes
from bot.platforms.web.secret import load_secret
from bot.platforms.web.security import Guard, add_security_headers, errors
from bot.platforms.web.settings import WebSettings
from bot.platforms.web.takedown import TakedownRoutes

log = logging.getLogger(__name__)
REMEMBERED_IMAGES = 2_000
"""Images of replies without a generation id (served as ``/files/<id>``), newest kept."""
SHUTDOWN_TIMEOUT_S = 5.0


class WebAdapter:
    """Implements :class:`bot.platforms.base.Adapter` (and so :class:`bot.core.ports.Platform`)."""

    name = PLATFORM
    username: str | None = None

    def __init__(
        self,
        settings: WebSettings,
        *,
        metrics: PrometheusMetrics | None = None,
        scheduler_alive: Callable[[], bool] | None = None,
    ) -> None:
        self._settings = settings
        self.metrics = metrics
        self._scheduler_alive = scheduler_alive
        token = settings.auth_token.get_secret_value() if settings.auth_token else None
        self.guard = Guard(token, HostPolicy.from_settings(settings))
        self.hub = EventHub()
        self.max_upload_bytes = int(settings.max_upload_mb * 1_000_000)
        self._front: FrontDoor | None = None
        self._socket: socket.socket | None = None
        self._runner: web.AppRunner | None = None
        self._images: OrderedDict[str, StoredImage] = OrderedDict()
        self._collectors: dict[str, list[dict[str, Any]]] = {}
        self.app = web.Application(
            middlewares=[
                language,
                errors,
                self.guard.hosts.middleware,
                self.guard.access,
                self.guard.same_origin,
            ],
            client_max_size=self.max_upload_bytes + 64 * 1024,
        )
        self.app.on_response_prepare.append(add_security_headers)
        ChatRoutes(self).register(self.app)
        HistoryRoutes(self).register(self.app)
        ScheduleRoutes(self).register(self.app)
        PageRoutes(self, load_static()).register(self.app)
        TakedownRoutes(self).register(self.app)

    # ---------------------------------------------------------------------------------- lifecycle

    async def initialize(self) -> None:
        """Bind ``web.host``:``web.port`` (0 picks a free port) and read (or make) ``web.secret_file``;
        ConfigError when either is impossible."""
        host, port = self._settings.host, self._settings.port
        family = socket.AF_INET6 if _is_ipv6(host) else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise ConfigError(
                f"The web chat cannot listen on {host}:{port}: {exc.strerror or exc}. "
                "Set web.port to a free port (or web.enabled: false)."
            ) from exc
        try:
            self.guard.use_secret(load_secret(self._settings.secret_file))
        except ConfigError:
            sock.close()
            raise
        self._socket = sock

    @property
    def url(self) -> str:
        """``http://host:port/`` with the real port once ``initialize`` has bound it."""
        port = self._socket.getsockname()[1] if self._socket is not None else self._settings.port
        host = self._settings.host
        return f"http://[{host}]:{port}/" if _is_ipv6(host) else f"http://{host}:{port}/"

    def attach(self, front: FrontDoor) -> None:
        self._front = front

    async def start(self) -> None:
        if self._socket is None:
            raise ConfigError("the web chat must be initialized before it starts")
        runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S
        )
        await runner.setup()
        await web.SockSite(runner, self._socket).start()
        self._runner = runner
        log.info("Easel web chat: %s", self.url)

    async def stop(self) -> None:
        self.hub.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def shutdown(self) -> None:
        if self._runner is not None:
            await self.stop()
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    # ---------------------------------------------------------------------------- for the routes

    @property
    def front(self) -> FrontDoor:
        if self._front is None:
            raise web.HTTPServiceUnavailable(text=_("Easel is starting; try again in a moment."))
        return self._front

    @property
    def gallery(self) -> GalleryStore:
        return self.front.gallery

    def scheduler_state(self) -> str:
        """``running``, ``stopped`` (not alive: unhealthy) or ``absent`` (none configured)."""
        if self._scheduler_alive is None:
            return "absent"
        try:
            return "running" if self._scheduler_alive() else "stopped"
        except Exception:
            log.exception("the scheduler liveness check failed")
            return "stopped"

    async def chat_language(self, chat: str) -> str | None:
        """The conversation's ``/settings language`` (None: not set, or the database did not answer:
        the page then follows the browser)."""
        try:
            return await self.front.chat_language(PLATFORM, chat)
        except StorageError as exc:
            log.warning("the web page's language: the chat's setting could not be read: %s", exc)
            return None

    def reply_image(self, image_id: str) -> StoredImage | None:
        return self._images.get(image_id)

    @contextlib.contextmanager
    def collect(self, request_id: str) -> Iterator[list[dict[str, Any]]]:
        """Replies to ``Target.extra["request"] == request_id`` go to the list, not to the pages."""
        replies: list[dict[str, Any]] = []
        self._collectors[request_id] = replies
        try:
            yield replies
        finally:
            del self._collectors[request_id]

    # ----------------------------------------------------------------------------------- Platform

    async def send(self, target: Target, reply: Reply) -> list[str]:
        data = reply_json(
            target, reply, [self._image_url(reply, i, img) for i, img in enumerate(reply.images)]
        )
        collector = self._collectors.get(str(target.extra.get("request", "")))
        if collector is not None:
            collector.append(data)
            return [f"r{len(collector)}"]
        return [str(self.hub.publish(data))]

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        self.hub.publish(event_json(target, job_id, event), keep=not isinstance(event, Progress))

    async def delete(self, target: Target, message_ids: Sequence[str]) -> None:
        """Nothing to remove: a deleted picture's images answer 404 at once and the page's history,
        read from the database, no longer lists it."""
        return

    def _image_url(self, reply: Reply, index: int, image: StoredImage) -> str:
        if reply.generation_id is not None:
            return f"/images/{reply.generation_id}/{index}"
        self._images[image.id] = image
        while len(self._images) > REMEMBERED_IMAGES:
            self._images.popitem(last=False)
        return f"/files/{image.id}"


def _is_ipv6(host: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
    except ValueError:
        return False
