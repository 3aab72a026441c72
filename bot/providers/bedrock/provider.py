"""``bedrock``: image models on AWS Bedrock through ``InvokeModel``.

``POST https://bedrock-runtime.{region}.amazonaws.com/model/{modelId}/invoke`` with a JSON body whose
shape depends on the model family (see :mod:`bot.providers.bedrock.models`). Requests are signed with
SigV4 (service ``bedrock``) using the standard AWS credential chain, or carry a Bedrock API key as
``Authorization: Bearer`` when ``providers.bedrock.api_key`` is set. ``base_url`` replaces the endpoint
(a VPC endpoint, a proxy, or the test fake). Errors are ``{"message"}`` with an ``x-amzn-ErrorType``
header; content-filter refusals come as HTTP 400 ValidationException (Amazon models) or as an HTTP 200
with a non-null ``finish_reasons`` entry (Stability models).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

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
from bot.core.i18n import N_, _
from bot.core.ports import ProgressCallback
from bot.core.types import Image, ImageRequest, ProviderHealth
from bot.providers._http import media
from bot.providers._http.common import base_url, is_edit, read_json
from bot.providers._http.errors import (
    KEY_REJECTED_TEXT,
    NOT_FOUND_TEXT,
    REFUSED_TEXT,
    TIMEOUT_TEXT,
    UNAVAILABLE_TEXT,
    busy_text,
    raise_for_response,
    retry_after_seconds,
    scrub,
    transport_errors,
)
from bot.providers.bedrock.models import (
    CATALOG,
    ModelSpec,
    build_body,
    is_filter_message,
    read_images,
    spec_for,
)
from bot.providers.bedrock.settings import BedrockSettings
from bot.providers.bedrock.signing import AwsSigner, CredentialsUnavailable, default_region, find_credentials

__all__ = ["BedrockProvider", "create"]

DEFAULT_MODEL = "amazon.nova-canvas-v1:0"
BEARER_DEFAULT_REGION = "us-east-1"
CHECK_TIMEOUT_S = 10.0
NO_CREDENTIALS = (
    "providers.bedrock has no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
    "(or AWS_PROFILE), or a Bedrock API key in providers.bedrock.api_key"
)
ACCESS_DENIED_TEXT = N_(
    "AWS Bedrock denied access to this model; an admin needs to enable model access or fix IAM permissions."
)
_THROTTLED = {"ThrottlingException", "ServiceQuotaExceededException", "TooManyRequestsException"}
_UNAVAILABLE = {
    "ServiceUnavailableException",
    "ModelNotReadyException",
    "InternalServerException",
    "InternalFailure",
    "ModelErrorException",
}
_AUTH = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignatureException",
    "MissingAuthenticationTokenException",
    "ExpiredTokenException",
    "InvalidClientTokenId",
}


class BedrockProvider:
    """AWS Bedrock InvokeModel, implementing :class:`bot.core.ports.Provider`."""

    name = "bedrock"
    catalog: tuple[str, ...] = CATALOG

    def __init__(
        self, settings: BedrockSettings, *, client: httpx.AsyncClient, credentials: Any | None = None
    ) -> None:
        self.settings = settings
        self.model = settings.model or DEFAULT_MODEL
        try:
            self.spec: ModelSpec = spec_for(self.model)
        except ValueError:
            raise Misconfigured(
                f"providers.bedrock.model {self.model!r} is not an image model Easel knows "
                f"(known: {', '.join(CATALOG)})",
                provider=self.name,
            ) from None
        self.capabilities = self.spec.capabilities
        key = settings.api_key.get_secret_value().strip() if settings.api_key is not None else ""
        region = settings.region or default_region()
        self._signer: AwsSigner | None = None
        self._bearer: dict[str, str] = {}
        if key:
            self._bearer = {"Authorization": f"Bearer {key}"}
            region = region or BEARER_DEFAULT_REGION
        else:
            if not region:
                raise Misconfigured(
                    "providers.bedrock.region is not set (e.g. us-east-1)", provider=self.name
                )
            try:
                found = credentials if credentials is not None else find_credentials()
            except CredentialsUnavailable as exc:
                raise Misconfigured(f"{NO_CREDENTIALS} ({exc})", provider=self.name) from exc
            self._signer = AwsSigner(found, service="bedrock", region=region)
        self.region = region
        base = base_url(settings, provider=self.name, default=None)
        self.runtime_url = base or f"https://bedrock-runtime.{region}.amazonaws.com"
        self.control_url = base or f"https://bedrock.{region}.amazonaws.com"
        self._client = client

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """One InvokeModel call (the chain keeps ``n`` within ``capabilities.max_n``)."""
        model = request.model or self.model
        try:
            spec = spec_for(model)
        except ValueError:
            raise InvalidRequest(
                f"{self.name}: unknown model {model!r}",
                provider=self.name,
                user_message=_("Bedrock has no image model called {model} that I know.").format(
                    model=repr(model)
                ),
            ) from None
        if is_edit(request, provider=self.name) and not spec.capabilities.edit:
            raise InvalidRequest(
                f"{self.name}: {request.kind} needs a model that takes a reference image",
                provider=self.name,
                user_message=_("This Bedrock model cannot edit images (try Nova Canvas or SD3.5 Large)."),
            )
        body = json.dumps(build_body(spec, request, self.settings, provider=self.name)).encode()
        url = f"{self.runtime_url}/model/{quote(model, safe='')}/invoke"
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        response = await self._send("POST", url, body=body, headers=headers)
        results = read_images(spec, read_json(response, provider=self.name), provider=self.name)
        sent_seed = request.seed % (spec.max_seed + 1) if request.seed is not None else None
        images = []
        for b64, seed in results:
            data, mime = media.decode_base64(b64, provider=self.name)
            if seed is None and len(results) == 1:
                seed = sent_seed
            images.append(media.to_image(data, provider=self.name, model=model, seed=seed, mime=mime))
        await on_progress(1.0, None)
        return images

    async def list_models(self) -> list[str]:
        """Image-output model ids from ListFoundationModels (``GET /foundation-models``)."""
        url = f"{self.control_url}/foundation-models?byOutputModality=IMAGE"
        response = await self._send(
            "GET", url, headers={"Accept": "application/json"}, time_limit_s=CHECK_TIMEOUT_S
        )
        payload = read_json(response, provider=self.name)
        summaries = payload.get("modelSummaries") if isinstance(payload, dict) else None
        return sorted(
            str(item["modelId"]) for item in summaries or [] if isinstance(item, dict) and item.get("modelId")
        )

    async def check(self) -> ProviderHealth:
        """The credentials work (models can be listed) and the configured model is among them."""
        try:
            models = await self.list_models()
        except ProviderError as exc:
            return ProviderHealth(ok=False, detail=str(exc).removeprefix(f"{self.name}: "))
        listed = self.model in models or self.model.split(".")[0] not in ("amazon", "stability")
        note = "" if listed else f"; {self.model} is not listed in {self.region}"
        return ProviderHealth(ok=True, detail=f"ok, {len(models)} image models{note}")

    async def aclose(self) -> None:
        """Nothing of our own to close: the app owns the client."""

    # -------------------------------------------------------------------------------------- internals

    async def _send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        body: bytes = b"",
        time_limit_s: float | None = None,
    ) -> httpx.Response:
        if self._signer is not None:
            try:
                headers = await self._signer.headers(method, url, body=body, headers=headers)
            except CredentialsUnavailable as exc:
                raise Misconfigured(f"{NO_CREDENTIALS} ({exc})", provider=self.name) from exc
        else:
            headers = {**headers, **self._bearer}
        extra: dict[str, Any] = {} if time_limit_s is None else {"timeout": time_limit_s}
        with transport_errors(provider=self.name, url=url.split("?", 1)[0]):
            response = await self._client.request(method, url, content=body or None, headers=headers, **extra)
        raise_for_bedrock(response, provider=self.name)
        return response


def raise_for_bedrock(response: httpx.Response, *, provider: str) -> None:
    """Map an AWS JSON-protocol error (``x-amzn-ErrorType`` + ``{"message"}``) to a core error."""
    status = response.status_code
    if status < 400:
        return
    kind, message = _error_parts(response)
    where = f"{provider}: HTTP {status} {kind or 'error'}"
    said = f": {message}" if message else ""
    if status == 400 and message and is_filter_message(message):
        raise Refused(
            f"{where}: refused by content filters{said}", provider=provider, user_message=_(REFUSED_TEXT)
        )
    if kind == "ModelTimeoutException" or status == 408:
        raise ProviderTimeout(f"{where}{said}", provider=provider, user_message=_(TIMEOUT_TEXT))
    if kind in _UNAVAILABLE or status >= 500 or status == 424:
        raise Unavailable(f"{where}{said}", provider=provider, user_message=_(UNAVAILABLE_TEXT))
    if kind in _THROTTLED or status == 429:
        retry_after = retry_after_seconds(response.headers)
        raise RateLimited(
            f"{where}{said}", provider=provider, retry_after=retry_after, user_message=busy_text(retry_after)
        )
    if kind == "AccessDeniedException":
        raise Misconfigured(f"{where}{said}", provider=provider, user_message=_(ACCESS_DENIED_TEXT))
    if kind in _AUTH or status in (401, 403):
        raise Misconfigured(f"{where}{said}", provider=provider, user_message=_(KEY_REJECTED_TEXT))
    if kind == "ResourceNotFoundException" or status == 404:
        raise Misconfigured(f"{where}{said}", provider=provider, user_message=_(NOT_FOUND_TEXT))
    if kind == "ValidationException" or 400 <= status < 500:
        raise InvalidRequest(
            f"{where}{said}",
            provider=provider,
            user_message=(
                _("Bedrock could not do that: {reason}").format(reason=scrub(message, limit=160))
                if message
                else _("Bedrock could not do that.")
            ),
        )
    raise_for_response(response, provider=provider)  # pragma: no cover - every status is handled above


def _error_parts(response: httpx.Response) -> tuple[str, str]:
    """(error type such as ``ValidationException``, scrubbed message)."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    kind = response.headers.get("x-amzn-errortype", "") or str(body.get("__type") or "")
    kind = kind.split(":", 1)[0].rsplit("#", 1)[-1]
    message = str(body.get("message") or body.get("Message") or "")
    if not message and "html" not in response.headers.get("content-type", ""):
        message = response.text
    return kind, scrub(message)


def create(settings: BedrockSettings, *, client: httpx.AsyncClient) -> BedrockProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return BedrockProvider(settings, client=client)
