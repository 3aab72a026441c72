"""Engine creation for SQLite (WAL) and PostgreSQL, and a friendly connection check."""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.core.errors import StorageError
from bot.storage.sqlite_driver import async_creator

SQLITE_BUSY_TIMEOUT_MS = 5_000
CONNECT_TIMEOUT_S = 5.0
CHECK_TIMEOUT_S = 10.0

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise StorageError(
            f"Invalid database URL {redact_url(url)!r}: {exc}",
            user_message="The database URL in the settings is not valid.",
        ) from exc


def normalise_url(url: str) -> str:
    """``sqlite:///x`` → ``sqlite+aiosqlite:///x``; ``postgresql://`` → ``postgresql+asyncpg://``."""
    parsed = _parse(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is not None:
        parsed = parsed.set(drivername=driver)
    return parsed.render_as_string(hide_password=False)


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (safe to log and show)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _sqlite_file(parsed: URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def _split_libpq_options(parsed: URL) -> tuple[URL, dict[str, str]]:
    """Turn libpq's ``?options=-csearch_path%3Dx`` (unknown to asyncpg) into asyncpg server settings."""
    raw = parsed.query.get("options")
    if raw is None:
        return parsed, {}
    settings: dict[str, str] = {}
    tokens = iter(shlex.split(raw if isinstance(raw, str) else " ".join(raw)))
    for token in tokens:
        if token == "-c":
            setting = next(tokens, "")
        elif token.startswith(("-c", "--")):
            setting = token[2:]
        else:
            setting = ""
        name, sep, value = setting.partition("=")
        if not (sep and name):
            raise StorageError(
                f"Unsupported 'options' in the database URL {redact_url(parsed.render_as_string())}: "
                f"expected '-c name=value', got {token!r}",
                user_message="The database URL in the settings is not valid.",
            )
        settings[name.replace("-", "_")] = value
    return parsed.difference_update_query(["options"]), settings


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_engine(
    url: str, *, connect_args: Mapping[str, Any] | None = None, echo: bool = False
) -> AsyncEngine:
    """An async engine for ``url`` (plain sqlite/postgresql URLs are switched to async drivers).

    SQLite: the parent directory is created; every connection gets WAL, foreign keys and a busy
    timeout; a database file with no URL options is opened through :mod:`bot.storage.sqlite_driver`
    (fewer thread round trips per statement). PostgreSQL: pre-ping, recycled connections and a connect
    timeout. ``connect_args`` are passed to the driver on top of those defaults (e.g. asyncpg
    ``server_settings``).
    """
    parsed = _parse(normalise_url(url))
    backend = parsed.get_backend_name()
    args: dict[str, Any] = {}
    options: dict[str, Any] = {"echo": echo}
    if backend == "sqlite":
        db_file = _sqlite_file(parsed)
        if db_file is not None:
            try:
                db_file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"Cannot create the directory for the database {redact_url(url)}: {exc}",
                    user_message="The history database could not be created.",
                ) from exc
        args["timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000
    elif backend == "postgresql":
        if parsed.get_driver_name() == "asyncpg":
            parsed, server_settings = _split_libpq_options(parsed)
            args["timeout"] = CONNECT_TIMEOUT_S
            if server_settings:
                args["server_settings"] = server_settings
        options.update(pool_pre_ping=True, pool_recycle=1800, pool_size=5, max_overflow=10)
    extra = dict(connect_args or {})
    if "server_settings" in args and "server_settings" in extra:
        extra["server_settings"] = {**args["server_settings"], **extra["server_settings"]}
    args.update(extra)
    if backend == "sqlite" and parsed.get_driver_name() == "aiosqlite" and not parsed.query:
        db_file = _sqlite_file(parsed)
        if db_file is not None:  # the arguments SQLAlchemy's aiosqlite dialect gives a file database
            options["async_creator"] = async_creator(db_file, **{"check_same_thread": False, **args})
    engine = create_async_engine(parsed, connect_args=args, **options)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    return engine


async def check_connection(engine: AsyncEngine) -> None:
    """Run ``SELECT 1``; raise ``StorageError`` naming the (redacted) URL when it fails."""
    shown = engine.url.render_as_string(hide_password=True)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (OSError, SQLAlchemyError) as exc:  # TimeoutError is an OSError
        reason = str(exc).strip() or type(exc).__name__
        raise StorageError(
            f"Cannot connect to the database at {shown}: {reason}",
            user_message="The history database is unavailable right now.",
        ) from exc
