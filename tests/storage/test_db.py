"""Engine creation, URL handling and connection checks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.errors import StorageError
from bot.storage.db import check_connection, make_engine, normalise_url, redact_url


def test_normalise_sqlite_url_uses_aiosqlite() -> None:
    """A plain sqlite URL is switched to the aiosqlite driver."""
    assert normalise_url("sqlite:///data/easel.db") == "sqlite+aiosqlite:///data/easel.db"


def test_normalise_postgresql_url_uses_asyncpg_and_keeps_password() -> None:
    """A plain postgresql URL is switched to asyncpg without losing the password."""
    assert normalise_url("postgresql://u:pw@db:5432/easel") == "postgresql+asyncpg://u:pw@db:5432/easel"


def test_normalise_keeps_async_url() -> None:
    """A URL that already names an async driver is left alone."""
    assert normalise_url("postgresql+asyncpg://u@db/easel") == "postgresql+asyncpg://u@db/easel"


def test_redact_url_hides_password() -> None:
    """The password never appears in a redacted URL."""
    shown = redact_url("postgresql+asyncpg://u:s3cret@db/easel")
    assert "s3cret" not in shown
    assert shown == "postgresql+asyncpg://u:***@db/easel"


def test_invalid_url_is_storage_error() -> None:
    """An unparseable URL raises StorageError."""
    with pytest.raises(StorageError):
        normalise_url("not a url")


async def test_sqlite_engine_creates_parent_directory(tmp_path: Path) -> None:
    """make_engine creates the directory the SQLite file lives in."""
    engine = make_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'easel.db'}")
    try:
        await check_connection(engine)
    finally:
        await engine.dispose()
    assert (tmp_path / "a" / "b" / "easel.db").is_file()


async def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    """Every SQLite connection has WAL journaling, foreign keys and a busy timeout."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'easel.db'}")
    try:
        async with engine.connect() as conn:
            journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            foreign_keys = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
    finally:
        await engine.dispose()
    assert (journal, foreign_keys) == ("wal", 1)
    assert busy >= 1000


async def test_check_connection_passes_on_reachable_database(db_url: str) -> None:
    """check_connection returns quietly when the database answers."""
    engine = make_engine(db_url)
    try:
        await check_connection(engine)
    finally:
        await engine.dispose()


async def test_check_connection_unreachable_raises_storage_error_quickly() -> None:
    """An unreachable PostgreSQL URL raises StorageError naming the redacted URL, within seconds."""
    engine = make_engine("postgresql+asyncpg://postgres:hunter2@127.0.0.1:1/nope")
    started = time.monotonic()
    try:
        with pytest.raises(StorageError) as info:
            await check_connection(engine)
    finally:
        await engine.dispose()
    assert time.monotonic() - started < 6
    assert "127.0.0.1:1/nope" in str(info.value)
    assert "hunter2" not in str(info.value)
    assert info.value.__cause__ is not None


async def test_check_connection_corrupt_sqlite_raises_storage_error(tmp_path: Path) -> None:
    """A SQLite file that is not a database raises StorageError."""
    (tmp_path / "junk.db").write_bytes(b"this is not a SQLite database\n" * 200)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'junk.db'}")
    try:
        with pytest.raises(StorageError, match="not a database"):
            await check_connection(engine)
    finally:
        await engine.dispose()


async def test_postgres_url_options_set_search_path(db_url: str) -> None:
    """A libpq-style ``options=-csearch_path=...`` in the URL reaches asyncpg as a server setting."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            schema = (await conn.execute(text("SELECT current_schema()"))).scalar_one()
    finally:
        await engine.dispose()
    assert schema.startswith("t_")


def test_postgres_url_with_bad_options_is_storage_error() -> None:
    """``options`` that are not ``-c name=value`` are rejected with StorageError."""
    with pytest.raises(StorageError):
        make_engine("postgresql+asyncpg://u@db/easel?options=--verbose")
