"""``imagen``: Google's Imagen models through the Gemini API's native ``:predict`` method.

``POST {base_url}/models/{model}:predict`` with the key in ``x-goog-api-key`` and the body
``{"instances": [{"prompt"}], "parameters": {"sampleCount", "aspectRatio", "sampleImageSize"?,
"includeRaiReason": true}}``; the answer is ``{"predictions": [{"bytesBase64Encoded", "mimeType"} |
{"raiFilteredReason"}], ...}``. An image withheld by the responsible-AI filter comes back as a
prediction with only ``raiFilteredReason`` (or not at all): an HTTP 200 without any image is a refusal,
naming Google's reason. The Gemini API (unlike Vertex) takes no negative prompt, no seed and no
reference image, so Imagen here only generates; one call makes up to four images. ``sampleImageSize``
(1K/2K, from ``--quality``) is sent only to the Standard and Ultra Imagen 4 models, which take it.
Errors use Google's envelope, read by :func:`bot.providers.gemini.errors.raise_for_google`.

Sources: ai.google.dev/gemini-api/docs/imagen (REST example, parameters, model codes) and
google-genai's ``_GenerateImagesParameters_to_mldev`` (before commit 43ef621, 2026-08-21, which
disabled ``generate_images`` for the Gemini API in the SDK; the REST method is what this calls).
"""

from __future__ import annotations

from typing import Any

import httpx

from bot.core.errors import InvalidRequest, ProviderError, Refused
from bot.core.i18n import N_, _
from bot.core.ports import ProgressCallback
from bot.core.types import Aspect, Capabilities, Image, ImageRequest, ProviderHealth
from bot.providers._http.common import api_key, base_url, is_edit, merge_options, read_object
from bot.providers._http.errors import REFUSED_TEXT, scrub, transport_errors
from bot.providers._http.media import decode_base64, to_image
from bot.providers._http.multimodal import aspect_label
from bot.providers.gemini.errors import raise_for_google
from bot.providers.settings import ProviderSettings

__all__ = ["ImagenProvider", "create"]

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
DEFAULT_MODEL = "imagen-4.0-generate-001"
CATALOG = (
    "imagen-4.0-generate-001",
    "imagen-4.0-ultra-generate-001",
    "imagen-4.0-fast-generate-001",
    "imagen-3.0-generate-002",
)
ASPECTS = tuple(Aspect(w, h) for w, h in ((1, 1), (3, 4), (4, 3), (9, 16), (16, 9)))
MAX_N = 4
SIZED_MODELS = ("imagen-4.0-generate", "imagen-4.0-ultra-generate")
"""Models that take ``sampleImageSize`` ("only supported for the Standard and Ultra models")."""
_IMAGE_SIZES = {"high": "2K", "hd": "2K", "low": "1K"}
CHECK_TIMEOUT_S = 10.0
NO_EDIT_TEXT = N_(
    "Imagen on the Gemini API only makes new images; it cannot edit one. Try another provider for edits."
)


class ImagenProvider:
    """Imagen over the Gemini API, implementing :class:`bot.core.ports.Provider`."""

    name = "imagen"
    catalog = CATALOG
    capabilities = Capabilities(edit=False, max_n=MAX_N, aspects=ASPECTS, negative_prompt=False, seed=False)

    def __init__(self, settings: ProviderSettings, *, client: httpx.AsyncClient) -> None:
        self._headers = {"x-goog-api-key": api_key(settings, provider=self.name)}
        self.base_url = base_url(settings, provider=self.name, default=DEFAULT_BASE_URL)
        self.model = _bare(settings.model or DEFAULT_MODEL)
        self.options = dict(settings.options)
        self._client = client

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """Up to four images for the prompt in one ``:predict`` call; edits are InvalidRequest."""
        if is_edit(request, provider=self.name):
            raise InvalidRequest(
                f"{self.name}: the Gemini API's Imagen cannot edit images",
                provider=self.name,
                user_message=_(NO_EDIT_TEXT),
            )
        model = _bare(request.model or self.model)
        url = f"{self.base_url}/models/{model}:predict"
        with transport_errors(provider=self.name, url=url):
            response = await self._client.post(url, json=self._body(request, model), headers=self._headers)
        raise_for_google(response, provider=self.name)
        images = self._images(read_object(response, provider=self.name), model)
        await on_progress(1.0, None)
        return images

    async def check(self) -> ProviderHealth:
        """GET ``models/{model}``: the key works, the model exists and serves ``predict``."""
        url = f"{self.base_url}/models/{self.model}"
        try:
            with transport_errors(provider=self.name, url=url):
                response = await self._client.get(url, headers=self._headers, timeout=CHECK_TIMEOUT_S)
            raise_for_google(response, provider=self.name)
            body = read_object(response, provider=self.name)
        except ProviderError as exc:
            return ProviderHealth(ok=False, detail=str(exc).removeprefix(f"{self.name}: "))
        methods = body.get("supportedGenerationMethods") or []
        if isinstance(methods, list) and methods and "predict" not in methods:
            return ProviderHealth(
                ok=False, detail=f"{self.model} does not serve predict (not an Imagen model?)"
            )
        return ProviderHealth(ok=True, detail=f"ok ({self.model})")

    async def list_models(self) -> list[str]:
        """Models from GET ``/models`` that serve ``predict`` and are Imagen models."""
        url = f"{self.base_url}/models"
        with transport_errors(provider=self.name, url=url):
            response = await self._client.get(
                url, params={"pageSize": "1000"}, headers=self._headers, timeout=CHECK_TIMEOUT_S
            )
        raise_for_google(response, provider=self.name)
        models = read_object(response, provider=self.name).get("models") or []
        return [
            _bare(str(m["name"]))
            for m in models
            if isinstance(m, dict)
            and "imagen" in str(m.get("name") or "")
            and "predict" in (m.get("supportedGenerationMethods") or [])
        ]

    async def aclose(self) -> None:
        """Nothing of its own to close: the HTTP client belongs to the app."""

    # ------------------------------------------------------------------------------------- internals

    def _body(self, request: ImageRequest, model: str) -> dict[str, Any]:
        parameters: dict[str, Any] = {
            "sampleCount": max(1, min(request.n, MAX_N)),
            "aspectRatio": aspect_label(request.aspect, ASPECTS),
            "includeRaiReason": True,
        }
        size = _IMAGE_SIZES.get((request.quality or "").lower())
        if size and model.startswith(SIZED_MODELS):
            parameters["sampleImageSize"] = size
        body = {"instances": [{"prompt": request.prompt}], "parameters": parameters}
        return merge_options(body, self.options)

    def _images(self, payload: dict[str, Any], model: str) -> list[Image]:
        """The predictions that carry an image; Refused (naming the filter's reason) when none does."""
        images: list[Image] = []
        reasons: list[str] = []
        predictions = payload.get("predictions")
        for prediction in predictions if isinstance(predictions, list) else []:
            if not isinstance(prediction, dict):
                continue
            data = prediction.get("bytesBase64Encoded")
            if isinstance(data, str) and data:
                raw, mime = decode_base64(data, provider=self.name)
                images.append(to_image(raw, provider=self.name, model=model, mime=mime))
            elif isinstance(prediction.get("raiFilteredReason"), str):
                reasons.append(scrub(prediction["raiFilteredReason"], limit=200))
        if images:
            return images
        said = "; ".join(reasons) or "no predictions"
        raise Refused(
            f"{self.name}: HTTP 200 without images (filtered: {said})",
            provider=self.name,
            user_message=_(REFUSED_TEXT),
        )


def _bare(model: str) -> str:
    return model.strip().removeprefix("models/")


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> ImagenProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return ImagenProvider(settings, client=client)
