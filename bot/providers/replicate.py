"""``replicate``: Replicate predictions (``https://api.replicate.com/v1``), Bearer token.

``POST {base}/models/{owner}/{name}/predictions`` with ``{"input": {...}}`` (or ``POST /predictions``
with ``{"version", "input"}`` for ``owner/name:<version>``), sent with ``Prefer: wait=N`` so a fast model
answers at once; a prediction still ``starting``/``processing`` is polled at ``urls.get`` until
``succeeded``, ``failed`` or ``canceled``. Inputs depend on the model: :data:`MODELS` knows the catalogue's
(aspect ratios, ``num_outputs``, ``negative_prompt``, the image field for edits); other models get
``prompt``, ``aspect_ratio`` and ``seed``, and ``options`` pass through for everything else. Outputs
are a URL or a list of URLs, deleted after an hour: downloaded at once. Progress is read from ``logs``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.core.errors import (
    InvalidRequest,
    Misconfigured,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    Refused,
    Unavailable,
)
from bot.core.i18n import _
from bot.core.ports import ProgressCallback
from bot.core.types import Aspect, Capabilities, Image, ImageRequest, ProviderHealth
from bot.providers._http import media
from bot.providers._http.cloud import fetch_result
from bot.providers._http.common import (
    base_url,
    bearer,
    encode_reference,
    instruction_prompt,
    is_edit,
    merge_options,
    read_object,
    reduced,
)
from bot.providers._http.errors import (
    REFUSED_TEXT,
    UNAVAILABLE_TEXT,
    busy_text,
    could_not_text,
    error_info,
    raise_for_response,
    retry_after_seconds,
    scrub,
    transport_errors,
)
from bot.providers._http.polling import PollTiming, ProgressReporter, Sleep, poll, poll_timeout_s, trusted_url
from bot.providers.settings import ProviderSettings

__all__ = ["MODELS", "ReplicateProvider", "create"]

DEFAULT_BASE_URL = "https://api.replicate.com/v1"
DEFAULT_MODEL = "black-forest-labs/flux-schnell"
TRUSTED_HOSTS = ("api.replicate.com",)
CHECK_TIMEOUT_S = 10.0
MAX_WAIT_S = 60
_MODEL_REF = re.compile(
    r"(?P<name>[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*)(?::(?P<version>[0-9a-f]{64}))?|(?P<bare>[0-9a-f]{64})"
)
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")
_SEED = re.compile(r"\bseed\b\W{0,3}(\d{1,20})", re.IGNORECASE)
_THROTTLE = re.compile(r"~?\s*(\d+(?:\.\d+)?)\s*s\b")
_UNSAFE = re.compile(r"nsfw|sensitive|safety|unsafe|flagged|content policy|moderat", re.IGNORECASE)


def _aspects(*pairs: tuple[int, int]) -> tuple[Aspect, ...]:
    return tuple(Aspect(w, h) for w, h in pairs)


FLUX_ASPECTS = _aspects(
    (1, 1), (16, 9), (21, 9), (3, 2), (2, 3), (4, 5), (5, 4), (3, 4), (4, 3), (9, 16), (9, 21)
)
FLUX_PRO_ASPECTS = _aspects((1, 1), (16, 9), (3, 2), (2, 3), (4, 5), (5, 4), (3, 4), (4, 3), (9, 16))
"""flux-1.1-pro's published ``aspect_ratio`` enum (besides ``custom``): no 21:9 or 9:21, unlike the rest."""
SD35_ASPECTS = _aspects((1, 1), (16, 9), (21, 9), (3, 2), (2, 3), (4, 5), (5, 4), (9, 16), (9, 21))


@dataclass(frozen=True, slots=True)
class ReplicateModel:
    """The inputs one model takes (beyond ``prompt``)."""

    max_n: int = 1
    """> 1: the model takes ``num_outputs``."""
    aspects: tuple[Aspect, ...] | None = None
    """The ``aspect_ratio`` values it accepts; None: any ``W:H`` is sent as it is."""
    negative: bool = False
    image_field: str | None = None
    """The input that takes a reference image for edits; None: the model cannot edit."""
    edit_inputs: Mapping[str, Any] = field(default_factory=dict)
    """Extra inputs for edits (e.g. Kontext's ``aspect_ratio: match_input_image``)."""


MODELS: dict[str, ReplicateModel] = {
    "black-forest-labs/flux-schnell": ReplicateModel(max_n=4, aspects=FLUX_ASPECTS),
    "black-forest-labs/flux-dev": ReplicateModel(max_n=4, aspects=FLUX_ASPECTS, image_field="image"),
    "black-forest-labs/flux-1.1-pro": ReplicateModel(aspects=FLUX_PRO_ASPECTS),
    "black-forest-labs/flux-kontext-pro": ReplicateModel(
        aspects=FLUX_ASPECTS, image_field="input_image", edit_inputs={"aspect_ratio": "match_input_image"}
    ),
    "stability-ai/stable-diffusion-3.5-large": ReplicateModel(
        aspects=SD35_ASPECTS, negative=True, image_field="image"
    ),
}
UNKNOWN_MODEL = ReplicateModel()


class ReplicateProvider:
    """Replicate over httpx, implementing :class:`bot.core.ports.Provider`."""

    name = "replicate"
    catalog: tuple[str, ...] = tuple(MODELS)

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        client: httpx.AsyncClient,
        sleep: Sleep = asyncio.sleep,
        poll_interval_s: float = 1.0,
    ) -> None:
        self._auth = bearer(settings, provider=self.name)
        self.base_url = base_url(settings, provider=self.name, default=DEFAULT_BASE_URL)
        self.model = settings.model or DEFAULT_MODEL
        if not _MODEL_REF.fullmatch(self.model):
            raise Misconfigured(
                f"providers.replicate.model {self.model!r} is not owner/name or owner/name:version",
                provider=self.name,
            )
        self.options = dict(settings.options)
        self._client = client
        self._allow_private = media.base_is_local(self.base_url)
        self._slots = asyncio.Semaphore(settings.max_concurrency or 4)
        self.timing = PollTiming(
            interval_s=poll_interval_s, timeout_s=poll_timeout_s(settings.timeout_s, client), sleep=sleep
        )
        self._wait_s = max(1, min(MAX_WAIT_S, int(self.timing.timeout_s) - 5))
        spec = _spec(self.model)
        self.capabilities = Capabilities(
            edit=spec.image_field is not None,
            max_n=spec.max_n,
            aspects=spec.aspects,
            negative_prompt=spec.negative,
            seed=True,
            max_reference_images=1 if spec.image_field else 0,
        )

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """Run predictions until ``request.n`` images are in (one, unless the model caps outputs lower)."""
        model = request.model or self.model
        if not _MODEL_REF.fullmatch(model):
            raise InvalidRequest(
                f"{self.name}: {model!r} is not a Replicate model",
                provider=self.name,
                user_message=_("{model} is not a Replicate model (owner/name).").format(model=repr(model)),
            )
        spec = _spec(model)
        edit = is_edit(request, provider=self.name)
        if edit and spec.image_field is None:
            raise InvalidRequest(
                f"{self.name}: {model} cannot edit images",
                provider=self.name,
                user_message=_("The model {model} cannot edit images.").format(model=model),
            )
        progress = ProgressReporter(on_progress)
        images: list[Image] = []
        async with self._slots:
            while len(images) < request.n:
                wanted = min(request.n - len(images), spec.max_n)
                body = self._body(request, model, spec, n=wanted, edit=edit)
                images += await self._predict(model, body, request, progress)
        await progress.done()
        return images[: request.n]

    async def check(self) -> ProviderHealth:
        """The token works: ``GET /account`` answers."""
        try:
            with transport_errors(provider=self.name):
                response = await self._client.get(
                    f"{self.base_url}/account", headers=self._auth, timeout=CHECK_TIMEOUT_S
                )
            raise_for_response(response, provider=self.name)
            account = read_object(response, provider=self.name)
        except ProviderError as exc:
            return ProviderHealth(ok=False, detail=str(exc).removeprefix(f"{self.name}: "))
        username = account.get("username")
        return ProviderHealth(ok=True, detail=f"ok (account {username})" if username else "ok")

    async def aclose(self) -> None:
        """Nothing of its own to close: the client belongs to the app."""

    # ------------------------------------------------------------------------------------- internals

    def _body(
        self, request: ImageRequest, model: str, spec: ReplicateModel, *, n: int, edit: bool
    ) -> dict[str, Any]:
        inputs: dict[str, Any] = {"prompt": instruction_prompt(request)}
        inputs["aspect_ratio"] = _aspect_ratio(request.aspect, spec)
        if request.seed is not None:
            inputs["seed"] = request.seed
        if spec.max_n > 1:
            inputs["num_outputs"] = n
        if spec.negative and request.negative:
            inputs["negative_prompt"] = request.negative
        if edit and spec.image_field:
            inputs[spec.image_field] = encode_reference(
                request.reference_images[0], provider=self.name, data_url=True
            )
            inputs.update(spec.edit_inputs)
        inputs = merge_options(inputs, self.options)
        match = _MODEL_REF.fullmatch(model)
        assert match is not None
        version = match["version"] or match["bare"]
        return {"version": version, "input": inputs} if version else {"input": inputs}

    async def _predict(
        self, model: str, body: dict[str, Any], request: ImageRequest, progress: ProgressReporter
    ) -> list[Image]:
        if "version" in body:
            url = f"{self.base_url}/predictions"
        else:
            url = f"{self.base_url}/models/{model}/predictions"
        headers = {**self._auth, "Prefer": f"wait={self._wait_s}"}
        with transport_errors(provider=self.name):
            response = await self._client.post(url, json=body, headers=headers)
        _raise_for_status(response, provider=self.name)
        prediction = read_object(response, provider=self.name)
        if not self._finished(prediction):
            get_url = self._get_url(prediction)
            try:
                prediction = await poll(
                    lambda elapsed: self._look(get_url, progress), provider=self.name, timing=self.timing
                )
            except ProviderTimeout:
                await self._cancel(get_url)
                raise
        return await self._outputs(prediction, model, request)

    async def _cancel(self, get_url: str) -> None:
        """Best effort: stop paying for a prediction nobody waits for any more."""
        try:
            with transport_errors(provider=self.name):
                await self._client.post(f"{get_url}/cancel", headers=self._auth, timeout=CHECK_TIMEOUT_S)
        except ProviderError:
            pass

    def _finished(self, prediction: dict[str, Any]) -> bool:
        """True when succeeded; raises for failed/canceled; False while starting/processing."""
        status = prediction.get("status")
        if status == "succeeded":
            return True
        if status in ("failed", "canceled", "aborted"):
            _raise_for_failure(prediction, provider=self.name)
        return False

    def _get_url(self, prediction: dict[str, Any]) -> str:
        urls = prediction.get("urls")
        get = urls.get("get") if isinstance(urls, dict) else None
        if isinstance(get, str) and trusted_url(get, base=self.base_url, hosts=TRUSTED_HOSTS):
            return get
        prediction_id = prediction.get("id")
        if not isinstance(prediction_id, str) or not re.fullmatch(r"[\w\-]+", prediction_id):
            raise Unavailable(
                f"{self.name}: unfinished prediction without a usable id",
                provider=self.name,
                user_message=_(UNAVAILABLE_TEXT),
            )
        return f"{self.base_url}/predictions/{prediction_id}"

    async def _look(self, url: str, progress: ProgressReporter) -> dict[str, Any] | None:
        with transport_errors(provider=self.name):
            response = await self._client.get(url, headers=self._auth)
        _raise_for_status(response, provider=self.name)
        prediction = read_object(response, provider=self.name)
        if self._finished(prediction):
            return prediction
        await progress.report(_logged_progress(prediction.get("logs")))
        return None

    async def _outputs(self, prediction: dict[str, Any], model: str, request: ImageRequest) -> list[Image]:
        output = prediction.get("output")
        if isinstance(output, str):
            urls = [output]
        elif isinstance(output, list):
            urls = [item for item in output if isinstance(item, str) and item]
        elif isinstance(output, dict):
            urls = [item for item in output.values() if isinstance(item, str) and item]
        else:
            urls = []
        if not urls:
            raise Refused(
                f"{self.name}: prediction succeeded without any image (filtered?)",
                provider=self.name,
                user_message=_(REFUSED_TEXT),
            )
        seed = _logged_seed(prediction.get("logs"))
        return [
            await fetch_result(
                self._client,
                url,
                provider=self.name,
                model=model,
                allow_private=self._allow_private,
                seed=seed if seed is not None else request.seed,
            )
            for url in urls
        ]


def _spec(model: str) -> ReplicateModel:
    return MODELS.get(model.split(":", 1)[0], UNKNOWN_MODEL)


def _aspect_ratio(aspect: Aspect, spec: ReplicateModel) -> str:
    if spec.aspects is None:
        return str(reduced(aspect))
    return str(min(spec.aspects, key=lambda a: abs(a.ratio - aspect.ratio)))


def _logged_progress(logs: object) -> float | None:
    """The last percentage in the logs (tqdm's ``45%|####``), as a fraction; None when there is none."""
    if not isinstance(logs, str):
        return None
    found = _PERCENT.findall(logs)
    return min(1.0, float(found[-1]) / 100) if found else None


def _logged_seed(logs: object) -> int | None:
    """The seed many models print (``Using seed: 1234``)."""
    if not isinstance(logs, str):
        return None
    found = _SEED.findall(logs)
    return int(found[-1]) if found else None


def _raise_for_failure(prediction: dict[str, Any], *, provider: str) -> None:
    status = prediction.get("status")
    error = scrub(str(prediction.get("error") or ""), limit=200)
    said = f": {error}" if error else ""
    if _UNSAFE.search(error):
        raise Refused(
            f"{provider}: prediction {status}{said}", provider=provider, user_message=_(REFUSED_TEXT)
        )
    raise Unavailable(
        f"{provider}: prediction {status}{said}",
        provider=provider,
        user_message=_("The image service failed to make this image; please try again."),
    )


def _raise_for_status(response: httpx.Response, *, provider: str) -> None:
    """``raise_for_response``, plus Replicate's 429 wait in words and 422 ``invalid_fields``."""
    status = response.status_code
    if status == 429:
        info = error_info(response)
        retry_after = retry_after_seconds(response.headers)
        if retry_after is None and (match := _THROTTLE.search(info.message)):
            retry_after = float(match[1])
        raise RateLimited(
            f"{provider}: HTTP 429: rate limited: {info.message}",
            provider=provider,
            retry_after=retry_after,
            user_message=busy_text(retry_after),
        )
    if status == 422:
        try:
            body = response.json()
        except ValueError:
            body = None
        fields = body.get("invalid_fields") if isinstance(body, dict) else None
        if isinstance(fields, list) and fields:
            problems = scrub(
                "; ".join(
                    f"{item.get('field')}: {item.get('description')}"
                    for item in fields
                    if isinstance(item, dict)
                )
            )
            raise InvalidRequest(
                f"{provider}: HTTP 422: {problems}",
                provider=provider,
                user_message=could_not_text(problems),
            )
    raise_for_response(response, provider=provider)


def create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> ReplicateProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return ReplicateProvider(settings, client=client)
