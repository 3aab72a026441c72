"""``openai-compatible``: any server that speaks the OpenAI Images API (LocalAI, vLLM-Omni, proxies).

``base_url`` includes the version prefix (``http://127.0.0.1:8080/v1``) and may be a list of identical
servers, shared by a :class:`~bot.providers._http.backends.BackendPool`. Generations are
``POST {base_url}/images/generations`` (JSON); edits and variations of a reference image are
``POST {base_url}/images/edits`` (multipart, the reference as one ``image`` part). Results come back as
base64 or as URLs, which are downloaded at once (they expire). An HTTP 200 without images is a silent
moderation refusal. The wire shapes live in :mod:`bot.providers._http.images_api`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from bot.core.errors import ProviderError
from bot.core.ports import ProgressCallback
from bot.core.types import Capabilities, Image, ImageRequest, ProviderHealth
from bot.observability.redaction import redact
from bot.providers._http import images_api, references
from bot.providers._http.backends import BackendPool
from bot.providers._http.common import base_urls, is_edit
from bot.providers._http.media import base_is_local
from bot.providers.settings import ProviderSettings

__all__ = ["OpenAICompatibleProvider", "create"]

LONG_SIDE = 1024
SIZE_MULTIPLE = 64


class OpenAICompatibleProvider:
    """The OpenAI Images API over httpx, implementing :class:`bot.core.ports.Provider`."""

    name = "openai-compatible"
    catalog: tuple[str, ...] = ()
    """A local server's models are its own: see :meth:`list_models`."""
    capabilities = Capabilities(
        edit=True, max_n=4, aspects=None, negative_prompt=False, seed=False, max_reference_images=1
    )

    def __init__(self, settings: ProviderSettings, *, client: httpx.AsyncClient) -> None:
        urls = base_urls(settings, provider=self.name, example="http://127.0.0.1:8080/v1")
        self.model = settings.model
        self.pool = BackendPool(urls, max_per_backend=settings.max_concurrency or 1)
        key = settings.api_key.get_secret_value() if settings.api_key is not None else ""
        self._auth: dict[str, str] = {"Authorization": f"Bearer {key}"} if key else {}
        self._options = dict(settings.options)
        self._allow_private = base_is_local(urls)
        self._client = client

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """Generate, or edit the first reference image for EDIT/VARY; fail over between backends."""
        edit = is_edit(request, provider=self.name)
        notes: tuple[str, ...] = ()
        if edit:
            request, notes = await references.prepare(request, references.PNG_JPEG_WEBP, provider=self.name)
        images = await self.pool.call(lambda base: self._generate_on(base, request, edit=edit))
        await on_progress(1.0, None)
        return references.noted(images, notes)

    async def check(self) -> ProviderHealth:
        """GET ``{base_url}/models`` on every backend: ok when any answers."""
        results = await asyncio.gather(*(self._check_one(url) for url in self.pool.urls))
        detail = "; ".join(
            f"{url}: {reason}" for url, (_, reason) in zip(self.pool.urls, results, strict=True)
        )
        return ProviderHealth(ok=any(ok for ok, _ in results), detail=detail)

    async def list_models(self) -> list[str]:
        """What ``GET {base_url}/models`` lists on a backend that answers."""
        return await self.pool.call(
            lambda base: images_api.model_ids(self._client, base, provider=self.name, headers=self._auth)
        )

    async def aclose(self) -> None:
        """Nothing of its own to close: the client belongs to the app."""

    # ------------------------------------------------------------------------------------ one backend

    async def _generate_on(self, base: str, request: ImageRequest, *, edit: bool) -> list[Image]:
        model = request.model or self.model
        width, height = request.aspect.size_for(LONG_SIDE, multiple=SIZE_MULTIPLE)
        fields: dict[str, Any] = {
            **self._options,
            "prompt": request.prompt,
            "n": max(1, min(request.n, self.capabilities.max_n)),
            "size": f"{width}x{height}",
            "response_format": "b64_json",
        }
        if model:
            fields["model"] = model
        send: dict[str, Any]
        if edit:
            files = [images_api.file_part("image", request.reference_images[0], provider=self.name)]
            if request.mask is not None:
                files.append(images_api.file_part("mask", request.mask, provider=self.name))
            url, send = f"{base}/images/edits", {"data": images_api.form_fields(fields), "files": files}
        else:
            url, send = f"{base}/images/generations", {"json": fields}
        payload = await images_api.send(
            self._client, "POST", url, provider=self.name, headers=self._auth, **send
        )
        items = images_api.result_items(payload, provider=self.name)
        return await images_api.to_images(
            self._client,
            items,
            provider=self.name,
            model=model,
            base=base,
            headers=self._auth,
            allow_private=self._allow_private,
        )

    async def _check_one(self, base: str) -> tuple[bool, str]:
        try:
            await images_api.probe(self._client, base, provider=self.name, headers=self._auth)
        except ProviderError as exc:
            return False, str(exc).removeprefix(f"{self.name}: ").removeprefix(f"{redact(base)}/models: ")
        return True, "ok"


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> OpenAICompatibleProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return OpenAICompatibleProvider(settings, client=client)
