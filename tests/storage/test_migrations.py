"""Alembic migrations: up, down, up again, and a schema identical to the models."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.core.errors import StorageError
from bot.storage import migrate
from bot.storage.db import make_engine
from bot.storage.tables import Base

SCHEDULER_TABLES = {"schedules", "schedule_runs", "birthdays"}
TABLES = {
    "users",
    "chats",
    "generations",
    "images",
    "jobs",
    "usage",
    "deliveries",
    "shown_messages",
} | SCHEDULER_TABLES


def _schema_diffs(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diffs: list[Any] = compare_metadata(context, Base.metadata)
    return diffs


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            names: list[str] = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


async def test_upgrade_creates_all_tables(db_url: str) -> None:
    """Upgrading an empty database to head creates exactly the model tables."""
    await migrate.upgrade(db_url)
    assert await _tables(db_url) == TABLES
    assert set(Base.metadata.tables) == TABLES


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    """Downgrading to base drops every table, and upgrading again recreates them."""
    await migrate.upgrade(db_url)
    await migrate.downgrade(db_url, "base")
    assert await _tables(db_url) == set()
    assert await migrate.current(db_url) is None
    await migrate.upgrade(db_url)
    assert await _tables(db_url) == TABLES


async def test_current_reports_head_after_upgrade(db_url: str) -> None:
    """current() is None before migrating and the head revision afterwards."""
    assert await migrate.current(db_url) is None
    await migrate.upgrade(db_url)
    assert await migrate.current(db_url) == migrate.head() == "0008"


async def test_migrated_schema_matches_models(db_url: str) -> None:
    """Autogenerate finds no difference between the migrated database and the models."""
    await migrate.upgrade(db_url)
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(_schema_diffs)
    finally:
        await engine.dispose()
    assert diffs == []


async def test_unknown_revision_is_storage_error(db_url: str) -> None:
    """Asking for a revision that does not exist raises StorageError."""
    with pytest.raises(StorageError):
        await migrate.upgrade(db_url, "nope")


def test_migrations_dir_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """EASEL_MIGRATIONS_DIR overrides where the scripts are looked for."""
    monkeypatch.setenv(migrate.MIGRATIONS_DIR_ENV, str(tmp_path))
    assert migrate.migrations_dir() == tmp_path.resolve()


async def test_missing_migrations_dir_is_storage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Upgrading without migration scripts raises StorageError naming the directory."""
    monkeypatch.setenv(migrate.MIGRATIONS_DIR_ENV, str(tmp_path))
    with pytest.raises(StorageError, match="not found"):
        await migrate.upgrade(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")


def test_default_migrations_dir_is_repo_top_level(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the override, the scripts are the repository's top-level migrations/ directory."""
    monkeypatch.delenv(migrate.MIGRATIONS_DIR_ENV, raising=False)
    assert migrate.migrations_dir() == Path(__file__).resolve().parents[2] / "migrations"
    assert (migrate.migrations_dir() / "versions" / "0001_initial.py").is_file()


async def test_downgrade_one_step_keeps_initial_schema(db_url: str) -> None:
    """Downgrading to 0001 removes only the later additions (job pipeline, scheduler)."""
    await migrate.upgrade(db_url)
    await migrate.downgrade(db_url, "0001")
    assert await migrate.current(db_url) == "0001"
    assert await _tables(db_url) == TABLES - {"deliveries", "shown_messages"} - SCHEDULER_TABLES
    await migrate.upgrade(db_url)
    assert await migrate.current(db_url) == migrate.head()


async def test_replicas_starting_together_migrate_one_at_a_time(db_url: str) -> None:
    """Three processes migrate one empty PostgreSQL schema at once: all succeed, the schema is at head."""
    if not db_url.startswith("postgresql"):
        pytest.skip("replicas share PostgreSQL; SQLite is one process")
    code = "import asyncio, sys; from bot.storage import migrate; asyncio.run(migrate.upgrade(sys.argv[1]))"
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, db_url, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(3)
    ]
    results = await asyncio.gather(*(asyncio.wait_for(p.communicate(), 60) for p in processes))
    assert [p.returncode for p in processes] == [0, 0, 0], [err.decode()[-500:] for _, err in results]
    assert await migrate.current(db_url) == migrate.head()


def test_the_scripts_heads_read_from_their_files_are_alembics() -> None:
    """The quick check at start reads the same head revision Alembic computes."""
    assert migrate.scripted_heads() == {migrate.head()}


async def test_a_database_at_head_is_checked_without_loading_alembic(tmp_path: Path) -> None:
    """`easel run` on a migrated database does not import Alembic (a tenth of a second per start)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'at-head.sqlite3'}"
    await migrate.upgrade(url)
    script = (
        "import asyncio, sys\n"
        "from bot.storage import migrate\n"
        f"asyncio.run(migrate.upgrade({url!r}))\n"
        "print('alembic' in sys.modules)\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert out.decode().strip() == "False"


async def test_a_database_behind_head_is_still_migrated(tmp_path: Path) -> None:
    """One revision behind: the quick check sends it through Alembic, which brings it to head."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'behind.sqlite3'}"
    await migrate.upgrade(url)
    await migrate.downgrade(url, "-1")
    assert await migrate.current(url) != migrate.head()
    await migrate.upgrade(url)
    assert await migrate.current(url) == migrate.head()
