"""One ``easel run`` per SQLite file: a second one is refused with a clear message.

SQLite is the one-machine default; two processes running jobs on one file would both work on them
(SQLite has no ``SKIP LOCKED``, and its file locks are not leases). ``easel run`` takes an exclusive
``flock`` on ``<database>.run.lock`` for as long as it runs; the kernel lets go of it when the process
ends, however it ends (SIGKILL included), so a crash never leaves a stale lock behind. ``easel gen`` and
``easel chat`` do not take it (their jobs are their own). PostgreSQL needs no lock: replicas share it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.core.errors import ConfigError


def lock_path(database_url: str) -> Path | None:
    """The lock file of a SQLite database on disk; None for PostgreSQL and in-memory SQLite."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    return Path(f"{url.database}.run.lock")


@contextlib.contextmanager
def single_runner(database_url: str) -> Iterator[None]:
    """Hold the database's run lock while the block runs; ConfigError when another process holds it."""
    path = lock_path(database_url)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            raise ConfigError(
                f"Another `easel run` (pid {holder}) is already using "
                f"{make_url(database_url).database}. "
                "Stop it first: two processes on one SQLite file would both answer every request. "
                "To run several replicas, use PostgreSQL (database_url) and optionally Redis (redis_url)."
            ) from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor lets go of the lock
