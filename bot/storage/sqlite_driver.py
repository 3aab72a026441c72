"""aiosqlite connections that cross to their SQLite thread once per statement instead of four or five.

aiosqlite runs every call on a thread of its own, and each call is a round trip (a queue hand-off, a
thread wake-up and a wake-up of the event loop). Through SQLAlchemy one statement took five of them
(create a cursor, execute, fetch, close the cursor, and a rollback when the connection went back to
the pool) and a write six (with the commit); on SQLite they cost far more than the statement itself.

Here the cursor is created, the statement executed, its rows fetched and the cursor closed in one
trip, and a commit or rollback with no transaction open (SQLite opens one only before a write) is not
sent at all. The same statements run in the same order on the same thread: only the trips are fewer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")


class _Cursor(aiosqlite.Cursor):
    """A cursor whose ``execute`` also fetches all rows and closes the sqlite3 cursor (one trip);
    ``fetchall`` then hands those rows over and ``close`` has nothing left to do."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.iter_chunk_size = conn._iter_chunk_size
        self._conn = conn
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
        self._rows = await self._on_thread(self._run, sql, [] if parameters is None else parameters)
        return self

    async def _on_thread(self, fn: Callable[..., T], *args: Any) -> T:
        result: T = await self._conn._execute(fn, *args)  # type: ignore[no-untyped-call]
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
    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
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

    def _in_transaction(self) -> bool:
        """Whether a commit or rollback has anything to do. A call still running on the SQLite thread
        (its caller was cancelled) may be about to open a transaction: then the answer is yes."""
        if self._submitted != self._completed:
            return True
        return self._connection is not None and self._connection.in_transaction

    async def commit(self) -> None:
        if self._in_transaction():
            await super().commit()

    async def rollback(self) -> None:
        if self._in_transaction():
            await super().rollback()


def async_creator(database: Path, **connect_args: Any) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine``: such connections to the file ``database``
    (``connect_args`` go to ``sqlite3.connect``, e.g. ``timeout``)."""

    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(str(database), **connect_args)
        return connection

    async def create() -> aiosqlite.Connection:
        connection = _Connection(connector, iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does: a forgotten connection cannot hang exit
        connected: aiosqlite.Connection = await connection
        return connected

    return create
