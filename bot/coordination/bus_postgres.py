"""The bus over PostgreSQL's LISTEN/NOTIFY: the replicas of one database already share it.

One dedicated connection listens on a channel named after the database (and schema), so replicas of
different installations on one server do not hear each other; messages are sent on the same
connection (``pg_notify``). If the connection breaks, it is opened again; messages sent meanwhile are
lost, which the job table's polling makes up for.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging

import asyncpg
from sqlalchemy.engine import make_url

from bot.coordination.bus_remote import RemoteBus

log = logging.getLogger(__name__)
RECONNECT_S = 2.0


def connect_args(database_url: str) -> tuple[str, dict[str, str]]:
    """asyncpg's DSN and server settings for a SQLAlchemy ``postgresql+asyncpg://`` URL."""
    url = make_url(database_url)
    options = str(url.query.get("options") or "")
    settings: dict[str, str] = {}
    for part in options.split():
        if part.startswith("-c") and "=" in part:
            key, _, value = part[2:].partition("=")
            settings[key] = value
    dsn = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    return dsn, settings


class PostgresBus(RemoteBus):
    def __init__(self, database_url: str, *, replica: str) -> None:
        super().__init__(replica)
        self._dsn, self._server_settings = connect_args(database_url)
        self.channel = "easel_" + hashlib.sha256(database_url.encode()).hexdigest()[:16]
        self._connection: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self._keeper: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        await self._connect()
        self._keeper = asyncio.create_task(self._keep_alive(), name="easel-bus-postgres")

    async def aclose(self) -> None:
        self._closing = True
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()

    async def _connect(self) -> None:
        connection = await asyncpg.connect(self._dsn, server_settings=self._server_settings)
        await connection.add_listener(self.channel, self._notified)
        self._connection = connection

    def _notified(self, connection: object, pid: int, channel: str, payload: str) -> None:
        asyncio.get_running_loop().create_task(self._received(payload))

    async def _send(self, payload: str) -> None:
        async with self._lock:
            if self._connection is None or self._connection.is_closed():
                raise ConnectionError("the bus is not connected")
            await self._connection.execute("SELECT pg_notify($1, $2)", self.channel, payload)

    async def _keep_alive(self) -> None:
        while not self._closing:
            await asyncio.sleep(RECONNECT_S)
            if self._connection is not None and not self._connection.is_closed():
                continue
            try:
                async with self._lock:
                    await self._connect()
                log.info("bus: reconnected to PostgreSQL")
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("bus: PostgreSQL unreachable (%s); retrying", exc)
