"""An in-process provider that follows a script: fail with given errors, then make solid-colour PNGs.

Also a fake monotonic timer (clock + sleep) for retry, backoff and circuit-breaker tests.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable

from PIL import Image as PILImage

from bot.core.ports import ProgressCallback
from bot.core.types import Capabilities, Image, ImageRequest, ProviderHealth


def png(width: int = 8, height: int = 8, colour: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


class FakeTimer:
    """A monotonic clock that only moves when slept on (or advanced); records every sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(float(seconds))
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ScriptedProvider:
    """Raises the scripted errors in turn, then succeeds; records every request it was given.

    With a ``gate`` every call waits for the event first, so a test controls when calls finish;
    ``in_flight`` and ``max_in_flight`` count calls inside ``generate`` at once.
    """

    def __init__(
        self,
        name: str = "scripted",
        *,
        errors: Iterable[Exception] = (),
        capabilities: Capabilities | None = None,
        delay_s: float = 0.0,
        gate: asyncio.Event | None = None,
    ) -> None:
        self.name = name
        self.capabilities = capabilities or Capabilities(
            edit=True, max_n=4, negative_prompt=True, seed=True, max_reference_images=1
        )
        self._errors = list(errors)
        self._delay_s = delay_s
        self.gate = gate
        self.requests: list[ImageRequest] = []
        self.closed = False
        self.in_flight = 0
        self.max_in_flight = 0

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._run(request, on_progress)
        finally:
            self.in_flight -= 1

    async def _run(self, request: ImageRequest, on_progress: ProgressCallback) -> list[Image]:
        if self._delay_s:
            await asyncio.sleep(self._delay_s)
        if self.gate is not None:
            await self.gate.wait()
        if self._errors:
            raise self._errors.pop(0)
        await on_progress(1.0, None)
        seed = request.seed or 0
        return [
            Image(
                data=png(), mime="image/png", width=8, height=8, seed=seed + i, provider=self.name, model="m1"
            )
            for i in range(request.n)
        ]

    async def check(self) -> ProviderHealth:
        return ProviderHealth(ok=True, detail="scripted")

    async def aclose(self) -> None:
        self.closed = True
