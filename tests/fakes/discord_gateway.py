"""The fake Discord's gateway (``/gateway``): sessions, shards and the limits on starting them.

HELLO, heartbeat ACK, IDENTIFY → READY → GUILD_CREATE for the session's guilds. IDENTIFY's ``shard``
(``[shard_id, num_shards]``; absent = ``[0, 1]``) decides which guilds a session gets: a guild belongs to
shard ``(guild_id >> 22) % num_shards``; READY lists only those (and carries ``shard``), and every
guild event (interactions, messages) goes only to that shard's session; direct messages go to shard 0.
As Discord does, it closes a session with 4010 *Invalid shard* for a shard id outside ``0..num_shards-1``
and 4011 *Sharding required* when one shard would hold more than 2,500 guilds, answers op 9 *Invalid
Session* to an IDENTIFY sent within 5 s of another in the same bucket (``shard_id % max_concurrency``),
and counts every IDENTIFY against ``session_start_limit.remaining`` (what ``GET /gateway/bot`` reports);
one past the limit ends every session and resets the token (REST then answers 401).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_world import APP_ID, BOT_ID, World

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord

HEARTBEAT_MS = 41250
IDENTIFY_WINDOW_S = 5.0
GUILDS_PER_SHARD = 1000
"""Discord recommends one shard per this many guilds (``GET /gateway/bot``'s ``shards``)."""
MAX_GUILDS_PER_SHARD = 2500
SESSION_STARTS_PER_DAY = 1000
DAY_MS = 24 * 3600 * 1000


@dataclass
class Session:
    """One gateway connection that identified."""

    socket: web.WebSocketResponse
    shard: tuple[int, int]
    """(shard_id, num_shards)."""
    seq: int = 0
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """Every dispatch sent to it: (event name, data)."""

    def owns(self, guild_id: int | None) -> bool:
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else (guild_id >> 22) % count)

    def guilds(self, event: str) -> list[int]:
        """The guild ids of the ``event`` dispatches it received (e.g. GUILD_CREATE)."""
        return [int(data["id"] if event.startswith("GUILD_") else data["guild_id"])
                for name, data in self.received if name == event]  # fmt: skip


class Gateway:
    def __init__(self, fake: FakeDiscord, *, on_change: Callable[[], Awaitable[None]]) -> None:
        self._fake = fake
        self._changed = on_change
        self.sessions: list[Session] = []
        self.identified: list[dict[str, Any]] = []
        """Every IDENTIFY (and RESUME) payload, in order."""
        self.max_concurrency = 1
        """``session_start_limit.max_concurrency``: buckets of shards that may identify together."""
        self.remaining = SESSION_STARTS_PER_DAY
        self.recommended_shards: int | None = None
        """What ``GET /gateway/bot`` recommends; None: one per 1,000 guilds."""
        self._window_start = time.monotonic()
        self._identified_at: dict[int, float] = {}

    @property
    def world(self) -> World:
        return self._fake.world

    # ------------------------------------------------------------------------------------ REST side

    def bot_info(self) -> dict[str, Any]:
        """``GET /gateway/bot``'s body."""
        guilds = len(self.world.member_guilds())
        shards = self.recommended_shards or max(1, math.ceil(guilds / GUILDS_PER_SHARD))
        elapsed_ms = int((time.monotonic() - self._window_start) * 1000)
        return {
            "url": self._fake.gateway_url,
            "shards": shards,
            "session_start_limit": {
                "total": SESSION_STARTS_PER_DAY,
                "remaining": self.remaining,
                "reset_after": max(0, DAY_MS - elapsed_ms),
                "max_concurrency": self.max_concurrency,
            },
        }

    # -------------------------------------------------------------------------------------- events

    def dispatch(
        self, event: str, data: dict[str, Any], spawn: Callable[[Coroutine[Any, Any, None]], None]
    ) -> None:
        """Send a guild (or DM) event to the session of its shard."""
        guild = data.get("guild_id")
        live = [s for s in self.sessions if not s.socket.closed and s.owns(int(guild) if guild else None)]
        assert live, f"no gateway session holds the shard of guild {guild}"
        for session in live:
            spawn(self._send_event(session, event, data))

    async def _send_event(self, session: Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        session.received.append((event, data))
        with contextlib.suppress(ConnectionError, RuntimeError):  # the bot hung up meanwhile
            await session.socket.send_str(json.dumps({"op": 0, "t": event, "s": session.seq, "d": data}))

    # ------------------------------------------------------------------------------------- serving

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}}))
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            op = message.get("op")
            if op == 1:
                await socket.send_str(json.dumps({"op": 11}))
            elif op in (2, 6):
                self.identified.append(message["d"])
                await self._identify(socket, message["d"], resume=op == 6)
        self.sessions = [s for s in self.sessions if s.socket is not socket]
        return socket

    async def _identify(self, socket: web.WebSocketResponse, data: dict[str, Any], *, resume: bool) -> None:
        shard = data.get("shard", [0, 1])
        if not (isinstance(shard, list) and len(shard) == 2 and all(isinstance(n, int) for n in shard)
                and shard[1] >= 1 and 0 <= shard[0] < shard[1]):  # fmt: skip
            await socket.close(code=4010, message=b"Invalid shard.")
            return
        shard_id, count = shard
        if not resume:
            bucket = shard_id % self.max_concurrency
            now = time.monotonic()
            last = self._identified_at.get(bucket)
            if last is not None and now - last < IDENTIFY_WINDOW_S:
                await socket.send_str(json.dumps({"op": 9, "d": False}))
                return
            if self.remaining <= 0:  # Discord ends every session and resets the token
                self._fake.token = "reset-by-discord"
                for other in [*self.sessions, Session(socket, (shard_id, count))]:
                    await other.socket.close(code=4004, message=b"Authentication failed.")
                return
            self.remaining -= 1
            self._identified_at[bucket] = now
        session = Session(socket, (shard_id, count))
        guilds = [g for g in self.world.member_guilds() if session.owns(g)]
        if len(guilds) > MAX_GUILDS_PER_SHARD:
            await socket.close(code=4011, message=b"Sharding required.")
            return
        self.sessions.append(session)
        ready = {
            "v": 10,
            "user": self.world.users[BOT_ID] | {"verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
            "session_id": f"fake-session-{shard_id}",
            "resume_gateway_url": self._fake.gateway_url,
            "application": {"id": str(APP_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        if "shard" in data:
            ready["shard"] = [shard_id, count]
        await self._send_event(session, "READY", ready)
        for guild in guilds:
            await self._send_event(session, "GUILD_CREATE", self.world.guild_create(guild))
        self._fake.ready = True
        await self._changed()
