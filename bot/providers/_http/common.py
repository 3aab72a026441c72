"""The mechanics every HTTP image provider shares, written once.

Settings: the API key (:func:`api_key`, :func:`bearer`) and the base URL (:func:`base_url` for APIs
with one address, :func:`base_urls` for a list of identical servers). Requests: whether the request
is an edit (:func:`is_edit`), the reference image checked to be one (:func:`reference_mime`,
:func:`encode_reference`), ``settings.options`` laid over a body (:func:`merge_options`) and the two
ways an edit is put into words: :func:`instruction_prompt` for image models that follow instructions
(LLM-style APIs) and :func:`diffusion_prompt` for diffusion models, which draw descriptions. Answers:
the JSON body (:func:`read_json`, :func:`read_object`).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from typing import Any, overload

import httpx

from bot.core.errors import ImageError, InvalidRequest, Misconfigured, Unavailable
from bot.core.i18n import N_, _
from bot.core.imaging import sniff
from bot.core.types import Aspect, GenerationKind, ImageRequest
from bot.providers._http.errors import UNAVAILABLE_TEXT, scrub
from bot.providers.settings import ProviderSettings

__all__ = [
    "NEEDS_REFERENCE_TEXT",
    "api_key",
    "base_url",
    "base_urls",
    "bearer",
    "diffusion_prompt",
    "encode_reference",
    "instruction_prompt",
    "is_edit",
    "merge_options",
    "read_json",
    "read_object",
    "reduced",
    "reference_mime",
]

NEEDS_REFERENCE_TEXT = N_("I need an image to work from for that.")

# ------------------------------------------------------------------------------------------ settings


def api_key(settings: ProviderSettings, *, provider: str) -> str:
    """``providers.<name>.api_key`` without surrounding blanks; ``Misconfigured`` naming it when unset."""
    key = settings.api_key.get_secret_value().strip() if settings.api_key is not None else ""
    if not key:
        raise Misconfigured(
            f"providers.{provider}.api_key is not set",
            provider=provider,
            user_message=_(
                "The {provider} image service has no API key; an admin needs to set "
                "providers.{provider}.api_key."
            ).format(provider=provider),
        )
    return key


def bearer(settings: ProviderSettings, *, provider: str) -> dict[str, str]:
    """``Authorization: Bearer <api_key>``; ``Misconfigured`` naming the setting when there is no key."""
    return {"Authorization": f"Bearer {api_key(settings, provider=provider)}"}


def base_urls(
    settings: ProviderSettings, *, provider: str, default: str | None = None, example: str | None = None
) -> list[str]:
    """``providers.<name>.base_url`` (one URL or a list of identical servers) without trailing slashes.

    Unset: ``[default]``, or ``Misconfigured`` (mentioning ``example``) when there is no default, as
    for a server of the user's own. Every configured URL must be http(s) and listed once.
    """
    value = settings.base_url
    raw = [value] if isinstance(value, str) else list(value or [])
    urls = [url.strip().rstrip("/") for url in raw if url.strip()]
    if not urls:
        if default is not None:
            return [default]
        raise Misconfigured(
            f"providers.{provider}.base_url is not set" + (f" (for example {example})" if example else ""),
            provider=provider,
            user_message=_(
                "The {provider} server address is not configured; an admin needs to set "
                "providers.{provider}.base_url."
            ).format(provider=provider),
        )
    for url in urls:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise Misconfigured(
                f"providers.{provider}.base_url {url!r} is not an http(s) URL",
                provider=provider,
                user_message=_(
                    "The {provider} server address is not a valid http(s) URL; an admin needs to fix it."
                ).format(provider=provider),
            )
    if len(set(urls)) != len(urls):
        raise Misconfigured(f"providers.{provider}.base_url lists a server twice", provider=provider)
    return urls


@overload
def base_url(settings: ProviderSettings, *, provider: str, default: str) -> str: ...
@overload
def base_url(settings: ProviderSettings, *, provider: str, default: None) -> str | None: ...
def base_url(settings: ProviderSettings, *, provider: str, default: str | None) -> str | None:
    """The one base URL of an API (a list is accepted when it holds exactly one); ``default`` when unset."""
    value = settings.base_url
    if not (value.strip() if isinstance(value, str) else any(url.strip() for url in value or [])):
        return default
    urls = base_urls(settings, provider=provider)
    if len(urls) > 1:
        raise Misconfigured(f"providers.{provider}.base_url takes one URL, not a list", provider=provider)
    return urls[0]


# ------------------------------------------------------------------------------------------ requests


def is_edit(request: ImageRequest, *, provider: str) -> bool:
    """Whether the request works from a reference image (EDIT, VARY); ``InvalidRequest`` without one."""
    if request.kind not in (GenerationKind.EDIT, GenerationKind.VARY):
        return False
    if not request.reference_images:
        raise InvalidRequest(
            f"{provider}: {request.kind} needs a reference image",
            provider=provider,
            user_message=_(NEEDS_REFERENCE_TEXT),
        )
    return True


def reference_mime(data: bytes, *, provider: str, what: str = "reference image") -> str:
    """The real mime type of an image we send (``what``: its name in the log message, e.g. "mask");
    ``InvalidRequest`` when it is not a PNG, JPEG, WebP or GIF."""
    try:
        return sniff(data)
    except ImageError as exc:
        raise InvalidRequest(
            f"{provider}: the {what} is not a PNG, JPEG, WebP or GIF",
            provider=provider,
            user_message=exc.user_message,
        ) from exc


def encode_reference(data: bytes, *, provider: str, data_url: bool, what: str = "reference image") -> str:
    """An image we send as base64 (``data:image/...;base64,...`` when ``data_url``), checked to be one."""
    mime = reference_mime(data, provider=provider, what=what)
    encoded = base64.b64encode(data).decode("ascii")
    return f"data:{mime};base64,{encoded}" if data_url else encoded


def merge_options(body: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` with ``providers.<name>.options`` laid over it; nested objects are merged, not replaced."""
    merged = dict(body)
    for key, value in options.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = merge_options(current, value)
        else:
            merged[key] = value
    return merged


def reduced(aspect: Aspect) -> Aspect:
    """The aspect in lowest terms: 16:9 for 32:18."""
    common = math.gcd(aspect.width, aspect.height) or 1
    return Aspect(aspect.width // common, aspect.height // common)


def instruction_prompt(request: ImageRequest) -> str:
    """The text for image models that follow instructions (Gemini, GPT image, Grok, FLUX Kontext, ...).

    A generation is the prompt itself; an edit asks to change the attached image, a variation to redraw
    it, each naming the prompt the image was made from when it is known.
    """
    source = request.source_prompt
    if request.kind is GenerationKind.VARY:
        text = "Make a new variation of the attached image: keep its subject and style, change the details."
        described = source or request.prompt
        return f"{text}\nThe image was made from this prompt: {described}" if described else text
    if request.kind is GenerationKind.EDIT:
        text = f"Edit the attached image: {request.prompt}"
        return f"{text}\n(The image was made from this prompt: {source})" if source else text
    return request.prompt


def diffusion_prompt(request: ImageRequest) -> str:
    """The text for diffusion models (img2img), which draw descriptions rather than follow commands.

    A variation redraws the source description; an edit is "source prompt, instruction" (just the
    instruction when there is no source or it says the same).
    """
    source = (request.source_prompt or "").strip()
    if request.kind is GenerationKind.VARY:
        return source or request.prompt
    if request.kind is GenerationKind.EDIT and source and source.lower() != request.prompt.strip().lower():
        return f"{source}, {request.prompt}"
    return request.prompt or source


# ------------------------------------------------------------------------------------------- answers


def read_json(response: httpx.Response, *, provider: str) -> Any:
    """The decoded JSON body; ``Unavailable`` when a server sends something else (a broken proxy)."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        said = scrub(response.text, limit=80) if response.content else ""
        raise Unavailable(
            f"{provider}: HTTP {response.status_code} answer is not JSON" + (f": {said}" if said else ""),
            provider=provider,
            user_message=_(UNAVAILABLE_TEXT),
        ) from exc


def read_object(response: httpx.Response, *, provider: str) -> dict[str, Any]:
    """The JSON object of the answer; ``Unavailable`` when it is not JSON or not an object."""
    body = read_json(response, provider=provider)
    if not isinstance(body, dict):
        raise Unavailable(
            f"{provider}: answer is not a JSON object", provider=provider, user_message=_(UNAVAILABLE_TEXT)
        )
    return body
