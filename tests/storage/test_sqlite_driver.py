"""The SQLite connections of ``bot.storage.sqlite_driver``: same results and transactions as plain
aiosqlite, in fewer trips to the SQLite thread."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import make_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One entry per call run on a SQLite thread."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return seen


async def test_connections_are_still_set_up(engine: AsyncEngine) -> None:
    """Connections still get WAL and foreign keys (several statements on one setup cursor)."""
    async with engine.connect() as conn:
        mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
        keys = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
    assert (mode, keys) == ("wal", 1)


async def test_a_read_is_one_trip(engine: AsyncEngine, trips: list[str]) -> None:
    """A SELECT on a pooled connection crosses to the SQLite thread once (no cursor, fetch, close or
    rollback trips of their own)."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the pool's first connection is set up outside the count
    trips.clear()
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT 41 + 1"))).scalar_one() == 42
    assert len(trips) == 1


async def test_a_write_is_one_trip_and_a_commit(engine: AsyncEngine, trips: list[str]) -> None:
    """An INSERT ... RETURNING in a transaction is one trip plus the commit."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    trips.clear()
    async with engine.begin() as conn:
        new_id = (await conn.execute(text("INSERT INTO t (name) VALUES ('a') RETURNING id"))).scalar_one()
    assert new_id == 1 and len(trips) == 2


async def test_failed_transaction_is_rolled_back(engine: AsyncEngine) -> None:
    """A transaction that fails half-way leaves nothing behind."""
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))

    async def insert_b_then_a_again() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('b')"))
            await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))

    with pytest.raises(IntegrityError):
        await insert_b_then_a_again()
    async with engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
    assert names == ["a"]


async def test_explicit_rollback_discards_writes(engine: AsyncEngine) -> None:
    """Rolling back a transaction with writes in it discards them."""
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('gone')"))
        await conn.rollback()
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_executemany_and_rowcount(engine: AsyncEngine) -> None:
    """Many parameter sets insert every row; an UPDATE reports the rows it changed."""
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES (:name)"), [{"name": n} for n in "xyz"])
        changed = await conn.execute(text("UPDATE t SET name = name || '!' WHERE name != 'y'"))
    assert changed.rowcount == 2
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
    assert rows == ["x!", "y", "z!"]


async def test_many_rows_come_back_whole(engine: AsyncEngine) -> None:
    """A result larger than a fetch chunk comes back complete and in order."""
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": f"n{i}"} for i in range(500)]
        )
    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT id FROM t ORDER BY id"))
        first = result.fetchmany(10)
        rest = result.fetchall()
    assert [r[0] for r in first + rest] == list(range(1, 501))


async def test_concurrent_writers_take_turns_instead_of_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty transactions that each hold the write lock across an await all commit, though SQLite's
    own busy handler would give up after 20 ms ("database is locked")."""
    monkeypatch.setattr("bot.storage.db.SQLITE_BUSY_TIMEOUT_MS", 20)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}", connect_args={"timeout": 0.02})
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))

    async def write(n: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), {"n": f"a{n}"})
            await asyncio.sleep(0.01)  # the write lock is held across the event loop
            await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), {"n": f"b{n}"})

    try:
        await asyncio.gather(*(write(n) for n in range(20)))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 40
    finally:
        await engine.dispose()


async def test_reads_do_not_wait_for_a_writer(engine: AsyncEngine) -> None:
    """A SELECT on another connection runs while a write transaction is open (WAL)."""
    async with engine.begin() as writer:
        await writer.execute(text("INSERT INTO t (name) VALUES ('pending')"))
        async with engine.connect() as reader:
            count = await asyncio.wait_for(reader.execute(text("SELECT count(*) FROM t")), 1)
            assert count.scalar_one() == 0


async def test_the_writer_turn_is_given_back_after_a_failed_transaction(engine: AsyncEngine) -> None:
    """A transaction that fails (and rolls back) lets the next writer in at once."""
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
    async with asyncio.timeout(1), engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('b')"))
