"""``stepfun``: StepFun's image models (``https://api.stepfun.com/v1``; ``https://api.stepfun.ai/v1``
outside China), Bearer key, on OpenAI-shaped routes.

Generations are ``POST {base}/images/generations`` (JSON: ``model``, ``prompt``, ``size`` from the
model's list, ``n`` 1, ``response_format: b64_json``, ``seed``); edits are ``POST {base}/images/edits``
(multipart: one ``image`` file part, the other fields as text) on the models that edit
(step-image-edit-2, step-1x-edit). Each answer item carries ``finish_reason``: ``content_filtered``
is StepFun's refusal inside an HTTP 200. The base64 field is ``b64_json`` (older pages call it
``image``; both are read). The edit image goes as PNG, JPEG or WebP (step-1x-edit's documented
types, taken for step-image-edit-2 too): a GIF or an animation is sent as its first frame in PNG,
with a note (:mod:`bot.providers._http.references`). step-image-edit-2's sizes are written **height
x width** ("format is height x width, not width x height"), step-1x-medium's width x height. The
shared wire mechanics are :mod:`bot.providers._http.images_api`.

Sources: platform.stepfun.com / platform.stepfun.ai docs "Generate images" and "Image editing" (API
reference), the step-image-edit-2 model page and the Step Plan image API page. Unverified: the error
body (taken to be OpenAI's envelope), which image types step-image-edit-2 takes, ``GET /v1/models``
for ``check()``, and how the server reads a size given width-first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from bot.core.errors import InvalidRequest, ProviderError, Refused
from bot.core.i18n import _
from bot.core.ports import ProgressCallback
from bot.core.types import Aspect, Capabilities, GenerationKind, Image, ImageRequest, ProviderHealth
from bot.providers._http import images_api, references
from bot.providers._http.common import base_url, bearer, instruction_prompt, is_edit
from bot.providers._http.errors import REFUSED_TEXT
from bot.providers._http.media import base_is_local
from bot.providers.settings import ProviderSettings

__all__ = ["StepFunProvider", "create", "size_for"]

DEFAULT_BASE_URL = "https://api.stepfun.com/v1"
DEFAULT_MODEL = "step-image-edit-2"
CATALOG = ("step-image-edit-2", "step-1x-medium", "step-2x-large", "step-1x-edit")
EDIT_MODELS = ("step-image-edit-2", "step-1x-edit")
GENERATE_MODELS = ("step-image-edit-2", "step-1x-medium", "step-2x-large")
HEIGHT_FIRST = ("step-image-edit-2",)
SIZES: Mapping[str, tuple[tuple[int, int], ...]] = {
    # (width, height) as drawn
    "step-image-edit-2": ((1024, 1024), (1360, 768), (1184, 896), (768, 1360), (896, 1184)),
    "step-1x-medium": ((256, 256), (512, 512), (768, 768), (1024, 1024), (1280, 800), (800, 1280)),
    "step-2x-large": ((256, 256), (512, 512), (768, 768), (1024, 1024), (1280, 800), (800, 1280)),
}
REFERENCE_TYPES = references.PNG_JPEG_WEBP
MAX_PROMPT_CHARS = {"step-image-edit-2": 512, "step-1x-edit": 512, "step-1x-medium": 1024}


def size_for(aspect: Aspect, model: str) -> str:
    """The model's size nearest to the aspect, written the way the model reads it."""
    sizes = SIZES.get(model, SIZES["step-1x-medium"])
    width, height = min(sizes, key=lambda s: (abs(s[0] / s[1] - aspect.ratio), -s[0] * s[1]))
    return f"{height}x{width}" if model in HEIGHT_FIRST else f"{width}x{height}"


class StepFunProvider:
    """StepFun images over httpx, implementing :class:`bot.core.ports.Provider`."""

    name = "stepfun"
    catalog = CATALOG

    def __init__(self, settings: ProviderSettings, *, client: httpx.AsyncClient) -> None:
        self._auth = bearer(settings, provider=self.name)
        self.base_url = base_url(settings, provider=self.name, default=DEFAULT_BASE_URL)
        self.model = settings.model or DEFAULT_MODEL
        self._options = dict(settings.options)
        self._allow_private = base_is_local(self.base_url)
        self._client = client
        edits = self.model in EDIT_MODELS
        self.capabilities = Capabilities(
            edit=edits, max_n=1, aspects=None, negative_prompt=False, seed=True,
            max_reference_images=1 if edits else 0,
        )  # fmt: skip

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """One image per call (StepFun makes one); EDIT/VARY go to /images/edits on an editing model."""
        model = request.model or self.model
        edit = is_edit(request, provider=self.name)
        self._can(model, edit=edit)
        notes: tuple[str, ...] = ()
        if edit:
            request, notes = await references.prepare(request, REFERENCE_TYPES, provider=self.name)
        fields: dict[str, Any] = {**self._options, "model": model, "response_format": "b64_json"}
        if request.seed is not None:
            fields["seed"] = request.seed
        send: dict[str, Any]
        if edit:
            text = request.prompt if request.kind is GenerationKind.EDIT else instruction_prompt(request)
            fields["prompt"] = self._prompt(text, model)  # an editing model takes the instruction itself
            image = images_api.file_part("image", request.reference_images[0], provider=self.name)
            url, send = (
                f"{self.base_url}/images/edits",
                {"data": images_api.form_fields(fields), "files": [image]},
            )
        else:
            fields.update(
                prompt=self._prompt(request.prompt, model), size=size_for(request.aspect, model), n=1
            )
            url, send = f"{self.base_url}/images/generations", {"json": fields}
        payload = await images_api.send(
            self._client, "POST", url, provider=self.name, headers=self._auth, **send
        )
        images = await images_api.to_images(
            self._client,
            _items(payload, provider=self.name),
            provider=self.name,
            model=model,
            base=self.base_url,
            headers=self._auth,
            allow_private=self._allow_private,
        )
        await on_progress(1.0, None)
        return references.noted(images, notes)

    async def check(self) -> ProviderHealth:
        """GET ``/models`` with the key: ok when it answers."""
        try:
            await images_api.probe(self._client, self.base_url, provider=self.name, headers=self._auth)
        except ProviderError as exc:
            return ProviderHealth(ok=False, detail=str(exc).removeprefix(f"{self.name}: "))
        return ProviderHealth(ok=True, detail="ok")

    async def aclose(self) -> None:
        """Nothing of its own to close: the client belongs to the app."""

    def _can(self, model: str, *, edit: bool) -> None:
        allowed = EDIT_MODELS if edit else GENERATE_MODELS
        if model not in allowed and model in CATALOG:
            what = "edit images" if edit else "make new images (it only edits)"
            text = (
                _("The StepFun model {model} cannot edit images; step-image-edit-2 does both.")
                if edit
                else _(
                    "The StepFun model {model} cannot make new images (it only edits); step-image-edit-2 "
                    "does both."
                )
            )
            raise InvalidRequest(
                f"{self.name}: {model} cannot {what}",
                provider=self.name,
                user_message=text.format(model=model),
            )

    def _prompt(self, text: str, model: str) -> str:
        limit = MAX_PROMPT_CHARS.get(model, 512)
        if len(text) > limit:
            raise InvalidRequest(
                f"{self.name}: prompt of {len(text)} characters (at most {limit} for {model})",
                provider=self.name,
                user_message=_("That prompt is too long for StepFun (at most {limit} characters).").format(
                    limit=limit
                ),
            )
        return text


def _items(payload: Any, *, provider: str) -> list[Mapping[str, Any]]:
    """Items with an image (``image`` read as ``b64_json``); Refused when every one was filtered."""
    data = payload.get("data") if isinstance(payload, dict) else None
    entries = [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []
    filtered = [item for item in entries if item.get("finish_reason") == "content_filtered"]
    kept = [
        {**item, "b64_json": item.get("b64_json") or item.get("image")}
        for item in entries
        if item not in filtered and (item.get("b64_json") or item.get("image") or item.get("url"))
    ]
    if filtered and not kept:
        raise Refused(
            f"{provider}: HTTP 200 with finish_reason content_filtered",
            provider=provider,
            user_message=_(REFUSED_TEXT),
        )
    return images_api.result_items(  # an error in the 200, or nothing at all: its usual answer
        {**(payload if isinstance(payload, dict) else {}), "data": kept}, provider=provider
    )


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> StepFunProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return StepFunProvider(settings, client=client)
