"""``stability``: Stability AI's REST API v2beta (``https://api.stability.ai``).

The configured model picks the endpoint: ``core`` → ``/v2beta/stable-image/generate/core``, ``ultra`` →
``/ultra``, and every ``sd3*`` model (``sd3.5-large``, ``sd3.5-medium``, ...) → ``/sd3`` with a ``model``
field. Bodies are multipart/form-data even without a file. We ask for ``Accept: application/json`` and
get ``{"image": b64, "finish_reason", "seed"}``; a raw ``image/*`` answer (headers ``finish-reason`` and
``seed``) is understood too. ``finish_reason: CONTENT_FILTERED`` comes in an HTTP 200 with the image
blurred: it is returned flagged (``Image.flagged``), and the chat's content policy decides whether it
is refused or sent as a spoiler (``bot.core.content.policy``); a 403 ``content_moderation`` is a
refusal. Edits and variations are image-to-image (``image`` + ``strength``) on ultra and sd3.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from typing import Any

import httpx

from bot import __version__
from bot.core.errors import InvalidRequest, Misconfigured, ProviderError, Unavailable
from bot.core.i18n import N_, _
from bot.core.ports import ProgressCallback
from bot.core.types import Capabilities, Image, ImageRequest, ProviderHealth
from bot.providers._http import media, references
from bot.providers._http.common import (
    api_key,
    base_url,
    diffusion_prompt,
    is_edit,
    merge_options,
    read_object,
    reference_mime,
)
from bot.providers._http.errors import raise_for_response, transport_errors
from bot.providers._http.stable_image import ASPECTS, aspect_ratio, img2img_strength, wire_seed
from bot.providers.settings import DiffusionSettings

__all__ = ["StabilityProvider", "create"]

DEFAULT_BASE_URL = "https://api.stability.ai"
DEFAULT_MODEL = "sd3.5-large"
GENERATE_PATH = "/v2beta/stable-image/generate/"
BALANCE_PATH = "/v1/user/balance"
CHECK_TIMEOUT_S = 10.0
TOO_LARGE_TEXT = N_("That image is too large for Stability AI; try a smaller one.")
_ALIASES = {"stable-image-core": "core", "stable-image-ultra": "ultra"}


def endpoint_for(model: str) -> tuple[str, str | None]:
    """(endpoint name, sd3 ``model`` field) for a model name; ValueError when it is none of ours."""
    name = _ALIASES.get(model.strip().lower(), model.strip().lower())
    if name in ("core", "ultra"):
        return name, None
    if name.startswith("sd3"):
        return "sd3", name
    raise ValueError(model)


class StabilityProvider:
    """Stability AI's stable-image generate endpoints, implementing :class:`bot.core.ports.Provider`."""

    name = "stability"
    catalog: tuple[str, ...] = ("core", "ultra", "sd3.5-large", "sd3.5-large-turbo", "sd3.5-medium")

    def __init__(self, settings: DiffusionSettings, *, client: httpx.AsyncClient) -> None:
        key = api_key(settings, provider=self.name)
        self.base_url = base_url(settings, provider=self.name, default=DEFAULT_BASE_URL)
        self.model = settings.model or DEFAULT_MODEL
        try:
            endpoint, _ = endpoint_for(self.model)
        except ValueError:
            raise Misconfigured(
                f"providers.stability.model {self.model!r} is not core, ultra or an sd3 model",
                provider=self.name,
            ) from None
        self.settings = settings
        self.capabilities = Capabilities(
            edit=endpoint != "core",
            max_n=1,
            aspects=ASPECTS,
            negative_prompt="turbo" not in self.model.lower(),
            seed=True,
            max_reference_images=0 if endpoint == "core" else 1,
        )
        self._client = client
        self._headers = {
            "Authorization": f"Bearer {key}",
            "Accept": "application/json",
            "stability-client-id": "easel",
            "stability-client-version": __version__,
        }
        self._allow_private = media.base_is_local(self.base_url)

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """One image per call (``max_n`` is 1; the chain splits larger requests)."""
        model = request.model or self.model
        try:
            endpoint, sd3_model = endpoint_for(model)
        except ValueError:
            raise InvalidRequest(
                f"{self.name}: unknown model {model!r}",
                provider=self.name,
                user_message=_(
                    "Stability AI has no model called {model} (try core, ultra or sd3.5-large)."
                ).format(model=repr(model)),
            ) from None
        img2img = is_edit(request, provider=self.name)
        notes: tuple[str, ...] = ()
        if img2img:
            request, notes = await references.prepare(request, references.PNG_JPEG_WEBP, provider=self.name)
        if img2img and endpoint == "core":
            raise InvalidRequest(
                f"{self.name}: {request.kind} needs the ultra or an sd3 model",
                provider=self.name,
                user_message=_("Stability AI can only edit an image with the ultra or sd3 models."),
            )
        fields = self._fields(request, model, endpoint=endpoint, sd3_model=sd3_model, img2img=img2img)
        files: list[tuple[str, tuple[str | None, bytes | str] | tuple[str, bytes, str]]] = [
            (name, (None, value)) for name, value in fields.items()
        ]
        if img2img:
            reference = request.reference_images[0]
            mime = reference_mime(reference, provider=self.name)
            files.append(("image", (f"image.{mime.split('/')[1]}", reference, mime)))
        url = self.base_url + GENERATE_PATH + endpoint
        with transport_errors(provider=self.name, url=url):
            response = await self._client.post(url, headers=self._headers, files=files)
        image = self._image(response, model=model, sent_seed=wire_seed(request.seed))
        await on_progress(1.0, None)
        return references.noted([image], notes)

    async def check(self) -> ProviderHealth:
        """GET ``/v1/user/balance``: the key works and the account has credits left."""
        try:
            with transport_errors(provider=self.name):
                response = await self._client.get(
                    self.base_url + BALANCE_PATH, headers=self._headers, timeout=CHECK_TIMEOUT_S
                )
            raise_for_response(response, provider=self.name)
        except ProviderError as exc:
            return ProviderHealth(ok=False, detail=str(exc).removeprefix(f"{self.name}: "))
        try:
            credits = response.json().get("credits")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            credits = None
        return ProviderHealth(ok=True, detail=f"ok, {credits} credits" if credits is not None else "ok")

    async def aclose(self) -> None:
        """Nothing of our own to close: the app owns the client."""

    # -------------------------------------------------------------------------------------- internals

    def _fields(
        self, request: ImageRequest, model: str, *, endpoint: str, sd3_model: str | None, img2img: bool
    ) -> dict[str, str]:
        fields: dict[str, Any] = {
            "prompt": diffusion_prompt(request),
            "output_format": "png",
        }
        if request.negative and "turbo" not in model.lower():
            fields["negative_prompt"] = request.negative
        seed = wire_seed(request.seed)
        if seed is not None:
            fields["seed"] = seed
        if img2img:
            fields["strength"] = img2img_strength(request, self.settings.denoising_strength)
        else:
            fields["aspect_ratio"] = aspect_ratio(request.aspect)
        if sd3_model is not None:
            fields["model"] = sd3_model
            fields["mode"] = "image-to-image" if img2img else "text-to-image"
            if self.settings.cfg_scale is not None:
                fields["cfg_scale"] = self.settings.cfg_scale
        fields = merge_options(fields, self.settings.options)
        return {name: str(value) for name, value in fields.items() if value is not None}

    def _image(self, response: httpx.Response, *, model: str, sent_seed: int | None) -> Image:
        """The image in a 200 (JSON or raw bytes), flagged for CONTENT_FILTERED; errors raised."""
        if response.status_code == 413:
            raise InvalidRequest(
                f"{self.name}: HTTP 413: request too large",
                provider=self.name,
                user_message=_(TOO_LARGE_TEXT),
            )
        raise_for_response(response, provider=self.name)
        if response.headers.get("content-type", "").startswith("image/"):
            data: bytes = response.content
            finish = response.headers.get("finish-reason", "SUCCESS")
            seed: object = response.headers.get("seed")
        else:
            body = read_object(response, provider=self.name)
            finish = str(body.get("finish_reason") or "SUCCESS")
            seed = body.get("seed")
            data = self._decode(body.get("image"))
        image = media.to_image(data, provider=self.name, model=model, seed=_int_or(seed, sent_seed))
        if finish.strip().upper() == "CONTENT_FILTERED":  # blurred: the chat's policy decides
            return dataclasses.replace(image, flagged=True)
        return image

    def _decode(self, b64: object) -> bytes:
        if not isinstance(b64, str) or not b64:
            raise Unavailable(
                f"{self.name}: HTTP 200 without an image",
                provider=self.name,
                user_message=_("Stability AI answered without an image; please try again."),
            )
        try:
            return base64.b64decode(b64, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise Unavailable(
                f"{self.name}: image is not base64", provider=self.name, user_message=_(media.NOT_AN_IMAGE)
            ) from exc


def _int_or(value: object, default: int | None) -> int | None:
    try:
        return int(str(value)) if value is not None and str(value).strip() else default
    except ValueError:
        return default


def create(settings: DiffusionSettings, *, client: httpx.AsyncClient) -> StabilityProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return StabilityProvider(settings, client=client)
