"""``openai-compatible``: any server that speaks the OpenAI Images API (LocalAI, vLLM-Omni, proxies).

``base_url`` includes the version prefix (``http://127.0.0.1:8080/v1``) and may be a list of identical
servers, shared by a :class:`~bot.providers.backends.BackendPool`. Generations are
``POST {base_url}/images/generations`` (JSON); edits and variations of a reference image are
``POST {base_url}/images/edits`` (multipart). Results come back as base64 or as URLs, which are
downloaded at once (they expire). An HTTP 200 without images is a silent moderation refusal.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

import httpx

from bot.core.errors import ImageError, InvalidRequest, Misconfigured, ProviderError, Refused, Unavailable
from bot.core.imaging import image_size, sniff
from bot.core.ports import ProgressCallback
from bot.core.types import Capabilities, GenerationKind, Image, ImageRequest, ProviderHealth
from bot.providers.backends import BackendPool
from bot.providers.http_errors import (
    REFUSED_TEXT,
    UNAVAILABLE_TEXT,
    error_info_from,
    raise_for_response,
    refused,
    transport_errors,
)
from bot.settings import ProviderSettings

__all__ = ["OpenAICompatibleProvider"]

LONG_SIDE = 1024
SIZE_MULTIPLE = 64
CONNECT_TIMEOUT_S = 10.0
CHECK_TIMEOUT_S = 10.0
MAX_DOWNLOAD_BYTES = 50_000_000
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


class OpenAICompatibleProvider:
    """The OpenAI Images API over httpx, implementing :class:`bot.core.ports.Provider`."""

    name = "openai-compatible"
    capabilities = Capabilities(
        edit=True, max_n=4, aspects=None, negative_prompt=False, seed=False, max_reference_images=1
    )

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        default_timeout_s: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        urls = _base_urls(settings.base_url)
        if not urls:
            raise Misconfigured(
                "providers.openai-compatible needs base_url (for example http://127.0.0.1:8080/v1)",
                provider=self.name,
            )
        for url in urls:
            if httpx.URL(url).scheme not in ("http", "https"):
                raise Misconfigured(
                    f"providers.openai-compatible.base_url {url!r} is not an http(s) URL", provider=self.name
                )
        self.model = settings.model
        self.pool = BackendPool(urls, max_per_backend=settings.max_concurrency or 1)
        key = settings.api_key.get_secret_value() if settings.api_key is not None else ""
        self._auth: dict[str, str] = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout_s or default_timeout_s, connect=CONNECT_TIMEOUT_S),
            transport=transport,
            headers={"User-Agent": "easel-bot"},
        )

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """Generate, or edit the first reference image for EDIT/VARY; fail over between backends."""
        edit = request.kind in (GenerationKind.EDIT, GenerationKind.VARY)
        if edit and not request.reference_images:
            raise InvalidRequest(
                f"{request.kind} needs a reference image",
                provider=self.name,
                user_message="I need an image to work from for that.",
            )
        images = await self.pool.call(lambda base: self._generate_on(base, request, edit=edit))
        await on_progress(1.0, None)
        return images

    async def check(self) -> ProviderHealth:
        """GET ``{base_url}/models`` on every backend: ok when any answers."""
        results = await asyncio.gather(*(self._check_one(url) for url in self.pool.urls))
        detail = "; ".join(
            f"{url}: {reason}" for url, (_, reason) in zip(self.pool.urls, results, strict=True)
        )
        return ProviderHealth(ok=any(ok for ok, _ in results), detail=detail)

    async def aclose(self) -> None:
        await self._client.aclose()

    # ------------------------------------------------------------------------------------ one backend

    async def _generate_on(self, base: str, request: ImageRequest, *, edit: bool) -> list[Image]:
        model = request.model or self.model
        width, height = request.aspect.size_for(LONG_SIDE, multiple=SIZE_MULTIPLE)
        fields: dict[str, Any] = {
            "prompt": request.prompt,
            "n": max(1, min(request.n, self.capabilities.max_n)),
            "size": f"{width}x{height}",
            "response_format": "b64_json",
        }
        if model:
            fields["model"] = model
        if edit:
            files = [_file_part("image", request.reference_images[0], provider=self.name)]
            if request.mask is not None:
                files.append(_file_part("mask", request.mask, provider=self.name))
            data = {key: str(value) for key, value in fields.items()}
            response = await self._post(f"{base}/images/edits", data=data, files=files)
        else:
            response = await self._post(f"{base}/images/generations", json=fields)
        raise_for_response(response, provider=self.name)
        items = self._items(_json(response, provider=self.name))
        return [await self._image(base, item, model) for item in items]

    async def _post(self, url: str, **kwargs: Any) -> httpx.Response:
        with transport_errors(provider=self.name, url=url):
            return await self._client.post(url, headers=self._auth, **kwargs)

    def _items(self, payload: Any) -> list[Mapping[str, Any]]:
        """The result items that carry an image; Refused/InvalidRequest for an HTTP-200 without any."""
        if not isinstance(payload, dict):
            raise Unavailable(
                f"{self.name}: answer is not a JSON object", provider=self.name, user_message=UNAVAILABLE_TEXT
            )
        if payload.get("error"):
            info = error_info_from(payload)
            if refused(info):
                raise Refused(
                    f"{self.name}: refused: {info.message}", provider=self.name, user_message=REFUSED_TEXT
                )
            raise InvalidRequest(
                f"{self.name}: error in an HTTP 200: {info.message}",
                provider=self.name,
                user_message="The image service could not do that.",
            )
        data = payload.get("data")
        if not isinstance(data, list):
            raise InvalidRequest(
                f"{self.name}: answer has no data list",
                provider=self.name,
                user_message="The image service answered without any image.",
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
                f"{self.name}: HTTP 200 without images ({len(data)} item(s) withheld)",
                provider=self.name,
                user_message=REFUSED_TEXT,
            )
        return items

    async def _image(self, base: str, item: Mapping[str, Any], model: str | None) -> Image:
        b64 = item.get("b64_json")
        url = item.get("url")
        if isinstance(b64, str) and b64:
            data = self._decode(b64)
        elif isinstance(url, str) and url.startswith("data:"):
            data = self._decode(url)
        else:
            data = await self._download(base, str(url))
        try:
            mime = sniff(data)
            width, height = image_size(data)
        except ImageError as exc:
            raise Unavailable(
                f"{self.name}: returned bytes that are not an image ({exc})",
                provider=self.name,
                user_message=UNAVAILABLE_TEXT,
            ) from exc
        revised = item.get("revised_prompt")
        return Image(
            data=data,
            mime=mime,
            width=width,
            height=height,
            provider=self.name,
            model=model,
            revised_prompt=revised if isinstance(revised, str) and revised else None,
        )

    def _decode(self, text: str) -> bytes:
        """Bare base64 or a ``data:image/...;base64,`` URL."""
        if text.startswith("data:"):
            text = text.partition(",")[2]
        try:
            return base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise Unavailable(
                f"{self.name}: b64_json is not base64", provider=self.name, user_message=UNAVAILABLE_TEXT
            ) from exc

    async def _download(self, base: str, url: str) -> bytes:
        """Fetch a result URL now; the key goes only to the backend's own origin."""
        target = httpx.URL(base + "/").join(url)
        shown = str(target.copy_with(query=None, fragment=None))  # signed URLs carry tokens
        if target.scheme not in ("http", "https"):
            raise Unavailable(f"{self.name}: unusable result URL {shown}", provider=self.name)
        headers = self._auth if _origin(target) == _origin(httpx.URL(base)) else {}
        with transport_errors(provider=self.name, url=shown):
            async with self._client.stream("GET", target, headers=headers, follow_redirects=True) as response:
                if response.status_code >= 400:
                    raise Unavailable(
                        f"{self.name}: downloading {shown}: HTTP {response.status_code}",
                        provider=self.name,
                        user_message=UNAVAILABLE_TEXT,
                    )
                chunks: list[bytes] = []
                total = 0
                async for chunk in response.aiter_bytes():
                    total += len(chunk)
                    if total > MAX_DOWNLOAD_BYTES:
                        raise Unavailable(
                            f"{self.name}: {shown} is larger than {MAX_DOWNLOAD_BYTES} bytes",
                            provider=self.name,
                        )
                    chunks.append(chunk)
        return b"".join(chunks)

    async def _check_one(self, base: str) -> tuple[bool, str]:
        try:
            with transport_errors(provider=self.name):
                response = await self._client.get(
                    f"{base}/models", headers=self._auth, timeout=CHECK_TIMEOUT_S
                )
            raise_for_response(response, provider=self.name)
        except ProviderError as exc:
            return False, str(exc).removeprefix(f"{self.name}: ")
        return True, "ok"


def _base_urls(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    urls = [value] if isinstance(value, str) else value
    return [url.strip().rstrip("/") for url in urls if url.strip()]


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _json(response: httpx.Response, *, provider: str) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Unavailable(
            f"{provider}: HTTP {response.status_code} answer is not JSON",
            provider=provider,
            user_message=UNAVAILABLE_TEXT,
        ) from exc


def _file_part(field: str, data: bytes, *, provider: str) -> tuple[str, tuple[str, bytes, str]]:
    try:
        mime = sniff(data)
    except ImageError as exc:
        raise InvalidRequest(
            f"{provider}: the {field} is not a PNG, JPEG, WebP or GIF",
            provider=provider,
            user_message=exc.user_message,
        ) from exc
    return field, (f"{field}.{_EXTENSIONS[mime]}", data, mime)


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> OpenAICompatibleProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return OpenAICompatibleProvider(settings, client=client)
