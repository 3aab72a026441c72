"""Fixtures of the contract suite: each test is parametrized with ``vendor`` (an :class:`Adapter`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.providers.contract.adapter import Adapter, Built, Fake, build

Make = Callable[..., Awaitable[Built]]


@pytest.fixture
async def fake(vendor: Adapter, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Fake]:
    """The vendor's loopback fake, running (and its environment, e.g. AWS credentials, set)."""
    if vendor.prepare is not None:
        vendor.prepare(monkeypatch, tmp_path)
    async with vendor.start() as server:
        yield server


@pytest.fixture
async def make(vendor: Adapter, fake: Fake) -> AsyncIterator[Make]:
    """Build the provider on the fake as the app would, ``overrides`` laid over its settings; every
    provider and client made is closed after the test."""
    made: list[Built] = []

    async def make_one(**overrides: Any) -> Built:
        built = await build(vendor, vendor.settings(fake) | overrides)
        made.append(built)
        return built

    yield make_one
    for built in made:
        await built.aclose()
