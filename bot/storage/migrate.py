"""Apply Alembic migrations from code (no alembic.ini needed).

The scripts live in ``<repo>/migrations`` (override with ``EASEL_MIGRATIONS_DIR``). Alembic's command
functions are synchronous and ``env.py`` calls ``asyncio.run``, so they run in a worker thread: these
functions are safe to await from a running event loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from bot.core.errors import StorageError
from bot.storage.db import make_engine, redact_url

MIGRATIONS_DIR_ENV = "EASEL_MIGRATIONS_DIR"


def migrations_dir() -> Path:
    """Where the migration scripts are: ``$EASEL_MIGRATIONS_DIR`` or ``<repo>/migrations``."""
    override = os.environ.get(MIGRATIONS_DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return Path(__file__).resolve().parents[2] / "migrations"


def make_config(url: str, *, connect_args: Mapping[str, Any] | None = None) -> Config:
    """An Alembic config for ``url`` that needs no ini file."""
    location = migrations_dir()
    if not (location / "env.py").is_file():
        raise StorageError(
            f"Migration scripts not found in {location} (set {MIGRATIONS_DIR_ENV} to their directory)",
            user_message="The database migrations are missing from this installation.",
        )
    config = Config()
    config.set_main_option("script_location", str(location))
    config.attributes["database_url"] = url
    config.attributes["connect_args"] = dict(connect_args or {})
    return config


async def _run(action: str, url: str, fn: Any, *args: Any) -> None:
    try:
        await asyncio.to_thread(fn, *args)
    except (OSError, SQLAlchemyError, CommandError) as exc:
        raise StorageError(
            f"Could not {action} the database at {redact_url(url)}: {exc}",
            user_message="The history database could not be migrated.",
        ) from exc


async def upgrade(url: str, revision: str = "head", *, connect_args: Mapping[str, Any] | None = None) -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    config = make_config(url, connect_args=connect_args)
    await _run("upgrade", url, command.upgrade, config, revision)


async def downgrade(url: str, revision: str, *, connect_args: Mapping[str, Any] | None = None) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"`` drops everything)."""
    config = make_config(url, connect_args=connect_args)
    await _run("downgrade", url, command.downgrade, config, revision)


def _current_revision(connection: Connection) -> str | None:
    revision: str | None = MigrationContext.configure(connection).get_current_revision()
    return revision


async def current(url: str, *, connect_args: Mapping[str, Any] | None = None) -> str | None:
    """The revision the database at ``url`` is at, or None when it was never migrated."""
    engine = make_engine(url, connect_args=connect_args)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_revision)
    except (OSError, SQLAlchemyError) as exc:
        raise StorageError(
            f"Could not read the migration state of {redact_url(url)}: {exc}",
            user_message="The history database is unavailable right now.",
        ) from exc
    finally:
        await engine.dispose()


def head() -> str | None:
    """The newest revision among the migration scripts."""
    return ScriptDirectory(str(migrations_dir())).get_current_head()
