"""``openrouter``: image models behind OpenRouter's chat completions (Gemini image, FLUX.2, GPT image).

``POST {base_url}/chat/completions`` with ``Authorization: Bearer``, ``modalities`` (``["image",
"text"]`` for models that also write text, ``["image"]`` for image-only ones such as FLUX) and
``image_config`` (``aspect_ratio``; ``image_size`` for Gemini 3). Reference images for edits go in the
user turn as ``image_url`` parts holding data URLs. Images come back in ``choices[0].message.images``
as ``data:image/png;base64,...`` URLs (plain URLs are downloaded at once). An HTTP 200 without images
(a text answer, a ``content_filter`` finish, an upstream error in the choice) is a refusal or an
invalid request, never a success. ``options`` are merged into the body, except ``http_referer`` and
``x_title``, which become the attribution headers.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from bot.core.errors import InvalidRequest, Misconfigured, ProviderError, RateLimited, Refused, Unavailable
from bot.core.i18n import _
from bot.core.ports import ProgressCallback
from bot.core.types import Aspect, Capabilities, Image, ImageRequest, ProviderHealth
from bot.providers._http import references
from bot.providers._http.backends import BackendPool
from bot.providers._http.common import (
    base_urls,
    bearer,
    encode_reference,
    instruction_prompt,
    is_edit,
    merge_options,
    read_object,
)
from bot.providers._http.errors import REFUSED_TEXT, busy_text, raise_for_response, scrub, transport_errors
from bot.providers._http.media import base_is_local, download, to_image
from bot.providers._http.multimodal import (
    NO_IMAGE_TEXT,
    RECITATION_TEXT,
    aspect_label,
    image_size_for,
    text_only_text,
)
from bot.providers.settings import ProviderSettings

__all__ = ["OpenRouterProvider", "create"]

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
DEFAULT_MODEL = "google/gemini-2.5-flash-image"
DEFAULT_TITLE = "Easel"
CATALOG = (
    "google/gemini-2.5-flash-image",
    "google/gemini-3-pro-image-preview",
    "google/gemini-3.1-flash-image-preview",
    "black-forest-labs/flux.2-pro",
    "openai/gpt-5-image",
)
ASPECTS = tuple(
    Aspect(w, h)
    for w, h in ((1, 1), (2, 3), (3, 2), (3, 4), (4, 3), (4, 5), (5, 4), (9, 16), (16, 9), (21, 9))
)
TEXT_AND_IMAGE_PREFIXES = ("google/", "openai/")
"""Model families that answer with text as well as images; the rest are asked for ``["image"]`` only."""
MAX_REFERENCE_IMAGES = 3
CHECK_TIMEOUT_S = 10.0
REFUSAL_FINISHES = frozenset(
    {"SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT", "BLOCKLIST", "SPII"}
)
RECITATION_FINISHES = frozenset({"RECITATION", "IMAGE_RECITATION"})


class OpenRouterProvider:
    """OpenRouter's image-output models, implementing :class:`bot.core.ports.Provider`."""

    name = "openrouter"
    catalog = CATALOG

    def __init__(self, settings: ProviderSettings, *, client: httpx.AsyncClient) -> None:
        auth = bearer(settings, provider=self.name)
        urls = base_urls(settings, provider=self.name, default=DEFAULT_BASE_URL)
        self.model = settings.model or DEFAULT_MODEL
        options = dict(settings.options)
        referer = options.pop("http_referer", None)
        title = options.pop("x_title", DEFAULT_TITLE)
        self.options = options
        self.pool = BackendPool(urls, max_per_backend=settings.max_concurrency or 4)
        self.capabilities = Capabilities(
            edit=True,
            max_n=1,
            aspects=ASPECTS,
            negative_prompt=False,
            seed=False,
            max_reference_images=MAX_REFERENCE_IMAGES,
        )
        self._headers = auth
        if referer:
            self._headers["HTTP-Referer"] = str(referer)
        if title:
            self._headers["X-Title"] = str(title)
        self._allow_private = base_is_local(urls)
        self._client = client

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """One call to chat completions; every image in the answer is returned."""
        edit = is_edit(request, provider=self.name)
        notes: tuple[str, ...] = ()
        if edit:
            request, notes = await references.prepare(request, references.PNG_JPEG_WEBP, provider=self.name)
        model = request.model or self.model
        body = self._body(request, model, edit=edit)
        images = await self.pool.call(lambda base: self._generate_on(base, body, model))
        await on_progress(1.0, None)
        return references.noted(images, notes)

    async def check(self) -> ProviderHealth:
        """GET ``/key``: the key is valid (and how much credit it has left, when limited)."""
        results = await asyncio.gather(*(self._check_one(url) for url in self.pool.urls))
        return ProviderHealth(ok=any(ok for ok, _ in results), detail="; ".join(r for _, r in results))

    async def list_models(self) -> list[str]:
        """Model ids from GET ``/models?output_modalities=image``."""
        url = f"{self.pool.urls[0]}/models"
        with transport_errors(provider=self.name, url=url):
            response = await self._client.get(
                url, params={"output_modalities": "image"}, headers=self._headers
            )
        raise_for_openrouter(response, provider=self.name)
        names: list[str] = []
        for model in read_object(response, provider=self.name).get("data") or []:
            if not isinstance(model, dict) or not isinstance(model.get("id"), str):
                continue
            architecture = model.get("architecture")
            outputs = architecture.get("output_modalities") if isinstance(architecture, dict) else None
            if outputs is None or "image" in outputs:
                names.append(model["id"])
        return names

    async def aclose(self) -> None:
        """Nothing of its own to close: the HTTP client belongs to the app."""

    # ---------------------------------------------------------------------------------------- request

    def _body(self, request: ImageRequest, model: str, *, edit: bool) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"type": "text", "text": instruction_prompt(request)}]
        if edit:
            for data in request.reference_images[:MAX_REFERENCE_IMAGES]:
                url = encode_reference(data, provider=self.name, data_url=True)
                content.append({"type": "image_url", "image_url": {"url": url}})
        image_config: dict[str, Any] = {"aspect_ratio": aspect_label(request.aspect, ASPECTS)}
        size = image_size_for(request.quality)
        if size and model.startswith("google/gemini-3"):
            image_config["image_size"] = size
        modalities = ["image", "text"] if model.startswith(TEXT_AND_IMAGE_PREFIXES) else ["image"]
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": "user", "content": content}],
            "modalities": modalities,
            "image_config": image_config,
            "stream": False,
        }
        return merge_options(body, self.options)

    async def _generate_on(self, base: str, body: dict[str, Any], model: str) -> list[Image]:
        url = f"{base}/chat/completions"
        with transport_errors(provider=self.name, url=url):
            response = await self._client.post(url, json=body, headers=self._headers)
        raise_for_openrouter(response, provider=self.name)
        payload = read_object(response, provider=self.name)
        if isinstance(payload.get("error"), dict):  # an error reported inside an HTTP 200
            raise _error_from(payload["error"], response, provider=self.name)
        choices = [c for c in payload.get("choices") or [] if isinstance(c, dict)]
        choice = choices[0] if choices else {}
        message = _object(choice.get("message"))
        urls = [_image_url(item) for item in message.get("images") or []]
        if any(urls):
            answered = str(payload.get("model") or model)
            return [await self._image(u, answered) for u in urls if u]
        if isinstance(choice.get("error"), dict):
            raise _error_from(choice["error"], response, provider=self.name)
        raise self._no_image(choice, message)

    async def _image(self, url: str, model: str) -> Image:
        try:
            data, mime = await download(
                self._client, url, provider=self.name, allow_private=self._allow_private
            )
        except (Misconfigured, InvalidRequest) as exc:  # a 4xx on a result URL: it expired, not our setup
            raise Unavailable(
                f"{self.name}: the result URL could not be fetched ({exc})",
                provider=self.name,
                user_message=_("The finished image could no longer be fetched; please try again."),
            ) from exc
        return to_image(data, provider=self.name, model=model, mime=mime)

    def _no_image(self, choice: dict[str, Any], message: dict[str, Any]) -> ProviderError:
        """Why an HTTP 200 has no image: a filter (Refused) or a text-only answer (InvalidRequest)."""
        finish = str(choice.get("finish_reason") or "")
        native = str(choice.get("native_finish_reason") or "").upper()
        where = f"{self.name}: HTTP 200 without images (finish {finish or 'none'}/{native or 'none'})"
        if native in RECITATION_FINISHES:
            return Refused(where, provider=self.name, user_message=_(RECITATION_TEXT))
        if finish == "content_filter" or native in REFUSAL_FINISHES or message.get("refusal"):
            return Refused(where, provider=self.name, user_message=_(REFUSED_TEXT))
        text = message.get("content")
        said = text.strip() if isinstance(text, str) else ""
        return InvalidRequest(
            where, provider=self.name, user_message=text_only_text(said) if said else _(NO_IMAGE_TEXT)
        )

    async def _check_one(self, base: str) -> tuple[bool, str]:
        url = f"{base}/key"
        try:
            with transport_errors(provider=self.name, url=url):
                response = await self._client.get(url, headers=self._headers, timeout=CHECK_TIMEOUT_S)
            raise_for_openrouter(response, provider=self.name)
            data = read_object(response, provider=self.name).get("data")
        except ProviderError as exc:
            return False, str(exc).removeprefix(f"{self.name}: ")
        left = data.get("limit_remaining") if isinstance(data, dict) else None
        return True, f"ok (credit left: {left:.2f})" if isinstance(left, int | float) else "ok"


def raise_for_openrouter(response: httpx.Response, *, provider: str) -> None:
    """:func:`raise_for_response`, plus OpenRouter's moderation 403 (Refused) and its rate-limit reset."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        raise _error_from(error, response, provider=provider)
    raise_for_response(response, provider=provider)


def _error_from(error: dict[str, Any], response: httpx.Response, *, provider: str) -> ProviderError:
    """The error for ``{"code", "message", "metadata"}`` (from an error status or inside an HTTP 200)."""
    code = error.get("code")
    status = code if isinstance(code, int) and 400 <= code <= 599 else response.status_code
    status = status if status >= 400 else 502  # an error without a usable code: the upstream failed
    metadata = _object(error.get("metadata"))
    message = scrub(str(error.get("message") or ""))
    if status == 403 and (metadata.get("reasons") or metadata.get("flagged_input")):
        reasons = metadata.get("reasons")
        named = ", ".join(str(r) for r in reasons) if isinstance(reasons, list) else ""
        return Refused(
            f"{provider}: HTTP 403: moderation flagged the input: {message}",
            provider=provider,
            user_message=(
                _("The image service's moderation refused this prompt ({reasons}).").format(
                    reasons=scrub(named, limit=80)
                )
                if named
                else _("The image service's moderation refused this prompt.")
            ),
        )
    retry_headers = {
        k: v for k, v in response.headers.items() if k.lower() in ("retry-after", "retry-after-ms")
    }
    if status == 429 and not retry_headers:
        wait = _reset_in(metadata)
        if wait is not None:
            return RateLimited(
                f"{provider}: HTTP 429: rate limited: {message}",
                provider=provider,
                retry_after=wait,
                user_message=busy_text(wait),
            )
    try:
        raise_for_response(
            httpx.Response(status, json={"error": error}, headers=retry_headers), provider=provider
        )
    except ProviderError as exc:
        return exc
    raise AssertionError(f"HTTP {status} is an error status")  # pragma: no cover


def _reset_in(metadata: dict[str, Any]) -> float | None:
    """Seconds until ``metadata.headers["X-RateLimit-Reset"]`` (epoch milliseconds), if given."""
    headers = metadata.get("headers")
    if not isinstance(headers, dict):
        return None
    try:
        reset_ms = float(headers.get("X-RateLimit-Reset") or "")
    except ValueError:
        return None
    wait = reset_ms / 1000 - time.time()
    return max(0.0, wait) if wait < 86_400 else None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _image_url(item: object) -> str | None:
    if not isinstance(item, dict):
        return None
    holder = item.get("image_url") or item.get("imageUrl")
    url = holder.get("url") if isinstance(holder, dict) else holder
    return url if isinstance(url, str) and url else None


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> OpenRouterProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return OpenRouterProvider(settings, client=client)
