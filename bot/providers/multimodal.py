"""Pieces shared by the chat-style image APIs (Gemini ``generateContent``, OpenRouter chat completions).

Both take one user turn of text plus inline reference images, answer with base64 images next to
optional text, and refuse inside an HTTP 200. What is the same lives here: the aspect label, the edit
instruction, the reference image's real mime, JSON bodies, option merging and the refusal texts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import httpx

from bot.core.errors import ImageError, InvalidRequest, Unavailable
from bot.core.imaging import sniff
from bot.core.types import Aspect, GenerationKind, ImageRequest
from bot.providers.http_errors import UNAVAILABLE_TEXT, scrub

__all__ = [
    "NO_IMAGE_TEXT",
    "RECITATION_TEXT",
    "aspect_label",
    "base_urls",
    "image_size_for",
    "instruction",
    "is_edit",
    "merge_options",
    "read_json",
    "reference_mime",
    "text_only_text",
]

NO_IMAGE_TEXT = "The image service answered without an image; try rephrasing the prompt."
RECITATION_TEXT = (
    "The image service refused because the result would be too close to existing (copyrighted) work."
)
_IMAGE_SIZES = {"low": "1K", "high": "2K", "hd": "2K"}


def aspect_label(aspect: Aspect, allowed: tuple[Aspect, ...]) -> str:
    """``"16:9"``: the request's aspect if allowed (in any multiple, 32:18 is 16:9), else the nearest."""
    divisor = math.gcd(aspect.width, aspect.height) or 1
    reduced = Aspect(aspect.width // divisor, aspect.height // divisor)
    if reduced in allowed:
        return str(reduced)
    return str(min(allowed, key=lambda a: abs(math.log(a.ratio / aspect.ratio))))


def base_urls(value: str | list[str] | None, *, default: str) -> list[str]:
    """``providers.<name>.base_url`` as a list without trailing slashes; the vendor's URL when unset."""
    urls = [value] if isinstance(value, str) else value or []
    return [url.strip().rstrip("/") for url in urls if url.strip()] or [default]


def image_size_for(quality: str | None) -> str | None:
    """``--quality`` → an image size (1K/2K); None keeps the server default (1K)."""
    return _IMAGE_SIZES.get((quality or "").lower())


def is_edit(request: ImageRequest, *, provider: str) -> bool:
    """Whether the request works from a reference image; InvalidRequest for an edit without one."""
    edit = request.kind in (GenerationKind.EDIT, GenerationKind.VARY)
    if edit and not request.reference_images:
        raise InvalidRequest(
            f"{provider}: {request.kind} needs a reference image",
            provider=provider,
            user_message="I need an image to work from for that.",
        )
    return edit


def instruction(request: ImageRequest, *, edit: bool) -> str:
    """The text of the user turn: the prompt, or for edits an instruction about the attached image."""
    if not edit:
        return request.prompt
    source = request.source_prompt
    if request.kind is GenerationKind.VARY:
        text = "Make a new variation of the attached image: keep its subject and style, change the details."
        base = source or request.prompt
        return f"{text}\nThe image was made from this prompt: {base}" if base else text
    text = f"Edit the attached image: {request.prompt}"
    return f"{text}\n(The image was made from this prompt: {source})" if source else text


def reference_mime(data: bytes, *, provider: str) -> str:
    """The real mime type of a reference image, or InvalidRequest when it is no image we can send."""
    try:
        return sniff(data)
    except ImageError as exc:
        raise InvalidRequest(
            f"{provider}: the reference image is not a PNG, JPEG, WebP or GIF",
            provider=provider,
            user_message=exc.user_message,
        ) from exc


def merge_options(body: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` with ``providers.<name>.options`` laid over it; nested objects are merged, not replaced."""
    merged = dict(body)
    for key, value in options.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = merge_options(current, value)
        else:
            merged[key] = value
    return merged


def read_json(response: httpx.Response, *, provider: str) -> dict[str, Any]:
    """The answer's JSON object; Unavailable when a 2xx body is not one (a broken proxy or server)."""
    try:
        body = response.json()
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


def text_only_text(text: str) -> str:
    """The user message for an answer that has words but no image (often a soft refusal)."""
    said = scrub(text, limit=200)
    if not said:
        return NO_IMAGE_TEXT
    return f"The image service answered with text instead of an image: “{said}” Try rephrasing the prompt."
