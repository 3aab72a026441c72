"""A loopback fake of Imagen on the Gemini API: ``POST /v1beta/models/{model}:predict``.

Built from ai.google.dev/gemini-api/docs/imagen (the REST example; ``numberOfImages``/``sampleCount``
1-4, default 4; ``aspectRatio`` 1:1, 3:4, 4:3, 9:16, 16:9; ``imageSize``/``sampleImageSize`` 1K or 2K
on the Standard and Ultra models only; ``personGeneration`` dont_allow, allow_adult, allow_all; model
codes imagen-4.0-generate-001, -ultra-, -fast-, imagen-3.0-generate-002; prompts up to 480 tokens) and
from google-genai's Gemini-API request mapping before commit 43ef621 (the parameter names; the
Vertex-only ``negativePrompt``, ``seed``, ``addWatermark``, ``enhancePrompt``, ``labels``,
``outputGcsUri``; ``ALLOW_ALL`` and ``BLOCK_NONE`` refused on the Gemini API; the answer
``predictions[].bytesBase64Encoded/mimeType/raiFilteredReason`` and a "Positive Prompt" safety entry).

It checks the key (``x-goog-api-key`` or ``?key=``: missing 403 PERMISSION_DENIED, wrong 400
API_KEY_INVALID, as the Gemini API fake), JSON, unknown fields (proto parsing), one instance with a
prompt, and every parameter's type and values. Answers and errors are Google's shapes::

    async with FakeImagen(api_key="AIza-test") as fake:
        fake.filter_next()          # HTTP 200: every image withheld, with raiFilteredReason
        fake.rate_limit_next(7)     # fail_next(503), malformed_next(), fake.delay_s, fake.requests

Unverified (no official statement found): the exact wording of Google's rejection messages, whether
``personGeneration`` values are matched case-insensitively by the server (the SDK sends the enum
name, the docs show lower case; both are accepted here), that more than one instance is refused, that
an all-filtered answer without ``includeRaiReason`` is ``{}``, and the per-aspect pixel sizes (scaled
down here).
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from tests.fakes.providers.gemini import error_body
from tests.fakes.providers.loopback import LoopbackFake, json_error, make_image

MODELS = (
    "imagen-4.0-generate-001",
    "imagen-4.0-ultra-generate-001",
    "imagen-4.0-fast-generate-001",
    "imagen-3.0-generate-002",
)
SIZED = ("imagen-4.0-generate-001", "imagen-4.0-ultra-generate-001")
ASPECT_SIZES = {"1:1": (64, 64), "3:4": (48, 64), "4:3": (64, 48), "9:16": (36, 64), "16:9": (64, 36)}
PERSON = ("DONT_ALLOW", "ALLOW_ADULT", "ALLOW_ALL")
SAFETY = ("BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE", "BLOCK_ONLY_HIGH", "BLOCK_NONE")
LANGUAGES = ("auto", "en", "ja", "ko", "hi", "zh", "pt", "es")
PARAMETERS = {
    "sampleCount", "aspectRatio", "guidanceScale", "safetySetting", "personGeneration",
    "includeSafetyAttributes", "includeRaiReason", "language", "outputOptions", "sampleImageSize",
}  # fmt: skip
VERTEX_ONLY = {
    "negativePrompt",
    "seed",
    "addWatermark",
    "enhancePrompt",
    "labels",
    "outputGcsUri",
    "storageUri",
}
FILTERED = (
    "Unable to show generated images. All images were filtered out because they violated Vertex AI's "
    "usage guidelines. You will not be charged for blocked images. Try rephrasing the prompt."
)


class _Reject(Exception):
    def __init__(self, message: str, code: int = 400, status: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.code, self.body = code, error_body(code, status, message)


class FakeImagen(LoopbackFake):
    """``base_url`` ends in ``/v1beta``; images are tiny real PNGs."""

    def __init__(self, *, api_key: str = "AIza-test-key-0123456789", delay_s: float = 0.0) -> None:
        super().__init__(delay_s=delay_s)
        self.api_key = api_key
        self.served: list[bytes] = []
        self._filter_next = False

    @property
    def base_url(self) -> str:
        return self.origin + "/v1beta"

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/v1beta/models/{target}", self._post)
        app.router.add_get("/v1beta/models", self._list)
        app.router.add_get("/v1beta/models/{target}", self._get)

    # -------------------------------------------------------------------------------------- scripting

    def filter_next(self) -> None:
        """The next prediction call answers HTTP 200 with every image withheld by the RAI filter."""
        self._filter_next = True

    def rate_limit_next(self, seconds: int = 37) -> None:
        details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{seconds}s"}]
        message = "You exceeded your current quota, please check your plan and billing details."
        self.fault(429, error_body(429, "RESOURCE_EXHAUSTED", message, details))

    def fail_next(self, status: int = 500) -> None:
        code, message = {
            500: ("INTERNAL", "An internal error has occurred."),
            503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
        }[status]
        self.fault(status, error_body(status, code, message))

    def malformed_next(self) -> None:
        self.fault(200, raw=b'{"predictions": [{"bytesBase64Encoded": "iVBO')

    # ----------------------------------------------------------------------------------------- routes

    def _denied(self, request: web.Request) -> web.Response | None:
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        if not key:
            message = "Method doesn't allow unregistered callers. Please use API Key."
            return json_error(403, error_body(403, "PERMISSION_DENIED", message))
        if key != self.api_key:
            details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]
            message = "API key not valid. Please pass a valid API key."
            return json_error(400, error_body(400, "INVALID_ARGUMENT", message, details))
        return None

    def _model(self, name: str) -> dict[str, Any]:
        return {"name": f"models/{name}", "displayName": name, "supportedGenerationMethods": ["predict"]}

    async def _list(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        return web.json_response({"models": [self._model(m) for m in MODELS]})

    async def _get(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        name = request.match_info["target"]
        if name not in MODELS:
            return json_error(404, error_body(404, "NOT_FOUND", f"models/{name} is not found."))
        return web.json_response(self._model(name))

    async def _post(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        model, _, method = request.match_info["target"].partition(":")
        if method != "predict":
            return json_error(404, error_body(404, "NOT_FOUND", f"Method not found: {method}"))
        if model not in MODELS:
            message = f"models/{model} is not found for API version v1beta, or is not supported for predict."
            return json_error(404, error_body(404, "NOT_FOUND", message))
        try:
            body = await request.json()
            parameters = _validate(body, model)
        except ValueError:
            return json_error(400, error_body(400, "INVALID_ARGUMENT", "Invalid JSON payload received."))
        except _Reject as rejected:
            return json_error(rejected.code, rejected.body)
        return web.json_response(self._answer(parameters))

    def _answer(self, parameters: dict[str, Any]) -> dict[str, Any]:
        count = parameters.get("sampleCount", 4)
        if self._filter_next:
            self._filter_next = False
            if not parameters.get("includeRaiReason"):
                return {}
            return {"predictions": [{"raiFilteredReason": FILTERED}]}
        width, height = ASPECT_SIZES[parameters.get("aspectRatio", "1:1")]
        scale = 2 if parameters.get("sampleImageSize") == "2K" else 1
        predictions: list[dict[str, Any]] = []
        for index in range(count):
            image = make_image(width * scale, height * scale, colour=(40 + 30 * index, 120, 90))
            self.served.append(image)
            predictions.append(
                {"bytesBase64Encoded": base64.b64encode(image).decode(), "mimeType": "image/png"}
            )
        if parameters.get("includeSafetyAttributes"):
            predictions.append(
                {"safetyAttributes": {"categories": [], "scores": []}, "contentType": "Positive Prompt"}
            )
        return {"predictions": predictions}


def _validate(body: Any, model: str) -> dict[str, Any]:
    """The parameters of a valid request; ``_Reject`` with Google's message for anything else."""
    if not isinstance(body, dict):
        raise _Reject("Invalid JSON payload received. Expected an object.")
    _known(body, {"instances", "parameters"}, "")
    instances = body.get("instances")
    if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
        raise _Reject("instances must hold exactly one instance.")
    _known(instances[0], {"prompt"}, "instances[0]")
    prompt = instances[0].get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise _Reject("The prompt is empty.")
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise _Reject("Invalid value at 'parameters'.")
    for name in VERTEX_ONLY & set(parameters):
        raise _Reject(f"{name} parameter is not supported in Gemini API.")
    _known(parameters, PARAMETERS, "parameters")
    count = parameters.get("sampleCount", 4)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 4:
        raise _Reject("Number of images (sampleCount) must be between 1 and 4.")
    if parameters.get("aspectRatio", "1:1") not in ASPECT_SIZES:
        raise _Reject(f"Unsupported aspect ratio: {parameters['aspectRatio']}.")
    if "sampleImageSize" in parameters:
        if model not in SIZED:
            raise _Reject(f"sampleImageSize is not supported for models/{model}.")
        if parameters["sampleImageSize"] not in ("1K", "2K"):
            raise _Reject(f"Invalid sampleImageSize: {parameters['sampleImageSize']}. Supported: 1K, 2K.")
    person = str(parameters.get("personGeneration", "ALLOW_ADULT")).upper()
    if person not in PERSON or person == "ALLOW_ALL":
        raise _Reject(f"personGeneration {parameters['personGeneration']} is not supported in Gemini API.")
    safety = str(parameters.get("safetySetting", "BLOCK_MEDIUM_AND_ABOVE")).upper()
    if safety not in SAFETY or safety == "BLOCK_NONE":
        raise _Reject(f"safetySetting {parameters['safetySetting']} is not supported in Gemini API.")
    for flag in ("includeSafetyAttributes", "includeRaiReason"):
        if flag in parameters and not isinstance(parameters[flag], bool):
            raise _Reject(f"Invalid value at 'parameters.{flag}' (TYPE_BOOL)")
    if parameters.get("language", "auto") not in LANGUAGES:
        raise _Reject(f"Unsupported language: {parameters['language']}.")
    options = parameters.get("outputOptions", {})
    _known(options, {"mimeType", "compressionQuality"}, "parameters.outputOptions")
    if options.get("mimeType", "image/png") not in ("image/png", "image/jpeg"):
        raise _Reject(f"Unsupported output mimeType: {options['mimeType']}.")
    return parameters


def _known(value: Any, known: set[str], where: str) -> None:
    if not isinstance(value, dict):
        raise _Reject(f"Invalid value at '{where}': expected an object")
    for key in value:
        if key not in known:
            at = f" at '{where}'" if where else ""
            raise _Reject(f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.')
