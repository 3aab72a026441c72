"""A fresh PostgreSQL schema for one test (or one benchmark run), dropped afterwards."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.storage.db import make_engine


@contextlib.asynccontextmanager
async def fresh_schema(base_url: str, *, prefix: str = "t") -> AsyncIterator[str]:
    """Create a schema on the database at ``base_url``; yield the URL whose ``search_path`` is it."""
    schema = f"{prefix}_{uuid.uuid4().hex}"
    admin = make_engine(base_url)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()
