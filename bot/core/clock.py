"""Clocks: the real one, injected everywhere time matters so tests can use a fixed one."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
