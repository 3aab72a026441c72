"""An in-process provider that follows a script: fail with given errors, then make solid-colour PNGs."""

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


class ScriptedProvider:
    """Raises the scripted errors in turn, then succeeds; records every request it was given."""

    def __init__(
        self,
        name: str = "scripted",
        *,
        errors: Iterable[Exception] = (),
        capabilities: Capabilities | None = None,
        delay_s: float = 0.0,
    ) -> None:
        self.name = name
        self.capabilities = capabilities or Capabilities(
            edit=True, max_n=4, negative_prompt=True, seed=True, max_reference_images=1
        )
        self._errors = list(errors)
        self._delay_s = delay_s
        self.requests: list[ImageRequest] = []
        self.closed = False

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        self.requests.append(request)
        if self._delay_s:
            await asyncio.sleep(self._delay_s)
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
