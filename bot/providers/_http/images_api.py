"""The OpenAI Images API on the wire, shared by ``openai`` and ``openai-compatible``.

Requests are ``POST {base}/images/generations`` (JSON) and ``POST {base}/images/edits`` (multipart:
one file part per reference image, an optional ``mask`` part, every other field as a text part).
Answers are ``{"data": [{"b64_json" | "url", "revised_prompt"?}, ...]}``; URLs are fetched at once
(they expire) through :func:`bot.providers._http.media.download`. An HTTP 200 without images is a silent
refusal. ``GET {base}/models`` serves ``check()`` and ``list_models()``. Also used by
``openai-responses`` for its JSON calls (:func:`send`) and the model listing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from bot.core.errors import InvalidRequest, Misconfigured, Refused, Unavailable
from bot.core.i18n import _
from bot.core.imaging import EXTENSIONS
from bot.core.types import Image
from bot.providers._http import media
from bot.providers._http.common import encode_reference, read_json, reference_mime
from bot.providers._http.errors import (
    REFUSED_TEXT,
    UNAVAILABLE_TEXT,
    error_info,
    error_info_from,
    raise_for_response,
    refused,
    scrub,
    transport_errors,
)

__all__ = [
    "FilePart",
    "data_url",
    "file_part",
    "form_fields",
    "model_ids",
    "probe",
    "result_items",
    "send",
    "to_images",
]

CHECK_TIMEOUT_S = 10.0

FilePart = tuple[str, tuple[str, bytes, str]]


# ------------------------------------------------------------------------------------------ requests


def file_part(field: str, data: bytes, *, provider: str, stem: str | None = None) -> FilePart:
    """A multipart file part with the image's real type and a matching file name."""
    mime = reference_mime(data, provider=provider, what=field)
    return field, (f"{stem or field.strip('[]')}.{EXTENSIONS[mime]}", data, mime)


def data_url(data: bytes, *, provider: str, field: str = "image") -> str:
    """``data:image/...;base64,...`` for an image sent inline (Responses input images, masks)."""
    return encode_reference(data, provider=provider, data_url=True, what=field)


def form_fields(body: Mapping[str, Any]) -> dict[str, str]:
    """JSON-style fields as multipart text parts (booleans lower-case; nested values as JSON)."""
    fields: dict[str, str] = {}
    for key, value in body.items():
        if value is None:
            continue
        if isinstance(value, bool):
            fields[key] = "true" if value else "false"
        elif isinstance(value, dict | list):
            fields[key] = json.dumps(value)
        else:
            fields[key] = str(value)
    return fields


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    provider: str,
    headers: Mapping[str, str],
    **kwargs: Any,
) -> Any:
    """One API call: transport errors and error statuses converted, the JSON answer returned."""
    with transport_errors(provider=provider, url=url):
        response = await client.request(method, url, headers=dict(headers), **kwargs)
    _raise_model_not_found(response, provider=provider)
    raise_for_response(response, provider=provider)
    return read_json(response, provider=provider)


async def probe(client: httpx.AsyncClient, base: str, *, provider: str, headers: Mapping[str, str]) -> None:
    """``GET {base}/models`` answers (any 2xx): the server is up and takes the key."""
    url = f"{base}/models"
    with transport_errors(provider=provider, url=url):
        response = await client.get(url, headers=dict(headers), timeout=CHECK_TIMEOUT_S)
    raise_for_response(response, provider=provider)


async def model_ids(
    client: httpx.AsyncClient,
    base: str,
    *,
    provider: str,
    headers: Mapping[str, str],
    prefixes: tuple[str, ...] = (),
) -> list[str]:
    """Model ids from ``GET {base}/models`` (``{"data": [{"id"}]}``), kept when they start with a prefix."""
    payload = await send(
        client, "GET", f"{base}/models", provider=provider, headers=headers, timeout=CHECK_TIMEOUT_S
    )
    data = payload.get("data") if isinstance(payload, dict) else None
    ids = [str(item["id"]) for item in data or [] if isinstance(item, dict) and item.get("id")]
    return sorted(i for i in ids if not prefixes or i.lower().startswith(prefixes))


# ------------------------------------------------------------------------------------------- answers


def result_items(payload: Any, *, provider: str) -> list[Mapping[str, Any]]:
    """The ``data`` items that carry an image; Refused/InvalidRequest for an HTTP 200 without any."""
    if not isinstance(payload, dict):
        raise Unavailable(
            f"{provider}: answer is not a JSON object", provider=provider, user_message=_(UNAVAILABLE_TEXT)
        )
    if payload.get("error"):
        info = error_info_from(payload)
        if refused(info):
            raise Refused(
                f"{provider}: refused: {info.message}", provider=provider, user_message=_(REFUSED_TEXT)
            )
        raise InvalidRequest(
            f"{provider}: error in an HTTP 200: {info.message}",
            provider=provider,
            user_message=_("The image service could not do that."),
        )
    data = payload.get("data")
    if not isinstance(data, list):
        raise InvalidRequest(
            f"{provider}: answer has no data list",
            provider=provider,
            user_message=_("The image service answered without any image."),
        )
    items: list[Mapping[str, Any]] = [
        item
        for item in data
        if isinstance(item, dict)
        and (item.get("b64_json") or item.get("url"))
        and item.get("respect_moderation") is not False
    ]
    if not items:  # an empty data list or moderated items: silent refusal (xAI and friends)
        raise Refused(
            f"{provider}: HTTP 200 without images ({len(data)} item(s) withheld)",
            provider=provider,
            user_message=_(REFUSED_TEXT),
        )
    return items


async def to_images(
    client: httpx.AsyncClient,
    items: Sequence[Mapping[str, Any]],
    *,
    provider: str,
    model: str | None,
    base: str,
    headers: Mapping[str, str],
    allow_private: bool,
) -> list[Image]:
    """Decode or download every item now; the key goes only to URLs on the API's own origin."""
    images = []
    for item in items:
        b64, url = item.get("b64_json"), item.get("url")
        if isinstance(b64, str) and b64:
            data, mime = media.decode_base64(b64, provider=provider)
        else:
            data, mime = await _fetch(client, str(url), provider, base, headers, allow_private)
        revised = item.get("revised_prompt")
        images.append(
            media.to_image(
                data,
                provider=provider,
                model=model,
                mime=mime,
                revised_prompt=revised if isinstance(revised, str) and revised else None,
            )
        )
    return images


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    provider: str,
    base: str,
    headers: Mapping[str, str],
    allow_private: bool,
) -> tuple[bytes, str]:
    if url.startswith("data:"):
        return media.decode_base64(url, provider=provider)
    target = httpx.URL(base + "/").join(url)
    own = (target.scheme, target.host, target.port) == _origin(base)
    return await media.download(  # an expired link (403/404/410) is Unavailable there
        client,
        str(target),
        provider=provider,
        allow_private=allow_private,
        headers=dict(headers) if own else None,
    )


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


def _raise_model_not_found(response: httpx.Response, *, provider: str) -> None:
    """``model_not_found`` (any 4xx): the configured or requested model is gone or not allowed."""
    if not 400 <= response.status_code < 500 or response.status_code == 429:
        return
    info = error_info(response)
    if info.code == "model_not_found":
        raise Misconfigured(
            f"{provider}: HTTP {response.status_code}: model not found: {info.message}",
            provider=provider,
            user_message=_(
                "The image service does not offer that model (any more); pick another with --model or ask "
                "an admin to check providers.{provider}.model. {reason}"
            ).format(provider=provider, reason=scrub(info.message, limit=160)),
        )
