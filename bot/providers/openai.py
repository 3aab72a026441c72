"""``openai``: OpenAI's Images API with the GPT image models (gpt-image-1.5 by default).

Generations are ``POST {base_url}/images/generations`` (JSON); edits and variations are
``POST {base_url}/images/edits`` (multipart: every reference image as an ``image[]`` part, the optional
``mask`` part, the other fields as text). The aspect becomes one of the sizes the model accepts (the
chain has already picked the nearest of ``capabilities.aspects`` and told the user); the quality word
is translated for the model; GPT models answer base64 and reject ``response_format``, so it is sent
to dall-e models only. The shared wire shapes live in :mod:`bot.providers._http.images_api`, the model rules
in :mod:`bot.providers._http.gpt_image`.
"""

from __future__ import annotations

from typing import Any

import httpx

from bot.core.errors import InvalidRequest, ProviderError
from bot.core.i18n import _
from bot.core.ports import ProgressCallback
from bot.core.types import Image, ImageRequest, ProviderHealth
from bot.providers._http import gpt_image, images_api, references
from bot.providers._http.common import base_url, bearer, instruction_prompt, is_edit
from bot.providers._http.media import base_is_local
from bot.providers.settings import ProviderSettings

__all__ = ["OpenAIProvider", "create"]


class OpenAIProvider:
    """The OpenAI Images API over httpx, implementing :class:`bot.core.ports.Provider`."""

    name = "openai"
    catalog = gpt_image.CATALOG

    def __init__(self, settings: ProviderSettings, *, client: httpx.AsyncClient) -> None:
        self._auth = bearer(settings, provider=self.name)
        self.base_url = base_url(settings, provider=self.name, default=gpt_image.DEFAULT_BASE_URL)
        self.model = settings.model or gpt_image.DEFAULT_IMAGE_MODEL
        self.capabilities = gpt_image.rules_for(self.model).capabilities()
        self._options = dict(settings.options)
        self._allow_private = base_is_local(self.base_url)
        self._client = client

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """One call to /images/generations, or /images/edits for EDIT and VARY."""
        model = request.model or self.model
        rules = gpt_image.rules_for(model)
        edit = is_edit(request, provider=self.name)
        notes: tuple[str, ...] = ()
        if edit:
            request, notes = await references.prepare(request, references.PNG_JPEG_WEBP, provider=self.name)
        if edit and not rules.max_references:
            raise InvalidRequest(
                f"{self.name}: {model} cannot edit images",
                provider=self.name,
                user_message=_("The model {model} cannot edit images; try another with --model.").format(
                    model=model
                ),
            )
        fields = self._fields(request, model, rules, edit=edit)
        send: dict[str, Any]
        if edit:
            url, send = f"{self.base_url}/images/edits", self._multipart(request, fields, rules)
        else:
            url, send = f"{self.base_url}/images/generations", {"json": fields}
        payload = await images_api.send(
            self._client, "POST", url, provider=self.name, headers=self._auth, **send
        )
        items = images_api.result_items(payload, provider=self.name)
        images = await images_api.to_images(
            self._client,
            items,
            provider=self.name,
            model=model,
            base=self.base_url,
            headers=self._auth,
            allow_private=self._allow_private,
        )
        await on_progress(1.0, None)
        return references.noted(images[: max(1, request.n)], notes)

    async def check(self) -> ProviderHealth:
        """GET ``/models`` with the key: ok when it answers."""
        try:
            await images_api.probe(self._client, self.base_url, provider=self.name, headers=self._auth)
        except ProviderError as exc:
            return ProviderHealth(ok=False, detail=exc.user_message)
        return ProviderHealth(ok=True, detail="ok")

    async def list_models(self) -> list[str]:
        """The image models (gpt-image*, chatgpt-image*, dall-e*) this key may use."""
        return await images_api.model_ids(
            self._client,
            self.base_url,
            provider=self.name,
            headers=self._auth,
            prefixes=gpt_image.IMAGE_MODEL_PREFIXES,
        )

    async def aclose(self) -> None:
        """Nothing of its own to close: the client belongs to the app."""

    # ------------------------------------------------------------------------------------- internals

    def _fields(
        self, request: ImageRequest, model: str, rules: gpt_image.ModelRules, *, edit: bool
    ) -> dict[str, Any]:
        """``settings.options`` first, then the request's own fields (which win)."""
        fields: dict[str, Any] = dict(self._options)
        fields.update(
            model=model,
            prompt=instruction_prompt(request),
            n=max(1, min(request.n, rules.max_n)),
            size=rules.size(request.aspect),
        )
        quality = rules.quality(request.quality)
        if quality is not None:
            fields["quality"] = quality
        if request.moderation is not None and not edit and not rules.response_format:
            fields["moderation"] = request.moderation  # GPT image generations only (the spec's enum)
        if rules.response_format:
            fields["response_format"] = "b64_json"
        else:
            fields.pop("response_format", None)  # GPT image models reject it
        return fields

    def _multipart(
        self, request: ImageRequest, fields: dict[str, Any], rules: gpt_image.ModelRules
    ) -> dict[str, Any]:
        field = "image[]" if rules.max_references > 1 else "image"
        references = request.reference_images[: rules.max_references]
        files = [
            images_api.file_part(field, data, provider=self.name, stem=f"image-{index}")
            for index, data in enumerate(references, start=1)
        ]
        if request.mask is not None:
            files.append(images_api.file_part("mask", request.mask, provider=self.name))
        return {"data": images_api.form_fields(fields), "files": files}


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> OpenAIProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return OpenAIProvider(settings, client=client)
