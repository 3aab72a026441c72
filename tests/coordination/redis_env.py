"""Real Redis for the tests (``EASEL_TEST_REDIS_URL``, default 127.0.0.1:6379/0; CI runs one): each test
gets its own key prefix, removed afterwards. Skipped with the reason only when Redis is unreachable."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

REDIS_URL = os.environ.get("EASEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DEAD_REDIS_URL = "redis://:hunter2-secret@127.0.0.1:1/0"
"""Nothing listens on port 1: connection refused at once (the password must never be printed)."""


@contextlib.asynccontextmanager
async def redis_namespace() -> AsyncIterator[str]:
    """A fresh key prefix on the test Redis; every key under it is deleted at the end."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        pytest.skip(f"Redis at {REDIS_URL} is unreachable ({exc}); set EASEL_TEST_REDIS_URL")
    namespace = f"easel-test-{uuid.uuid4().hex[:12]}"
    try:
        yield namespace
    finally:
        keys = [key async for key in client.scan_iter(match=f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
