"""``flux``: Black Forest Labs' API (``https://api.bfl.ai``; regional ``api.eu.bfl.ai``/``api.us.bfl.ai``).

Asynchronous only: ``POST {base}/v1/<model>`` with header ``x-key`` answers ``{id, polling_url}``; the
returned (region-specific) ``polling_url`` is polled with the key until ``status`` is ``Ready``
(``result.sample`` is a signed URL valid for about ten minutes: downloaded at once), a moderation status
(``Refused``), ``Error``/``Failed`` or ``Task not found``. The key only ever goes to the configured base
or an https ``*.bfl.ai`` host (any host when the base is local, as in tests); a polling URL elsewhere is
ignored in favour of ``{base}/v1/get_result?id=``.

Sizing depends on the model: FLUX.2 takes ``width``/``height`` (multiples of 16), flux-pro-1.1
``width``/``height`` (256-1440, multiples of 32), Ultra and Kontext an ``aspect_ratio``. Edits send the
reference as bare base64 ``input_image`` (FLUX.2 also ``input_image_2`` ...), and the output follows it.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx

from bot.core.errors import InvalidRequest, Misconfigured, ProviderError, Refused, Unavailable
from bot.core.i18n import _
from bot.core.ports import ProgressCallback
from bot.core.types import Aspect, Capabilities, Image, ImageRequest, ProviderHealth
from bot.providers._http import media, references
from bot.providers._http.cloud import fetch_result
from bot.providers._http.common import (
    api_key,
    base_url,
    encode_reference,
    instruction_prompt,
    is_edit,
    merge_options,
    read_object,
    reduced,
)
from bot.providers._http.errors import (
    KEY_REJECTED_TEXT,
    REFUSED_TEXT,
    UNAVAILABLE_TEXT,
    could_not_text,
    raise_for_response,
    scrub,
    transport_errors,
)
from bot.providers._http.polling import (
    PollTiming,
    ProgressReporter,
    Sleep,
    as_fraction,
    estimate,
    poll,
    poll_timeout_s,
    trusted_url,
)
from bot.providers.settings import ProviderSettings

__all__ = ["FluxProvider", "create"]

DEFAULT_BASE_URL = "https://api.bfl.ai"
DEFAULT_MODEL = "flux-2-pro"
TRUSTED_HOSTS = (".bfl.ai",)
LONG_SIDE = 1024
TYPICAL_S = 12.0
CHECK_TIMEOUT_S = 10.0
MODERATED = frozenset({"Request Moderated", "Content Moderated"})
FAILED = frozenset({"Error", "Failed"})
_MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9.\-]{0,63}")
COMMON_ASPECTS = tuple(
    Aspect(w, h)
    for w, h in ((1, 1), (4, 3), (3, 4), (3, 2), (2, 3), (16, 9), (9, 16), (5, 4), (4, 5), (21, 9), (9, 21))
)


@dataclass(frozen=True, slots=True)
class FluxModel:
    """What one BFL endpoint takes."""

    sizing: Literal["flux2", "pro", "aspect"]
    """``flux2``: width/height in 16s; ``pro``: width/height 256-1440 in 32s; ``aspect``: aspect_ratio."""
    max_references: int = 0
    aspects: tuple[Aspect, ...] | None = COMMON_ASPECTS


MODELS: dict[str, FluxModel] = {
    "flux-2-pro": FluxModel("flux2", 8, None),
    "flux-2-max": FluxModel("flux2", 8, None),
    "flux-2-flex": FluxModel("flux2", 8, None),
    "flux-2-klein-4b": FluxModel("flux2", 4, None),
    "flux-2-klein-9b": FluxModel("flux2", 4, None),
    "flux-pro-1.1": FluxModel("pro"),
    "flux-pro-1.1-ultra": FluxModel("aspect"),
    "flux-kontext-pro": FluxModel("aspect", 1),
    "flux-kontext-max": FluxModel("aspect", 1),
}
UNKNOWN_MODEL = FluxModel("pro")
"""A model missing from the table (a new endpoint): width/height as most BFL endpoints take them."""


class FluxProvider:
    """Black Forest Labs over httpx, implementing :class:`bot.core.ports.Provider`."""

    name = "flux"
    catalog: tuple[str, ...] = tuple(MODELS)

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        client: httpx.AsyncClient,
        sleep: Sleep = asyncio.sleep,
        poll_interval_s: float = 1.0,
    ) -> None:
        self._key = api_key(settings, provider=self.name)
        self.base_url = base_url(settings, provider=self.name, default=DEFAULT_BASE_URL)
        self.model = settings.model or DEFAULT_MODEL
        if not _MODEL_NAME.fullmatch(self.model):
            raise Misconfigured(
                f"providers.flux.model {self.model!r} is not a BFL model name", provider=self.name
            )
        self.options = dict(settings.options)
        self._client = client
        self._allow_private = media.base_is_local(self.base_url)
        self._slots = asyncio.Semaphore(settings.max_concurrency or 4)
        self.timing = PollTiming(
            interval_s=poll_interval_s, timeout_s=poll_timeout_s(settings.timeout_s, client), sleep=sleep
        )
        spec = MODELS.get(self.model, UNKNOWN_MODEL)
        self.capabilities = Capabilities(
            edit=spec.max_references > 0,
            max_n=1,
            aspects=spec.aspects,
            negative_prompt=False,
            seed=True,
            max_reference_images=spec.max_references,
        )

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """One image per task: submit, poll until Ready, download the sample at once."""
        model = request.model or self.model
        self._check_model_name(model)
        spec = MODELS.get(model, UNKNOWN_MODEL)
        edit = is_edit(request, provider=self.name)
        notes: tuple[str, ...] = ()
        if edit:
            request, notes = await references.prepare(request, references.PNG_JPEG_WEBP, provider=self.name)
        if edit and spec.max_references == 0:
            raise InvalidRequest(
                f"{self.name}: {model} cannot edit images",
                provider=self.name,
                user_message=_(
                    "The model {model} cannot edit images; try flux-kontext-pro or flux-2-pro."
                ).format(model=model),
            )
        progress = ProgressReporter(on_progress)
        async with self._slots:
            polling_url = await self._submit(model, self._body(request, spec, edit=edit))
            result = await poll(
                lambda elapsed: self._look(polling_url, elapsed, progress),
                provider=self.name,
                timing=self.timing,
            )
            image = await self._download(result, request, model)
        await progress.done()
        return references.noted([image], notes)

    async def check(self) -> ProviderHealth:
        """The key works: ``GET /v1/credits`` answers (any non-auth 4xx still proves the host is BFL)."""
        try:
            with transport_errors(provider=self.name):
                response = await self._client.get(
                    f"{self.base_url}/v1/credits", headers=self._headers(), timeout=CHECK_TIMEOUT_S
                )
        except ProviderError as exc:
            return ProviderHealth(ok=False, detail=str(exc).removeprefix(f"{self.name}: "))
        status = response.status_code
        if status in (401, 403):
            return ProviderHealth(ok=False, detail=KEY_REJECTED_TEXT)
        if status >= 500:
            return ProviderHealth(ok=False, detail=f"HTTP {status}")
        if status >= 400:
            return ProviderHealth(ok=True, detail=f"reachable (HTTP {status} on /v1/credits)")
        try:
            credits = read_object(response, provider=self.name).get("credits")
        except ProviderError:
            credits = None
        return ProviderHealth(ok=True, detail="ok" if credits is None else f"ok ({credits} credits)")

    async def aclose(self) -> None:
        """Nothing of its own to close: the client belongs to the app."""

    # ------------------------------------------------------------------------------------- internals

    def _headers(self) -> dict[str, str]:
        return {"x-key": self._key, "accept": "application/json"}

    def _check_model_name(self, model: str) -> None:
        if not _MODEL_NAME.fullmatch(model):
            raise InvalidRequest(
                f"{self.name}: {model!r} is not a BFL model name",
                provider=self.name,
                user_message=_("{model} is not a FLUX model; known: {known}.").format(
                    model=repr(model), known=", ".join(self.catalog)
                ),
            )

    def _body(self, request: ImageRequest, spec: FluxModel, *, edit: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"prompt": instruction_prompt(request)}
        if request.seed is not None:
            body["seed"] = request.seed
        if edit:  # the output follows the input image's size
            for index, data in enumerate(request.reference_images[: spec.max_references]):
                field = "input_image" if index == 0 else f"input_image_{index + 1}"
                body[field] = encode_reference(data, provider=self.name, data_url=False)
        elif spec.sizing == "aspect":
            body["aspect_ratio"] = str(reduced(request.aspect))
        else:
            body["width"], body["height"] = _size(request.aspect, spec)
        return merge_options(body, self.options)

    async def _submit(self, model: str, body: dict[str, Any]) -> str:
        """Start the task; the URL to poll."""
        url = f"{self.base_url}/v1/{model}"
        with transport_errors(provider=self.name):
            response = await self._client.post(url, json=body, headers=self._headers())
        _raise_for_status(response, provider=self.name)
        answer = read_object(response, provider=self.name)
        task_id = answer.get("id")
        if not isinstance(task_id, str) or not task_id:
            _raise_for_poll_status(answer, provider=self.name)
            raise Unavailable(
                f"{self.name}: submit answer has no task id",
                provider=self.name,
                user_message=_(UNAVAILABLE_TEXT),
            )
        polling_url = answer.get("polling_url")
        if isinstance(polling_url, str) and trusted_url(polling_url, base=self.base_url, hosts=TRUSTED_HOSTS):
            return polling_url
        return f"{self.base_url}/v1/get_result?id={quote(task_id, safe='')}"

    async def _look(
        self, polling_url: str, elapsed: float, progress: ProgressReporter
    ) -> dict[str, Any] | None:
        """One poll: the result when Ready, None while pending; raises for the end states."""
        with transport_errors(provider=self.name):
            response = await self._client.get(polling_url, headers=self._headers())
        _raise_for_status(response, provider=self.name)
        answer = read_object(response, provider=self.name)
        if answer.get("status") == "Ready":
            result = answer.get("result")
            if not isinstance(result, dict) or not isinstance(result.get("sample"), str):
                raise Unavailable(
                    f"{self.name}: Ready without a result sample",
                    provider=self.name,
                    user_message=_(UNAVAILABLE_TEXT),
                )
            return result
        _raise_for_poll_status(answer, provider=self.name)
        reported = as_fraction(answer.get("progress"))
        await progress.report(reported if reported is not None else estimate(elapsed, TYPICAL_S))
        return None

    async def _download(self, result: dict[str, Any], request: ImageRequest, model: str) -> Image:
        seed = result.get("seed")
        prompt = result.get("prompt")
        return await fetch_result(
            self._client,
            str(result["sample"]),
            provider=self.name,
            model=model,
            allow_private=self._allow_private,
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else request.seed,
            revised_prompt=prompt
            if isinstance(prompt, str) and prompt and prompt != request.prompt
            else None,
        )


def _size(aspect: Aspect, spec: FluxModel) -> tuple[int, int]:
    if spec.sizing == "flux2":
        width, height = aspect.size_for(LONG_SIDE, multiple=16)
        return max(64, width), max(64, height)
    width, height = aspect.size_for(LONG_SIDE, multiple=32)
    return min(1440, max(256, width)), min(1440, max(256, height))


def _raise_for_poll_status(answer: dict[str, Any], *, provider: str) -> None:
    """Raise for a poll answer that ended the task (moderated, failed, unknown); return if pending."""
    status = str(answer.get("status") or "")
    details = scrub(str(answer.get("details") or answer.get("error") or ""), limit=200)
    said = f": {details}" if details else ""
    if status in MODERATED:
        raise Refused(f"{provider}: {status}{said}", provider=provider, user_message=_(REFUSED_TEXT))
    if status in FAILED:
        raise Unavailable(
            f"{provider}: the task ended with {status}{said}",
            provider=provider,
            user_message=_("The image service failed to make this image; please try again."),
        )
    if status == "Task not found":
        raise Unavailable(
            f"{provider}: task not found (expired, or polled in the wrong region)",
            provider=provider,
            user_message=_(UNAVAILABLE_TEXT),
        )


def _raise_for_status(response: httpx.Response, *, provider: str) -> None:
    """``raise_for_response``, with BFL's 422 ``{"detail": [{"loc", "msg"}]}`` read into words."""
    if response.status_code == 422:
        try:
            body = response.json()
        except ValueError:
            body = None
        detail = body.get("detail") if isinstance(body, dict) else None
        if isinstance(detail, list):
            problems = "; ".join(
                f"{'.'.join(str(p) for p in item.get('loc', [])[1:])}: {item.get('msg')}"
                for item in detail
                if isinstance(item, dict)
            )
            raise InvalidRequest(
                f"{provider}: HTTP 422: {scrub(problems)}",
                provider=provider,
                user_message=could_not_text(problems),
            )
    if response.status_code == 402:
        raise Misconfigured(
            f"{provider}: HTTP 402: out of credits",
            provider=provider,
            user_message=_("The FLUX account is out of credits; an admin needs to top it up."),
        )
    raise_for_response(response, provider=provider)


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> FluxProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return FluxProvider(settings, client=client)
