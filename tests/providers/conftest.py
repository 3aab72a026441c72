"""Fixtures the provider tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """A plain client with a 5 s timeout for a provider under test (a module may define its own)."""
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield http
