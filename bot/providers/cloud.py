"""Small pieces every keyed cloud provider (xai, flux, replicate) needs, so each is written once.

Settings (:func:`api_key`, :func:`single_base_url`), request shaping (:func:`is_edit`,
:func:`edit_prompt`, :func:`encode_reference`, :func:`reduced`), answers (:func:`json_object`) and
results (:func:`fetch_result`: download a result URL at once, and say "expired" rather than "bad key"
when a signed URL has gone stale).
"""

from __future__ import annotations

import base64
import json
import math
import re
from typing import Any

import httpx

from bot.core.errors import ImageError, InvalidRequest, Misconfigured, Unavailable
from bot.core.imaging import sniff
from bot.core.types import Aspect, GenerationKind, Image, ImageRequest
from bot.providers import media
from bot.providers.http_errors import UNAVAILABLE_TEXT
from bot.settings import ProviderSettings

__all__ = [
    "EXPIRED_TEXT",
    "api_key",
    "edit_prompt",
    "encode_reference",
    "fetch_result",
    "is_edit",
    "json_object",
    "reduced",
    "single_base_url",
]

_STATUS = re.compile(r"HTTP \d{3}")
EXPIRED_TEXT = (
    "The finished image could not be downloaded from the image service (the link expired); please try again."
)


def api_key(settings: ProviderSettings, *, provider: str) -> str:
    """The key, or ``Misconfigured`` naming the setting."""
    key = settings.api_key.get_secret_value().strip() if settings.api_key is not None else ""
    if not key:
        raise Misconfigured(
            f"providers.{provider}.api_key is not set",
            provider=provider,
            user_message=f"The {provider} image service has no API key; an admin needs to set "
            f"providers.{provider}.api_key.",
        )
    return key


def single_base_url(settings: ProviderSettings, *, provider: str, default: str) -> str:
    """The one base URL of a cloud API (a list is accepted when it holds exactly one)."""
    value = settings.base_url
    urls = [value] if isinstance(value, str) else list(value or [])
    urls = [url.strip().rstrip("/") for url in urls if url.strip()]
    if len(urls) > 1:
        raise Misconfigured(f"providers.{provider}.base_url takes one URL, not a list", provider=provider)
    url = urls[0] if urls else default
    if httpx.URL(url).scheme not in ("http", "https"):
        raise Misconfigured(f"providers.{provider}.base_url {url!r} is not an http(s) URL", provider=provider)
    return url


def is_edit(request: ImageRequest, *, provider: str) -> bool:
    """Whether the request edits a reference image; EDIT/VARY without one is ``InvalidRequest``."""
    if request.kind not in (GenerationKind.EDIT, GenerationKind.VARY):
        return False
    if not request.reference_images:
        raise InvalidRequest(
            f"{provider}: {request.kind} needs a reference image",
            provider=provider,
            user_message="I need an image to work from for that.",
        )
    return True


def edit_prompt(request: ImageRequest) -> str:
    """The instruction for an edit API: the user's words for EDIT; "a variation of ..." for VARY."""
    if request.kind == GenerationKind.VARY:
        described = request.source_prompt or request.prompt
        return f"A variation of this image, same subject and style, with fresh details: {described}"
    return request.prompt


def encode_reference(data: bytes, *, provider: str, data_url: bool) -> str:
    """A reference image as base64 (``data:image/...;base64,`` when ``data_url``); checked to be one."""
    try:
        mime = sniff(data)
    except ImageError as exc:
        raise InvalidRequest(
            f"{provider}: the reference is not a PNG, JPEG, WebP or GIF",
            provider=provider,
            user_message=exc.user_message,
        ) from exc
    encoded = base64.b64encode(data).decode("ascii")
    return f"data:{mime};base64,{encoded}" if data_url else encoded


def reduced(aspect: Aspect) -> Aspect:
    """16:9 for 32:18."""
    common = math.gcd(aspect.width, aspect.height) or 1
    return Aspect(aspect.width // common, aspect.height // common)


def json_object(response: httpx.Response, *, provider: str) -> dict[str, Any]:
    """The answer's JSON object; ``Unavailable`` when it is not JSON or not an object."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Unavailable(
            f"{provider}: HTTP {response.status_code} answer is not JSON",
            provider=provider,
            user_message=UNAVAILABLE_TEXT,
        ) from exc
    if not isinstance(body, dict):
        raise Unavailable(
            f"{provider}: answer is not a JSON object", provider=provider, user_message=UNAVAILABLE_TEXT
        )
    return body


async def fetch_result(
    client: httpx.AsyncClient,
    url: str,
    *,
    provider: str,
    model: str | None,
    allow_private: bool,
    seed: int | None = None,
    revised_prompt: str | None = None,
) -> Image:
    """Download a result URL now (they expire) into an ``Image`` with its sniffed mime and size.

    A result URL answering 4xx has expired or was withdrawn: ``Unavailable`` (a retry makes a new
    one), not the key or address problem the same status means on the API itself.
    """
    try:
        data, mime = await media.download(client, url, provider=provider, allow_private=allow_private)
    except (Misconfigured, InvalidRequest) as exc:
        status = _STATUS.search(str(exc))
        raise Unavailable(
            f"{provider}: the result URL answered {status[0] if status else 'an error'} (expired?)",
            provider=provider,
            user_message=EXPIRED_TEXT,
        ) from exc
    return media.to_image(
        data, provider=provider, model=model, seed=seed, revised_prompt=revised_prompt, mime=mime
    )
