"""Apply Alembic migrations from code (no alembic.ini needed).

The scripts live in ``<repo>/migrations`` (override with ``EASEL_MIGRATIONS_DIR``). Alembic's command
functions are synchronous and ``env.py`` calls ``asyncio.run``, so they run in a worker thread: these
functions are safe to await from a running event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from bot.core.errors import StorageError
from bot.storage.db import make_engine, redact_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR_ENV = "EASEL_MIGRATIONS_DIR"
_REVISION = re.compile(r"""^revision(?:\s*:\s*str)?\s*=\s*["']([^"']+)["']""", re.MULTILINE)
_DOWN = re.compile(r"""^down_revision(?:\s*:[^=]*)?\s*=\s*["']([^"']+)["']""", re.MULTILINE)


def migrations_dir() -> Path:
    """Where the migration scripts are: ``$EASEL_MIGRATIONS_DIR`` or ``<repo>/migrations``."""
    override = os.environ.get(MIGRATIONS_DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return Path(__file__).resolve().parents[2] / "migrations"


def make_config(url: str, *, connect_args: Mapping[str, Any] | None = None) -> Config:
    """An Alembic config for ``url`` that needs no ini file."""
    from alembic.config import Config  # Alembic loads only when a migration is due

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
    from alembic.util import CommandError

    try:
        await asyncio.to_thread(fn, *args)
    except (OSError, SQLAlchemyError, CommandError) as exc:
        raise StorageError(
            f"Could not {action} the database at {redact_url(url)}: {exc}",
            user_message="The history database could not be migrated.",
        ) from exc


async def upgrade(url: str, revision: str = "head", *, connect_args: Mapping[str, Any] | None = None) -> None:
    """Migrate the database at ``url`` up to ``revision``. At ``head`` already: nothing is loaded
    (Alembic takes about a tenth of a second to import, at every start)."""
    if revision == "head" and await _at_head(url, connect_args):
        return
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # one line per plugin
    from alembic import command

    config = make_config(url, connect_args=connect_args)
    await _run("upgrade", url, command.upgrade, config, revision)


def scripted_heads() -> set[str]:
    """The head revisions of the migration scripts, read from their files (no Alembic)."""
    revisions, parents = set(), set()
    for script in migrations_dir().glob("versions/*.py"):
        source = script.read_text(encoding="utf-8")
        if (found := _REVISION.search(source)) is not None:
            revisions.add(found.group(1))
            parents.update(_DOWN.findall(source))
    return revisions - parents


async def _at_head(url: str, connect_args: Mapping[str, Any] | None) -> bool:
    """Whether the database's ``alembic_version`` is exactly the scripts' heads (False when in doubt)."""
    heads = scripted_heads()
    if not heads:
        return False
    engine = make_engine(url, connect_args=connect_args)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return {str(row[0]) for row in rows} == heads
    except (OSError, SQLAlchemyError):
        return False  # never migrated (no table), or unreachable: Alembic says which
    finally:
        await engine.dispose()


async def downgrade(url: str, revision: str, *, connect_args: Mapping[str, Any] | None = None) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"`` drops everything)."""
    from alembic import command

    config = make_config(url, connect_args=connect_args)
    await _run("downgrade", url, command.downgrade, config, revision)


def _current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

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
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(migrations_dir())).get_current_head()
