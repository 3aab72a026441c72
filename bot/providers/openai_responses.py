"""``openai-responses``: images through OpenAI's Responses API and its ``image_generation`` tool.

``POST {base_url}/responses`` with one user message (the prompt as ``input_text``; for edits every
reference image as an ``input_image`` data URL) and ``tools: [{"type": "image_generation", "model",
"size", "quality", ...}]``, with ``tool_choice`` forcing the tool. The answer's ``output[]`` holds
``image_generation_call`` items whose ``result`` is the base64 image (one per call, so ``max_n`` is 1)
and, when the API gives it, ``revised_prompt``.

Models: ``providers.openai-responses.model`` (or ``--model``) may name either the mainline model that
runs the conversation (default ``gpt-4.1``) or the image model the tool uses (``gpt-image*``; default
``gpt-image-1.5``). ``options`` go into the tool when they are tool fields (``background``,
``output_format``, ``moderation``, ...) and into the request body otherwise.

An HTTP 200 without an image is not a success: a failed call item, ``incomplete`` with
``content_filter`` or a ``refusal`` part is :class:`Refused`; text instead of an image, or another
incomplete reason, is :class:`InvalidRequest`; a ``failed`` response carries its own error.
Chained edits with ``previous_response_id`` are not used: the request carries no response id, so an
edit always sends the reference image itself. References of other types, and animations, go as the
first frame in PNG (:mod:`bot.providers._http.references`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from bot.core.errors import InvalidRequest, ProviderError, RateLimited, Refused, Unavailable
from bot.core.i18n import N_, _
from bot.core.ports import ProgressCallback
from bot.core.types import Image, ImageRequest, ProviderHealth
from bot.providers._http import gpt_image, images_api, media, references
from bot.providers._http.common import base_url, bearer, instruction_prompt, is_edit
from bot.providers._http.errors import (
    REFUSED_TEXT,
    UNAVAILABLE_TEXT,
    ErrorInfo,
    busy_text,
    could_not_text,
    error_info_from,
    refused,
    scrub,
)
from bot.providers.settings import ProviderSettings

__all__ = ["OpenAIResponsesProvider", "create"]

DEFAULT_MAINLINE_MODEL = "gpt-4.1"
INPUT_IMAGE_TYPES = references.PNG_JPEG_WEBP | {"image/gif"}
"""``input_image`` types (OpenAI vision: PNG, JPEG, WebP and non-animated GIF; animations are converted)."""
TOOL_FIELDS = frozenset(
    {
        "action",
        "background",
        "input_fidelity",
        "input_image_mask",
        "moderation",
        "output_compression",
        "output_format",
        "partial_images",
    }
)
FAILED_CALL_TEXT = N_(
    "The image service declined to make this image (it gave no reason); try rewording the prompt."
)


class OpenAIResponsesProvider:
    """The Responses API ``image_generation`` tool over httpx, implementing the Provider protocol."""

    name = "openai-responses"
    catalog = gpt_image.CATALOG

    def __init__(self, settings: ProviderSettings, *, client: httpx.AsyncClient) -> None:
        self._auth = bearer(settings, provider=self.name)
        self.base_url = base_url(settings, provider=self.name, default=gpt_image.DEFAULT_BASE_URL)
        self.mainline_model, self.image_model = _split_models(
            settings.model, DEFAULT_MAINLINE_MODEL, gpt_image.DEFAULT_IMAGE_MODEL
        )
        self.model = self.image_model
        self.capabilities = gpt_image.rules_for(self.image_model).capabilities(max_n=1)
        self._tool_options = {k: v for k, v in settings.options.items() if k in TOOL_FIELDS}
        self._body_options = {k: v for k, v in settings.options.items() if k not in TOOL_FIELDS}
        self._client = client

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """One ``POST /responses``; the image_generation_call results become the images."""
        mainline, image_model = _split_models(request.model, self.mainline_model, self.image_model)
        edit = is_edit(request, provider=self.name)
        notes: tuple[str, ...] = ()
        if edit:
            request, notes = await references.prepare(request, INPUT_IMAGE_TYPES, provider=self.name)
        body = self._body(request, mainline, image_model, edit=edit)
        payload = await images_api.send(
            self._client,
            "POST",
            f"{self.base_url}/responses",
            provider=self.name,
            headers=self._auth,
            json=body,
        )
        images = self._images(payload, image_model)
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
        """The GPT image models this key may use in the tool."""
        return await images_api.model_ids(
            self._client,
            self.base_url,
            provider=self.name,
            headers=self._auth,
            prefixes=gpt_image.GPT_IMAGE_PREFIXES,
        )

    async def aclose(self) -> None:
        """Nothing of its own to close: the client belongs to the app."""

    # ------------------------------------------------------------------------------------- request

    def _body(self, request: ImageRequest, mainline: str, image_model: str, *, edit: bool) -> dict[str, Any]:
        rules = gpt_image.rules_for(image_model)
        tool: dict[str, Any] = {
            **self._tool_options,
            "type": "image_generation",
            "model": image_model,
            "size": rules.size(request.aspect),
        }
        quality = rules.quality(request.quality)
        if quality is not None:
            tool["quality"] = quality
        content: list[dict[str, Any]] = [{"type": "input_text", "text": instruction_prompt(request)}]
        if edit:
            for data in request.reference_images[: rules.max_references]:
                url = images_api.data_url(data, provider=self.name)
                content.append({"type": "input_image", "image_url": url, "detail": "auto"})  # required
            if request.mask is not None:
                mask = images_api.data_url(request.mask, provider=self.name, field="mask")
                tool["input_image_mask"] = {"image_url": mask}
        return {
            "tool_choice": {"type": "image_generation"},
            **self._body_options,
            "model": mainline,
            "input": [{"role": "user", "content": content}],
            "tools": [tool],
        }

    # ------------------------------------------------------------------------------------- answer

    def _images(self, payload: Any, image_model: str) -> list[Image]:
        if not isinstance(payload, dict):
            raise Unavailable(
                f"{self.name}: answer is not a JSON object",
                provider=self.name,
                user_message=_(UNAVAILABLE_TEXT),
            )
        output = payload.get("output")
        items = [item for item in output if isinstance(item, dict)] if isinstance(output, list) else []
        calls = [item for item in items if item.get("type") == "image_generation_call"]
        images = []
        for call in calls:
            result = call.get("result")
            if not isinstance(result, str) or not result:
                continue
            data, mime = media.decode_base64(result, provider=self.name)
            revised = call.get("revised_prompt")
            images.append(
                media.to_image(
                    data,
                    provider=self.name,
                    model=image_model,
                    mime=mime,
                    revised_prompt=revised if isinstance(revised, str) and revised else None,
                )
            )
        if not images:
            raise self._no_image(payload, items, calls)
        return images

    def _no_image(
        self, payload: Mapping[str, Any], items: list[dict[str, Any]], calls: list[dict[str, Any]]
    ) -> ProviderError:
        """Why an HTTP 200 holds no image, as the matching error."""
        status = payload.get("status")
        error = payload.get("error")
        if isinstance(error, dict) and error:
            return self._failed(error_info_from({"error": error}))
        if any(call.get("status") == "failed" for call in calls):
            return Refused(
                f"{self.name}: the image_generation_call failed",
                provider=self.name,
                user_message=_(FAILED_CALL_TEXT),
            )
        details = payload.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, dict) else None
        if status == "incomplete" and reason == "content_filter":
            return Refused(
                f"{self.name}: incomplete: content_filter", provider=self.name, user_message=_(REFUSED_TEXT)
            )
        parts = [
            part
            for item in items
            if item.get("type") == "message" and isinstance(item.get("content"), list)
            for part in item["content"]
            if isinstance(part, dict)
        ]
        refusal = next((p.get("refusal") for p in parts if p.get("type") == "refusal"), None)
        if refusal is not None:
            return Refused(
                f"{self.name}: refusal: {scrub(str(refusal))}",
                provider=self.name,
                user_message=_(REFUSED_TEXT),
            )
        if status == "incomplete":
            return InvalidRequest(
                f"{self.name}: incomplete: {reason}",
                provider=self.name,
                user_message=_("The image service stopped before making an image ({reason}).").format(
                    reason=reason
                ),
            )
        if status in ("queued", "in_progress"):
            return Unavailable(
                f"{self.name}: response still {status}", provider=self.name, user_message=_(UNAVAILABLE_TEXT)
            )
        text = " ".join(str(p.get("text")) for p in parts if p.get("type") == "output_text" and p.get("text"))
        if text:
            return InvalidRequest(
                f"{self.name}: answered with text instead of an image: {scrub(text)}",
                provider=self.name,
                user_message=_("The image service answered instead of drawing: {said}").format(
                    said=scrub(text, limit=200)
                ),
            )
        return Refused(
            f"{self.name}: HTTP 200 without an image ({len(items)} output item(s))",
            provider=self.name,
            user_message=_(REFUSED_TEXT),
        )

    def _failed(self, info: ErrorInfo) -> ProviderError:
        """A ``status: failed`` response's own ``error``."""
        said = f"{self.name}: response failed: {info.code}: {info.message}"
        if refused(info):
            return Refused(said, provider=self.name, user_message=_(REFUSED_TEXT))
        if info.code == "rate_limit_exceeded":
            return RateLimited(said, provider=self.name, user_message=busy_text(None))
        if info.code in ("server_error", "internal_error") or info.type == "server_error":
            return Unavailable(said, provider=self.name, user_message=_(UNAVAILABLE_TEXT))
        return InvalidRequest(
            said,
            provider=self.name,
            user_message=could_not_text(info.message),
        )


def _split_models(name: str | None, mainline: str, image_model: str) -> tuple[str, str]:
    """A model name replaces the image model (gpt-image*) or the mainline model (anything else)."""
    if not name:
        return mainline, image_model
    return (mainline, name) if gpt_image.is_image_model(name) else (name, image_model)


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> OpenAIResponsesProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return OpenAIResponsesProvider(settings, client=client)
