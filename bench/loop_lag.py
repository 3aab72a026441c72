"""An event-loop lag probe: a task that sleeps 10 ms at a time and records how late it woke up."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

TICK_S = 0.010


class LagProbe:
    def __init__(self) -> None:
        self.lags_ms: list[float] = []

    async def _tick(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(TICK_S)
            self.lags_ms.append(max(0.0, (time.perf_counter() - before - TICK_S) * 1000))


@contextlib.asynccontextmanager
async def lag_probe() -> AsyncIterator[LagProbe]:
    probe = LagProbe()
    task = asyncio.create_task(probe._tick())
    try:
        yield probe
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
