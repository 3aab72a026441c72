"""Fixtures for the storage tests: every database test runs on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import migrate
from bot.storage.db import make_engine
from bot.storage.repos import SqlHistoryStore

POSTGRES_URL_ENV = "EASEL_TEST_POSTGRES_URL"
NOW = datetime(2024, 5, 17, 12, 30, tzinfo=UTC)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database migrated to head."""
    await migrate.upgrade(db_url)
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> SqlHistoryStore:
    """The history store on the migrated database."""
    return SqlHistoryStore(engine)
