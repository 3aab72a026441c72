"""``gemini``: Google's Gemini image models ("Nano Banana") over the Gemini API.

``POST {base_url}/models/{model}:generateContent`` with the key in ``x-goog-api-key``. One user turn
holds the prompt (for edits: an instruction plus the reference images as ``inlineData`` parts);
``generationConfig`` asks for image output and carries ``imageConfig.aspectRatio`` (and ``imageSize``
on the Gemini 3 models, from ``--quality``). Images come back as bare base64 ``inlineData`` parts; their
bytes are sniffed, never trusted by ``mimeType``. Refusals arrive as HTTP 200: ``promptFeedback.
blockReason`` or a candidate whose ``finishReason`` is a safety reason and that has no image part.
There is no negative prompt and no seed; one image per call (the chain splits ``n``).
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx

from bot.core.errors import InvalidRequest, ProviderError, Refused
from bot.core.i18n import _
from bot.core.ports import ProgressCallback
from bot.core.types import Aspect, Capabilities, Image, ImageRequest, ProviderHealth
from bot.providers._http import references
from bot.providers._http.backends import BackendPool
from bot.providers._http.common import (
    api_key,
    base_urls,
    instruction_prompt,
    is_edit,
    merge_options,
    read_object,
    reference_mime,
)
from bot.providers._http.errors import REFUSED_TEXT, transport_errors
from bot.providers._http.media import decode_base64, to_image
from bot.providers._http.multimodal import (
    NO_IMAGE_TEXT,
    RECITATION_TEXT,
    aspect_label,
    image_size_for,
    text_only_text,
)
from bot.providers.gemini.errors import raise_for_google
from bot.providers.settings import ProviderSettings

__all__ = ["GeminiProvider", "create"]

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
DEFAULT_MODEL = "gemini-2.5-flash-image"
CATALOG = (
    "gemini-2.5-flash-image",
    "gemini-3-pro-image-preview",
    "gemini-3-pro-image",
    "gemini-3.1-flash-image-preview",
    "gemini-3.1-flash-image",
)
ASPECTS = tuple(Aspect(w, h) for w, h in ((1, 1), (2, 3), (3, 2), (3, 4), (4, 3), (9, 16), (16, 9), (21, 9)))
MAX_REFERENCE_IMAGES = 3
CHECK_TIMEOUT_S = 10.0
LIST_PAGES = 5
REFUSAL_REASONS = frozenset(
    {
        "SAFETY",
        "IMAGE_SAFETY",
        "PROHIBITED_CONTENT",
        "IMAGE_PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "RECITATION",
        "IMAGE_RECITATION",
    }
)


class GeminiProvider:
    """The Gemini API's image models, implementing :class:`bot.core.ports.Provider`."""

    name = "gemini"
    catalog = CATALOG

    def __init__(self, settings: ProviderSettings, *, client: httpx.AsyncClient) -> None:
        key = api_key(settings, provider=self.name)
        urls = base_urls(settings, provider=self.name, default=DEFAULT_BASE_URL)
        self.model = _bare_model(settings.model or DEFAULT_MODEL)
        self.options = dict(settings.options)
        self.pool = BackendPool(urls, max_per_backend=settings.max_concurrency or 4)
        self.capabilities = Capabilities(
            edit=True,
            max_n=1,
            aspects=ASPECTS,
            negative_prompt=False,
            seed=False,
            max_reference_images=MAX_REFERENCE_IMAGES,
        )
        self._headers = {"x-goog-api-key": key}
        self._client = client

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """One image for the prompt, or an edit of the reference images for EDIT/VARY."""
        edit = is_edit(request, provider=self.name)
        notes: tuple[str, ...] = ()
        if edit:
            request, notes = await references.prepare(request, references.PNG_JPEG_WEBP, provider=self.name)
        model = _bare_model(request.model or self.model)
        body = self._body(request, model, edit=edit)
        payload = await self.pool.call(
            lambda base: self._post(f"{base}/models/{model}:generateContent", body)
        )
        images = self._images(payload, model)
        await on_progress(1.0, None)
        return references.noted(images, notes)

    async def check(self) -> ProviderHealth:
        """GET ``models/{model}``: the key works and the model exists."""
        results = await asyncio.gather(*(self._check_one(url) for url in self.pool.urls))
        detail = "; ".join(reason for _, reason in results)
        return ProviderHealth(ok=any(ok for ok, _ in results), detail=detail)

    async def list_models(self) -> list[str]:
        """Image-capable models (``generateContent`` and "image" in the name) from GET ``/models``."""
        base = self.pool.urls[0]
        names: list[str] = []
        token: str | None = None
        for _page in range(LIST_PAGES):
            params = {"pageSize": "1000", **({"pageToken": token} if token else {})}
            with transport_errors(provider=self.name, url=f"{base}/models"):
                response = await self._client.get(f"{base}/models", params=params, headers=self._headers)
            raise_for_google(response, provider=self.name)
            body = read_object(response, provider=self.name)
            for model in body.get("models") or []:
                if not isinstance(model, dict):
                    continue
                name = _bare_model(str(model.get("name") or ""))
                methods = model.get("supportedGenerationMethods") or []
                if "image" in name and "generateContent" in methods:
                    names.append(name)
            token = body.get("nextPageToken") or None
            if not token:
                break
        return names

    async def aclose(self) -> None:
        """Nothing of its own to close: the HTTP client belongs to the app."""

    # ---------------------------------------------------------------------------------------- request

    def _body(self, request: ImageRequest, model: str, *, edit: bool) -> dict[str, Any]:
        parts: list[dict[str, Any]] = [{"text": instruction_prompt(request)}]
        if edit:
            for data in request.reference_images[:MAX_REFERENCE_IMAGES]:
                mime = reference_mime(data, provider=self.name)
                parts.append({"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}})
        image_config: dict[str, Any] = {"aspectRatio": aspect_label(request.aspect, ASPECTS)}
        size = image_size_for(request.quality)
        if size and _takes_image_size(model):
            image_config["imageSize"] = size
        body: dict[str, Any] = {
            "contents": [{"role": "user", "parts": parts}],
            "generationConfig": {"responseModalities": ["TEXT", "IMAGE"], "imageConfig": image_config},
        }
        return merge_options(body, self.options)

    async def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        with transport_errors(provider=self.name, url=url):
            response = await self._client.post(url, json=body, headers=self._headers)
        raise_for_google(response, provider=self.name)
        return read_object(response, provider=self.name)

    # --------------------------------------------------------------------------------------- response

    def _images(self, payload: dict[str, Any], model: str) -> list[Image]:
        """The image parts of the answer; Refused/InvalidRequest for an HTTP 200 without any."""
        images: list[Image] = []
        texts: list[str] = []
        finish: str | None = None
        for candidate in _dicts(payload.get("candidates")):
            finish = finish or _str(candidate.get("finishReason"))
            content = candidate.get("content")
            for part in _dicts(content.get("parts") if isinstance(content, dict) else None):
                if part.get("thought"):  # Gemini 3 "thinking" drafts: not the answer
                    continue
                inline = part.get("inlineData") or part.get("inline_data")
                if isinstance(inline, dict) and isinstance(inline.get("data"), str) and inline["data"]:
                    data, mime = decode_base64(inline["data"], provider=self.name)
                    images.append(to_image(data, provider=self.name, model=model, mime=mime))
                elif isinstance(part.get("text"), str):
                    texts.append(part["text"])
        if images:
            return images
        feedback = payload.get("promptFeedback")
        block = _str(feedback.get("blockReason")) if isinstance(feedback, dict) else None
        if block:
            raise Refused(
                f"{self.name}: prompt blocked ({block})", provider=self.name, user_message=_(REFUSED_TEXT)
            )
        if finish in REFUSAL_REASONS:
            text = _(RECITATION_TEXT) if finish and "RECITATION" in finish else _(REFUSED_TEXT)
            raise Refused(
                f"{self.name}: no image, finishReason {finish}", provider=self.name, user_message=text
            )
        said = " ".join(t.strip() for t in texts if t.strip())
        raise InvalidRequest(
            f"{self.name}: HTTP 200 without an image (finishReason {finish or 'none'})",
            provider=self.name,
            user_message=text_only_text(said) if said else _(NO_IMAGE_TEXT),
        )

    async def _check_one(self, base: str) -> tuple[bool, str]:
        url = f"{base}/models/{self.model}"
        try:
            with transport_errors(provider=self.name, url=url):
                response = await self._client.get(url, headers=self._headers, timeout=CHECK_TIMEOUT_S)
            raise_for_google(response, provider=self.name)
        except ProviderError as exc:
            return False, str(exc).removeprefix(f"{self.name}: ")
        return True, f"ok ({self.model})"


def _takes_image_size(model: str) -> bool:
    """Only the Gemini 3 image models take ``imageSize`` (2.5 Flash Image is 1K only)."""
    return model.startswith("gemini-3")


def _bare_model(model: str) -> str:
    return model.strip().removeprefix("models/")


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return str(value) if value else None


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> GeminiProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return GeminiProvider(settings, client=client)
