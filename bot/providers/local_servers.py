"""What the self-hosted diffusion servers (``sdwebui``, ``comfyui``) share: URLs, sizes, prompts, health.

Both run on the user's own GPU: ``base_url`` is the server root (one URL or a list of identical
servers), the canvas is SDXL-sized unless the model name says SD 1.5, and an edit's prompt keeps the
original description in front of the instruction (diffusion models draw descriptions, not commands).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from bot.core.errors import InvalidRequest, Misconfigured, ProviderError, Unavailable
from bot.core.types import Aspect, GenerationKind, ImageRequest, ProviderHealth
from bot.providers.http_errors import UNAVAILABLE_TEXT

__all__ = [
    "SD15_LONG_SIDE",
    "SDXL_LONG_SIDE",
    "SIZE_MULTIPLE",
    "canvas_for",
    "check_all",
    "diffusion_prompt",
    "long_side_for",
    "needs_reference",
    "read_json",
    "server_urls",
]

SDXL_LONG_SIDE = 1024
SD15_LONG_SIDE = 512
SIZE_MULTIPLE = 64
_SD15 = re.compile(r"(?i)(?:v1[-_.]?5|sd[-_ ]?1[-_.]?5|\bsd15|1\.5)")


def server_urls(value: str | list[str] | None, *, provider: str, example: str) -> list[str]:
    """The configured base URL(s) without trailing slashes; Misconfigured when missing or not http(s)."""
    raw = [value] if isinstance(value, str) else list(value or [])
    urls = [url.strip().rstrip("/") for url in raw if url.strip()]
    if not urls:
        raise Misconfigured(
            f"providers.{provider}.base_url is not set (for example {example})",
            provider=provider,
            user_message=f"The {provider} server address is not configured; an admin needs to set "
            f"providers.{provider}.base_url.",
        )
    for url in urls:
        if httpx.URL(url).scheme not in ("http", "https") or not httpx.URL(url).host:
            raise Misconfigured(
                f"providers.{provider}.base_url {url!r} is not an http(s) URL",
                provider=provider,
                user_message=f"The {provider} server address is not a valid http(s) URL; an admin needs "
                "to fix it.",
            )
    if len(set(urls)) != len(urls):
        raise Misconfigured(f"providers.{provider}.base_url lists a server twice", provider=provider)
    return urls


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


def diffusion_prompt(request: ImageRequest) -> str:
    """The text to draw: for an edit, the source description followed by the instruction."""
    source = (request.source_prompt or "").strip()
    if request.kind is GenerationKind.EDIT and source and source != request.prompt.strip():
        return f"{source}, {request.prompt}"
    return request.prompt or source


def needs_reference(request: ImageRequest, *, provider: str) -> bool:
    """Whether the request is an edit/variation; InvalidRequest when it comes without an image."""
    edit = request.kind in (GenerationKind.EDIT, GenerationKind.VARY)
    if edit and not request.reference_images:
        raise InvalidRequest(
            f"{provider}: {request.kind} without a reference image",
            provider=provider,
            user_message="I need an image to work from for that.",
        )
    return edit


def read_json(response: httpx.Response, *, provider: str) -> Any:
    """The decoded JSON body; Unavailable when a server sends something else."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Unavailable(
            f"{provider}: HTTP {response.status_code} answer is not JSON",
            provider=provider,
            user_message=UNAVAILABLE_TEXT,
        ) from exc


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
