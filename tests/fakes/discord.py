"""A strict loopback fake of Discord (REST + gateway), spoken to by the real discord.py.

REST under ``/api/v10``: ``/users/@me``, ``/oauth2/applications/@me``, ``/gateway(/bot)``, command sync
(global and per guild), interaction callbacks (the real 200 JSON body with ``?with_response=1``, else 204),
``/webhooks/{app}/{token}`` followups and ``messages/@original`` (or an id) GET/PATCH/DELETE, and
``/channels/{id}/messages`` (with ``nonce`` / ``enforce_nonce``: :mod:`.discord_nonces`). It enforces
the 3 s acknowledgement deadline (10062), "already acknowledged" (40060), the token's 15-minute life
(50027, on request), 2000 content characters, 10 attachments and the per-request upload size (413 /
40005), and can inject 429 (with ``Via``, JSON ``retry_after`` and ``X-RateLimit-*`` headers), 403
(50013/50001) and 5xx. The gateway at ``/gateway`` (:mod:`.discord_gateway`: shards and session start
limits) speaks HELLO, heartbeat ACK, IDENTIFY → READY → GUILD_CREATE, and lets a test inject
INTERACTION_CREATE and MESSAGE_CREATE::

    async with FakeDiscord() as dc:         # dc.api_base_url / dc.gateway_url for the bot
        await dc.wait_for(lambda: dc.ready)
        it = dc.slash("imagine", {"prompt": "a fox"})
        await dc.wait_for(lambda: dc.original(it) and dc.original(it)["attachments"])
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web

from tests.fakes.discord_gateway import Gateway
from tests.fakes.discord_nonces import Nonces
from tests.fakes.discord_rest import ApiError, Upload, error_response, json_response, read_upload
from tests.fakes.discord_users import UserActions
from tests.fakes.discord_world import (
    BOT_ID,
    CHANNEL,
    EPHEMERAL,
    LOADING,
    TOKEN,
    Interaction,
    World,
    iso,
)

ACK_DEADLINE_S = 3.0


@dataclass(frozen=True)
class Call:
    route: str
    method: str
    path: str
    payload: dict[str, Any]
    files: dict[int, tuple[str, bytes, str]]
    at: float


@dataclass
class Fault:
    route: str | None
    status: int = 0
    code: int = 0
    message: str = ""
    retry_after: float = 0.0
    delay_s: float = 0.0
    via: bool = True
    uploads_only: bool = False
    """Only requests that upload files (a result, not a status edit)."""


class FakeDiscord(UserActions):
    """Start with ``async with``; see the module docstring."""

    def __init__(self, *, token: str = TOKEN) -> None:
        self.token = token
        self.world = World()
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        """Synced commands by guild id (None: global)."""
        self.gateway = Gateway(self, on_change=self._notify)
        self.nonces = Nonces()
        """Create Message's ``enforce_nonce`` (:mod:`.discord_nonces`; ``nonces.clock`` is replaceable)."""
        self.hold_uploads: asyncio.Event | None = None
        """While set to an unset event, a channel post with files is made, then its answer waits for the
        event: a bot killed meanwhile never hears that Discord took it."""
        self.ready = False
        """A gateway session has had its READY and GUILD_CREATEs."""
        self.errors: list[str] = []
        """Requests the fake itself failed on (a test should end with none)."""
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # ---------------------------------------------------------------------------------- lifecycle

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.origin}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_get("/gateway", self._serve_gateway)
        app.router.add_get("/attachments/{id}/{name}", self._cdn)
        app.router.add_route("*", "/api/v10/{path:.+}", self._api)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self._port = server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for session in list(self.gateway.sessions):
            await session.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -------------------------------------------------------------------------------- test driving

    def fail_next(
        self,
        route: str | None,
        status: int,
        *,
        code: int = 0,
        message: str | None = None,
        retry_after: float = 0.05,
        times: int = 1,
        via: bool = True,
        uploads_only: bool = False,
    ) -> None:
        """The next call(s) to ``route`` (callback, original, followup, channel_messages, webhook_message,
        commands; None: any) fail with Discord's error body for ``status``."""
        defaults = {
            429: (0, "You are being rate limited."),
            403: (50013, "Missing Permissions"),
            500: (0, "500: Internal Server Error"),
            502: (0, "502: Bad Gateway"),
        }
        default_code, default_message = defaults.get(status, (0, "Error"))
        for _ in range(times):
            self.faults.append(
                Fault(
                    route,
                    status,
                    code or default_code,
                    message or default_message,
                    retry_after,
                    via=via,
                    uploads_only=uploads_only,
                )
            )

    def deny(self, channel: int = CHANNEL, code: int = 50013) -> None:
        """The bot lacks permissions in the channel: its posts there answer 403."""
        text = "Missing Permissions" if code == 50013 else "Missing Access"
        self.world.channels[channel].denied = {"message": text, "code": code}

    def expire(self, interaction: Interaction) -> None:
        """The interaction's token is past its 15 minutes."""
        interaction.expired = True

    async def wait_for(self, predicate: Callable[[], object], within_s: float = 15.0) -> None:
        """Until ``predicate()`` is true (checked after every request and every injection)."""

        async def waiting() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: bool(predicate()))

        await asyncio.wait_for(waiting(), within_s)

    # ---------------------------------------------------------------------------------- inspection

    def calls_to(self, route: str) -> list[Call]:
        return [c for c in self.calls if c.route == route]

    def original(self, interaction: Interaction) -> dict[str, Any] | None:
        """The interaction's original response as it is now (None before it or after deletion)."""
        if interaction.original_id is None or interaction.original_id in self.world.deleted:
            return None
        return self.world.messages.get(interaction.original_id)

    def followups(self, interaction: Interaction) -> list[dict[str, Any]]:
        return [self.world.messages[m] for m in interaction.followups if m not in self.world.deleted]

    def channel_messages(self, channel: int = CHANNEL, *, by_bot: bool = True) -> list[dict[str, Any]]:
        """Messages in the channel that still exist, oldest first (interaction responses included)."""
        return [
            m
            for mid, m in self.world.messages.items()
            if m["channel_id"] == str(channel)
            and mid not in self.world.deleted
            and (not by_bot or m["author"]["id"] == str(BOT_ID))
            and not m["flags"] & EPHEMERAL
        ]

    def file_bytes(self, attachment: dict[str, Any]) -> bytes:
        return self.world.files[attachment["id"]].data

    @staticmethod
    def custom_ids(message: dict[str, Any]) -> list[str]:
        return [c["custom_id"] for row in message.get("components", []) for c in row.get("components", [])]

    # ------------------------------------------------------------------------------------ gateway

    @property
    def identified(self) -> list[dict[str, Any]]:
        """Every IDENTIFY (and RESUME) payload the gateway got, in order."""
        return self.gateway.identified

    def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.gateway.dispatch(event, data, self._spawn)
        self._spawn(self._notify())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve_gateway(self, request: web.Request) -> web.WebSocketResponse:
        try:
            return await self.gateway.serve(request)
        finally:
            await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ---------------------------------------------------------------------------------------- REST

    async def _cdn(self, request: web.Request) -> web.Response:
        stored = self.world.files.get(request.match_info["id"])
        if stored is None:
            return web.Response(status=404)
        return web.Response(body=stored.data, content_type=stored.content_type)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        from tests.fakes.discord_routes import route  # the handlers, by path

        path = "/" + request.match_info["path"]
        try:
            name, handler = route(self, request.method, path)
            upload = await read_upload(request) if request.method in ("POST", "PATCH", "PUT") else Upload({})
            self.calls.append(
                Call(name, request.method, path, upload.payload, upload.files, time.monotonic())
            )
            fault = self._take_fault(name, bool(upload.files))
            if fault is not None:
                if fault.delay_s:
                    await asyncio.sleep(fault.delay_s)
                if fault.status:
                    return self._fault_response(fault)
            return await handler(request, upload)
        except ApiError as exc:
            return error_response(exc)
        except Exception as exc:  # a bug in the fake or a request it cannot read: fail fast, loudly
            self.errors.append(f"{request.method} {path}: {exc!r}")
            return error_response(ApiError(400, f"fake Discord could not handle this: {exc!r}", 0))
        finally:
            await self._notify()

    def _take_fault(self, route: str, uploads: bool) -> Fault | None:
        for fault in self.faults:
            if (fault.route == route or fault.route is None) and (uploads or not fault.uploads_only):
                self.faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _fault_response(fault: Fault) -> web.Response:
        if fault.status == 429:
            headers = {
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
                "X-RateLimit-Reset": f"{time.time() + fault.retry_after:.3f}",
                "X-RateLimit-Bucket": "fakebucket",
                "X-RateLimit-Scope": "user",
                "Retry-After": str(max(1, round(fault.retry_after))),
            }
            if fault.via:
                headers["Via"] = "1.1 google"
            body = {"message": fault.message, "retry_after": fault.retry_after, "global": False}
            return json_response(body, 429, headers)
        return error_response(ApiError(fault.status, fault.message, fault.code))

    # --------------------------------------------------------------------------------- responses

    def now_iso(self) -> str:
        return iso()

    def check_ack_window(self, interaction: Interaction) -> None:
        if time.monotonic() - interaction.created > ACK_DEADLINE_S:
            raise ApiError(404, "Unknown interaction", 10062)
        if interaction.response_type is not None:
            raise ApiError(400, "Interaction has already been acknowledged.", 40060)

    @staticmethod
    def loading_flags(ephemeral: bool) -> int:
        return LOADING | (EPHEMERAL if ephemeral else 0)
