"""``xai``: xAI's image API (Grok Imagine), ``https://api.x.ai/v1``, Bearer key.

Generations are ``POST {base}/images/generations`` (JSON) with ``aspect_ratio`` and ``resolution``;
xAI rejects OpenAI's ``size`` and ``style``, so neither is ever sent. Edits are ``POST
{base}/images/edits`` as JSON (not multipart): the reference goes as ``{"image": {"url": "data:...",
"type": "image_url"}}``, or ``"images": [...]`` for up to three, each JPEG or PNG (other types and
animations are converted first). There is no seed and no negative prompt. ``quality`` (xai-sdk 1.19:
"low" or "medium", the default) goes only to ``grok-imagine-image-2.0``, the one model that documents
it; ``--quality hd`` asks for ``resolution`` 2k.
Moderation is silent: HTTP 200 with ``respect_moderation: false`` items or an empty ``data`` list is a
refusal. Results are base64 JPEG (asked for) or URLs, which expire and are downloaded at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from bot.core.errors import InvalidRequest, Misconfigured, ProviderError, Refused
from bot.core.i18n import _
from bot.core.ports import ProgressCallback
from bot.core.types import Aspect, Capabilities, Image, ImageRequest, ProviderHealth
from bot.providers._http import media, references
from bot.providers._http.cloud import fetch_result
from bot.providers._http.common import (
    base_url,
    bearer,
    encode_reference,
    instruction_prompt,
    is_edit,
    read_object,
)
from bot.providers._http.errors import (
    KEY_REJECTED_TEXT,
    REFUSED_TEXT,
    error_info,
    error_info_from,
    raise_for_response,
    refused,
    transport_errors,
)
from bot.providers.settings import ProviderSettings

__all__ = ["ASPECT_RATIOS", "XAIProvider", "create"]

DEFAULT_BASE_URL = "https://api.x.ai/v1"
DEFAULT_MODEL = "grok-imagine-image"
CATALOG = ("grok-imagine-image", "grok-imagine-image-2.0", "grok-imagine-image-quality")
MAX_N = 10
MAX_REFERENCES = 3
CHECK_TIMEOUT_S = 10.0
ASPECT_RATIOS: dict[Aspect, str] = {
    Aspect(1, 1): "1:1",
    Aspect(3, 4): "3:4",
    Aspect(4, 3): "4:3",
    Aspect(9, 16): "9:16",
    Aspect(16, 9): "16:9",
    Aspect(2, 3): "2:3",
    Aspect(3, 2): "3:2",
    Aspect(18, 39): "9:19.5",
    Aspect(39, 18): "19.5:9",
    Aspect(9, 20): "9:20",
    Aspect(20, 9): "20:9",
    Aspect(1, 2): "1:2",
    Aspect(2, 1): "2:1",
}
"""Every ratio xAI accepts (besides ``auto``), as Easel aspects; 9:19.5 is written 18:39."""
QUALITY_TIERS = {"low": "low", "medium": "medium", "standard": "medium", "high": "medium"}
"""Easel's quality word → xAI's: xai-sdk 1.19 takes "low" and "medium" (the default, and the best)."""
QUALITY_MODELS = frozenset({"grok-imagine-image-2.0"})
"""The models that take ``quality`` (xai-sdk 1.19: "only supported for grok-imagine-image-2.0")."""


class XAIProvider:
    """xAI images over httpx, implementing :class:`bot.core.ports.Provider`."""

    name = "xai"
    catalog: tuple[str, ...] = CATALOG
    capabilities = Capabilities(
        edit=True,
        max_n=MAX_N,
        aspects=tuple(ASPECT_RATIOS),
        negative_prompt=False,
        seed=False,
        max_reference_images=MAX_REFERENCES,
    )

    def __init__(self, settings: ProviderSettings, *, client: httpx.AsyncClient) -> None:
        self._auth = bearer(settings, provider=self.name)
        self.base_url = base_url(settings, provider=self.name, default=DEFAULT_BASE_URL)
        self.model = settings.model or DEFAULT_MODEL
        self.options = dict(settings.options)
        self._client = client
        self._allow_private = media.base_is_local(self.base_url)
        self._slots = asyncio.Semaphore(settings.max_concurrency or 4)

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """Generate, or edit the reference image(s) for EDIT/VARY; one call for up to ten images."""
        edit = is_edit(request, provider=self.name)
        notes: tuple[str, ...] = ()
        if edit:
            request, notes = await references.prepare(request, references.PNG_JPEG, provider=self.name)
        model = request.model or self.model
        body = self._body(request, model, edit=edit)
        url = f"{self.base_url}/images/{'edits' if edit else 'generations'}"
        async with self._slots:
            with transport_errors(provider=self.name):
                response = await self._client.post(url, json=body, headers=self._auth)
            _raise_for_status(response, provider=self.name)
            items = self._items(read_object(response, provider=self.name))
            images = [await self._image(item, model) for item in items]
        await on_progress(1.0, None)
        return references.noted(images, notes)

    async def list_models(self) -> list[str]:
        """Image models the key may use (``GET /image-generation-models``)."""
        with transport_errors(provider=self.name):
            response = await self._client.get(
                f"{self.base_url}/image-generation-models", headers=self._auth, timeout=CHECK_TIMEOUT_S
            )
        raise_for_response(response, provider=self.name)
        body = read_object(response, provider=self.name)
        entries = body.get("models") or body.get("data") or []
        return [str(e["id"]) for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)]

    async def check(self) -> ProviderHealth:
        """Reachable with a working key: the image model list answers."""
        try:
            models = await self.list_models()
        except ProviderError as exc:
            return ProviderHealth(ok=False, detail=str(exc).removeprefix(f"{self.name}: "))
        if self.model not in models and models:
            return ProviderHealth(ok=True, detail=f"ok, but {self.model!r} is not among {', '.join(models)}")
        return ProviderHealth(ok=True, detail="ok")

    async def aclose(self) -> None:
        """Nothing of its own to close: the client belongs to the app."""

    # ------------------------------------------------------------------------------------- internals

    def _body(self, request: ImageRequest, model: str, *, edit: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model,
            "prompt": instruction_prompt(request),
            "n": max(1, min(request.n, MAX_N)),
            "response_format": "b64_json",
        }
        tier = QUALITY_TIERS.get((request.quality or "").lower())
        if tier is not None and model in QUALITY_MODELS:
            body["quality"] = tier
        if request.quality == "hd":
            body["resolution"] = "2k"
        references = request.reference_images[:MAX_REFERENCES] if edit else ()
        images = [
            {"url": encode_reference(data, provider=self.name, data_url=True), "type": "image_url"}
            for data in references
        ]
        if len(images) == 1:
            body["image"] = images[0]  # the output follows the input's aspect
        else:
            body["aspect_ratio"] = aspect_ratio(request.aspect)
            if images:
                body["images"] = images
        body.update(self.options)
        return body

    def _items(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Items that carry an image; an HTTP 200 without any is xAI's silent moderation."""
        if payload.get("error"):
            info = error_info_from(payload)
            if refused(info) or "moderation" in info.message.lower():
                raise Refused(
                    f"{self.name}: refused: {info.message}", provider=self.name, user_message=_(REFUSED_TEXT)
                )
            raise InvalidRequest(
                f"{self.name}: error in an HTTP 200: {info.message}",
                provider=self.name,
                user_message=_("The image service could not do that."),
            )
        data = payload.get("data")
        data = data if isinstance(data, list) else []
        items = [
            item
            for item in data
            if isinstance(item, dict)
            and item.get("respect_moderation") is not False
            and (item.get("b64_json") or item.get("url"))
        ]
        if not items:
            raise Refused(
                f"{self.name}: HTTP 200 without images ({len(data)} item(s) withheld by moderation)",
                provider=self.name,
                user_message=_(REFUSED_TEXT),
            )
        return items

    async def _image(self, item: dict[str, Any], model: str) -> Image:
        revised = item.get("revised_prompt")
        revised = revised if isinstance(revised, str) and revised else None
        b64 = item.get("b64_json")
        if isinstance(b64, str) and b64:
            data, mime = media.decode_base64(b64, provider=self.name)
            return media.to_image(data, provider=self.name, model=model, revised_prompt=revised, mime=mime)
        return await fetch_result(
            self._client,
            str(item["url"]),
            provider=self.name,
            model=model,
            allow_private=self._allow_private,
            revised_prompt=revised,
        )


def aspect_ratio(aspect: Aspect) -> str:
    """xAI's name for the supported ratio nearest to ``aspect``."""
    nearest = min(ASPECT_RATIOS, key=lambda a: abs(a.ratio - aspect.ratio))
    return ASPECT_RATIOS[nearest]


def _raise_for_status(response: httpx.Response, *, provider: str) -> None:
    """``raise_for_response``, plus xAI's moderation wording ("rejected by content moderation") and its
    HTTP 400 "Incorrect API key provided"."""
    if 400 <= response.status_code < 500 and response.status_code != 429:
        info = error_info(response)
        if "api key" in info.message.lower():
            raise Misconfigured(
                f"{provider}: HTTP {response.status_code}: the API key was rejected",
                provider=provider,
                user_message=_(KEY_REJECTED_TEXT),
            )
        if "moderation" in info.message.lower() or "safety" in info.message.lower():
            raise Refused(
                f"{provider}: HTTP {response.status_code}: refused: {info.message}",
                provider=provider,
                user_message=_(REFUSED_TEXT),
            )
    raise_for_response(response, provider=provider)


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> XAIProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return XAIProvider(settings, client=client)
