"""What the self-hosted diffusion servers (``sdwebui``, ``comfyui``) share: canvas sizes and health.

Both run on the user's own GPU, with ``base_url`` the server root (one URL or a list of identical
servers, read by :func:`bot.providers._http.common.base_urls`): the canvas is SDXL-sized unless the model
name says SD 1.5, and :func:`check_all` probes every server at once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from bot.core.errors import ProviderError
from bot.core.types import Aspect, ProviderHealth

__all__ = ["SD15_LONG_SIDE", "SDXL_LONG_SIDE", "SIZE_MULTIPLE", "canvas_for", "check_all", "long_side_for"]

SDXL_LONG_SIDE = 1024
SD15_LONG_SIDE = 512
SIZE_MULTIPLE = 64
_SD15 = re.compile(r"(?i)(?:v1[-_.]?5|sd[-_ ]?1[-_.]?5|\bsd15|1\.5)")


def long_side_for(model: str | None, options: Mapping[str, Any]) -> int:
    """``options.long_side`` when set, else 512 for SD 1.5 checkpoints and 1024 otherwise."""
    wanted = options.get("long_side")
    if isinstance(wanted, int) and not isinstance(wanted, bool) and 64 <= wanted <= 4096:
        return wanted
    return SD15_LONG_SIDE if model and _SD15.search(model) else SDXL_LONG_SIDE


def canvas_for(aspect: Aspect, model: str | None, options: Mapping[str, Any]) -> tuple[int, int]:
    """Width and height for the aspect: multiples of 64 from a 1024 long side, of 8 below that
    (64 would bend a 512 canvas too far from the asked shape)."""
    long_side = long_side_for(model, options)
    return aspect.size_for(long_side, multiple=SIZE_MULTIPLE if long_side >= SDXL_LONG_SIDE else 8)


async def check_all(
    urls: Sequence[str], probe: Callable[[str], Awaitable[str]], *, provider: str
) -> ProviderHealth:
    """Probe every backend at once: ok when any answers; the detail names each one's state."""

    async def one(url: str) -> tuple[bool, str]:
        try:
            return True, await probe(url)
        except ProviderError as exc:
            return False, str(exc).removeprefix(f"{provider}: ")

    results = await asyncio.gather(*(one(url) for url in urls))
    if len(urls) == 1:
        return ProviderHealth(ok=results[0][0], detail=results[0][1])
    detail = "; ".join(f"{url}: {text}" for url, (_, text) in zip(urls, results, strict=True))
    return ProviderHealth(ok=any(ok for ok, _ in results), detail=detail)
