"""Scenario 4, history at scale: "last image in this chat" and a history page with 1,000,000
generations in SQLite, through ``SqlHistoryStore`` (SQLAlchemy + aiosqlite, as the bot runs).

The database is built once with the migrations and bulk ``executemany`` inserts, then kept under the
temporary directory, keyed by schema revision and size, so reruns start at once. Chats get
generations Zipf-like (chat 1 has about an eighth of all rows); 90% are done with one image.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.report import Result, percentile
from bot.storage.db import make_engine
from bot.storage.migrate import head, upgrade
from bot.storage.repos import SqlHistoryStore

CHATS = 2_000
USERS = 5_000
BIG_CHAT = 1
SEED = 20261121


def _cache_path(rows: int) -> Path:
    folder = Path(tempfile.gettempdir()) / "easel-bench-cache"
    folder.mkdir(exist_ok=True)
    return folder / f"history-{head()}-{rows}.db"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # how SQLAlchemy stores DateTime in SQLite


def _generations(rows: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    weights = [1 / (k + 1) for k in range(CHATS)]
    chats = rng.choices(range(1, CHATS + 1), weights=weights, k=rows)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    params = json.dumps({"n": 1, "aspect": "1:1", "seed": 1})
    for i, chat in enumerate(chats, start=1):
        roll = rng.random()
        status = "done" if roll < 0.90 else "failed" if roll < 0.97 else "cancelled"
        when = _stamp(start + timedelta(seconds=30 * i))
        yield (
            i, chat, rng.randrange(1, USERS + 1), "generate", status, f"a fox number {i}", None, params,
            "builtin", "m", None, None if status == "done" else "boom", when, when, when,
        )  # fmt: skip


def _image_row(generation_id: int, created: str) -> tuple[Any, ...]:
    name = f"{generation_id:032x}"
    path = f"/media/2025-01-01/{name}.png"
    return (name, generation_id, 0, path, "image/png", "0" * 64, 123_456, 1024, 1024, generation_id, created)


def build(path: Path, rows: int) -> float:
    """Create the schema with the migrations and fill it; return the seconds the inserts took."""
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{tmp}"))
    rng = random.Random(SEED)
    started = time.perf_counter()
    db = sqlite3.connect(tmp)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    when = _stamp(datetime(2025, 1, 1, tzinfo=UTC))
    # Secondary indexes are dropped for the load and made again after it (the migrations' own DDL).
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('generations', 'images')"
    ).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    with db:
        db.executemany(
            "INSERT INTO users (id, platform, external_id, display_name, created_at) VALUES (?,?,?,?,?)",
            ((u, "telegram", str(u), f"User {u}", when) for u in range(1, USERS + 1)),
        )
        db.executemany(
            "INSERT INTO chats (id, platform, external_id, settings, created_at) VALUES (?,?,?,?,?)",
            ((c, "telegram", str(c), "{}", when) for c in range(1, CHATS + 1)),
        )
        done: list[tuple[int, str]] = []

        def generations() -> Iterator[tuple[Any, ...]]:
            for row in _generations(rows, rng):
                if row[4] == "done":
                    done.append((row[0], row[13]))
                yield row

        db.executemany(
            "INSERT INTO generations (id, chat_id, user_id, kind, status, prompt, negative, params, "
            "provider, model, parent_id, error, created_at, started_at, finished_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            generations(),
        )
        db.executemany(
            "INSERT INTO images (id, generation_id, position, path, mime, sha256, size_bytes, width, "
            "height, seed, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (_image_row(g, created) for g, created in done),
        )
    for _, sql in indexes:
        db.execute(sql)
    db.execute("ANALYZE")
    db.close()
    tmp.rename(path)
    return time.perf_counter() - started


def query_plans(path: Path, statements: list[tuple[str, Any]]) -> list[str]:
    """EXPLAIN QUERY PLAN of each captured statement, one line per statement."""
    db = sqlite3.connect(path)
    lines = []
    for sql, params in statements:
        plan = db.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
        first = " ".join(sql.split())[:70]
        lines.append(f"{first}… → " + "; ".join(step[-1] for step in plan))
    db.close()
    return lines


async def _timed(calls: int, make: Any) -> list[float]:
    out = []
    for i in range(calls):
        t0 = time.perf_counter()
        await make(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def _measure(path: Path, calls: int) -> tuple[dict[str, list[float]], list[str]]:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    store = SqlHistoryStore(engine)
    rng = random.Random(SEED + 1)
    weights = [1 / (k + 1) for k in range(CHATS)]
    chats = rng.choices(range(1, CHATS + 1), weights=weights, k=calls)
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        captured.append((statement, parameters))

    try:
        await store.last_generation(chat_id=BIG_CHAT)  # warm the pool and the statement cache
        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        await store.last_generation(chat_id=BIG_CHAT)
        await store.list_generations(chat_id=BIG_CHAT, limit=10, offset=190)
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
        figures = {
            "last image, chat picked by activity": await _timed(
                calls, lambda i: store.last_generation(chat_id=chats[i])
            ),
            f"last image, busiest chat (#{BIG_CHAT})": await _timed(
                calls, lambda i: store.last_generation(chat_id=BIG_CHAT)
            ),
            "last image, unknown chat": await _timed(calls, lambda i: store.last_generation(chat_id=10**9)),
            "history page 1, busiest chat": await _timed(
                calls, lambda i: store.list_generations(chat_id=BIG_CHAT, limit=10)
            ),
            "history page 20, busiest chat": await _timed(
                calls, lambda i: store.list_generations(chat_id=BIG_CHAT, limit=10, offset=190)
            ),
            "history page 1, chat picked by activity": await _timed(
                calls, lambda i: store.list_generations(chat_id=chats[i], limit=10)
            ),
        }
    finally:
        await engine.dispose()
    return figures, query_plans(path, captured)


def run(quick: bool) -> list[Result]:
    rows, calls = (200_000, 300) if quick else (1_000_000, 1_000)
    path = _cache_path(rows)
    note = f"database cached at {path}"
    if not path.exists():
        seconds = build(path, rows)
        note = f"built in {seconds:.1f} s ({rows / seconds:,.0f} rows/s with executemany); cached at {path}"
    figures, plans = asyncio.run(_measure(path, calls))
    result = Result(
        f"4. History in SQLite: {rows:,} generations, {CHATS:,} chats ({calls:,} calls each)",
        ["query", "p50 ms", "p99 ms"],
    )
    for name, times in figures.items():
        result.add(name, percentile(times, 50), percentile(times, 99))
    result.notes += [note, *(f"plan: {line}" for line in plans)]
    return [result]
