"""aiosqlite connections that cross to their SQLite thread once per statement instead of four or five.

aiosqlite runs every call on a thread of its own, and each call is a round trip (a queue hand-off, a
thread wake-up and a wake-up of the event loop). Through SQLAlchemy one statement took five of them
(create a cursor, execute, fetch, close the cursor, and a rollback when the connection went back to
the pool) and a write six (with the commit); on SQLite they cost far more than the statement itself.

Here the cursor is created, the statement executed, its rows fetched and the cursor closed in one
trip, and a commit or rollback with no transaction open (SQLite opens one only before a write) is not
sent at all. The same statements run in the same order on the same thread: only the trips are fewer.

**One writer at a time.** SQLite lets one connection write at a time; the others wait in its busy
handler, which polls with growing sleeps, serves nobody in order and gives up after ``busy_timeout``
("database is locked": under a burst of thousands of requests some were refused so). Here the
connections of one process to one file take turns instead: a statement that may write (anything but
``SELECT``, ``PRAGMA`` and ``EXPLAIN``) first waits for the file's writer turn, first come first served,
and the connection keeps it until its commit, rollback or close. Reads never wait (WAL). The busy
handler remains for other processes (``easel schedule`` beside ``easel run``). A connection that would
wait past ``WRITER_WAIT_S`` (one task writing on two connections at once, which SQLite could never
serve either) gets ``database is locked``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")
WRITER_WAIT_S = 30.0
_READS = frozenset({"SELECT", "PRAGMA", "EXPLAIN"})
"""First words of statements that never open a write transaction (anything else takes the turn)."""
_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)
"""The writer turn of each database file, per event loop (an asyncio lock belongs to one loop)."""


def _may_write(sql: str) -> bool:
    words = sql.lstrip().split(None, 1)
    return bool(words) and words[0].upper() not in _READS


def writer_turn(database: Path) -> asyncio.Lock:
    """The lock that this event loop's connections to ``database`` take before writing."""
    per_file = _turns.setdefault(asyncio.get_running_loop(), {})
    return per_file.setdefault(str(database.resolve()), asyncio.Lock())


class _Cursor(aiosqlite.Cursor):
    """A cursor whose ``execute`` also fetches all rows and closes the sqlite3 cursor (one trip);
    ``fetchall`` then hands those rows over and ``close`` has nothing left to do."""

    def __init__(self, conn: _Connection) -> None:
        self.iter_chunk_size = conn._iter_chunk_size
        self._conn: _Connection = conn
        self._cursor: sqlite3.Cursor = None  # type: ignore[assignment]  # made on the SQLite thread
        self._rows: list[Any] = []

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _run(self, sql: str, parameters: Any) -> list[Any]:
        """On the SQLite thread: a fresh sqlite3 cursor executes, fetches everything and is closed
        (it stays this cursor's, for description, rowcount and lastrowid, until the next execute)."""
        self._cursor = self._conn._conn.cursor()
        try:
            self._cursor.execute(sql, parameters)
            return self._cursor.fetchall() if self._cursor.description is not None else []
        finally:
            self._cursor.close()

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> _Cursor:
        if _may_write(sql):
            await self._conn.take_writer_turn()
        self._rows = await self._on_thread(self._run, sql, [] if parameters is None else parameters)
        return self

    async def _on_thread(self, fn: Callable[..., T], *args: Any) -> T:
        result: T = await self._conn._execute(fn, *args)
        return result

    def _run_many(self, sql: str, parameters: Any) -> None:
        """On the SQLite thread: execute for each set of parameters, close."""
        self._cursor = self._conn._conn.cursor()
        try:
            self._cursor.executemany(sql, parameters)
        finally:
            self._cursor.close()

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> _Cursor:
        self._rows = []
        if _may_write(sql):
            await self._conn.take_writer_turn()
        await self._on_thread(self._run_many, sql, parameters)
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.iter_chunk_size if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def close(self) -> None:
        self._rows = []  # the sqlite3 cursor was closed on its thread (it may not be touched here)


class _Connection(aiosqlite.Connection):
    def __init__(
        self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int, database: Path
    ) -> None:
        super().__init__(connector, iter_chunk_size)
        self._database = database
        self._turn: asyncio.Lock | None = None
        """The file's writer turn while this connection holds it (from a write to its commit)."""
        self._submitted = 0
        """Calls queued for the SQLite thread (counted on the event loop's thread only)."""
        self._completed = 0
        """Calls the SQLite thread has finished (counted on that thread only)."""

    def cursor(self) -> _Cursor:  # type: ignore[override]  # SQLAlchemy only awaits __aenter__
        return _Cursor(self)

    async def _execute(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def counted() -> T:
            try:
                return fn(*args, **kwargs)
            finally:
                self._completed += 1

        self._submitted += 1
        result: T = await super()._execute(counted)  # type: ignore[no-untyped-call]
        return result

    async def take_writer_turn(self) -> None:
        """Wait for the file's writer turn (kept until commit, rollback or close)."""
        if self._turn is not None:
            return
        turn = writer_turn(self._database)
        try:
            async with asyncio.timeout(WRITER_WAIT_S):
                await turn.acquire()
        except TimeoutError as exc:
            raise sqlite3.OperationalError(
                f"database is locked (no writer turn within {WRITER_WAIT_S:.0f} s)"
            ) from exc
        self._turn = turn

    def _end_writer_turn(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.release()

    def _in_transaction(self) -> bool:
        """Whether a commit or rollback has anything to do. A call still running on the SQLite thread
        (its caller was cancelled) may be about to open a transaction: then the answer is yes."""
        if self._submitted != self._completed:
            return True
        return self._connection is not None and self._connection.in_transaction

    async def commit(self) -> None:
        try:
            if self._in_transaction():
                await super().commit()
        finally:
            self._end_writer_turn()

    async def rollback(self) -> None:
        try:
            if self._in_transaction():
                await super().rollback()
        finally:
            self._end_writer_turn()

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self._end_writer_turn()


def async_creator(database: Path, **connect_args: Any) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine``: such connections to the file ``database``
    (``connect_args`` go to ``sqlite3.connect``, e.g. ``timeout``)."""

    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(str(database), **connect_args)
        return connection

    async def create() -> aiosqlite.Connection:
        connection = _Connection(connector, iter_chunk_size=64, database=database)
        connection._thread.daemon = True  # as SQLAlchemy does: a forgotten connection cannot hang exit
        connected: aiosqlite.Connection = await connection
        return connected

    return create
