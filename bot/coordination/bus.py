"""Which bus a replica uses: Redis pub/sub when ``redis_url`` is set, else PostgreSQL's LISTEN/NOTIFY
when the database is PostgreSQL (replicas share it), else the in-process bus (SQLite: one process)."""

from __future__ import annotations

import os
import socket
import uuid

from bot.core.bus import EventBus, LocalBus


def replica_name() -> str:
    """This process's name among the replicas: host, pid and a random part (a restart is a new one)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def make_bus(
    database_url: str, redis_url: str | None, *, replica: str, redis_prefix: str = "easel"
) -> EventBus:
    if redis_url:
        from bot.coordination.bus_redis import RedisBus

        return RedisBus(redis_url, replica=replica, channel=f"{redis_prefix}:bus")
    if database_url.startswith("postgresql"):
        from bot.coordination.bus_postgres import PostgresBus

        return PostgresBus(database_url, replica=replica)
    return LocalBus()
