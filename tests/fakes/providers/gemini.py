"""A loopback fake of the Gemini API's image models (``generativelanguage.googleapis.com/v1beta``).

Routes: ``POST /v1beta/models/{model}:generateContent``, ``GET /v1beta/models`` (paged) and
``GET /v1beta/models/{model}``. It checks what the real API checks: the key (``x-goog-api-key`` or
``?key=``; missing → 403 PERMISSION_DENIED, wrong → 400 INVALID_ARGUMENT/API_KEY_INVALID), unknown JSON
fields anywhere (proto parsing: "Unknown name ... Cannot find field"), camelCase or snake_case names,
``contents``/``parts`` shape, ``inlineData`` base64 and image type, ``responseModalities`` values,
``imageConfig.aspectRatio`` values, ``imageSize`` only on Gemini 3 models, and the Vertex-only
``imageConfig`` fields. Answers are Google's shapes, errors the ``{"error": {code, message, status,
details}}`` envelope. Gemini 3 models also send a "thought" draft image before the final one::

    async with FakeGemini(api_key="AIza-test") as fake:
        fake.rate_limit_next(retry_delay="37s")   # block_next(), finish_next("IMAGE_SAFETY"),
        ...                                       # text_only_next(), fail_next(503), malformed_next(),
                                                  # empty_next(); fake.delay_s; fake.requests

Sources (per rule group; ``[unv]`` = not confirmed, ``[3p]`` = read only in a third-party copy):

- Field names at every level (request, ``generationConfig``, ``imageConfig``, ``contents``, parts,
  ``inlineData``) and which of them are Vertex-only: ``tests/fakes/specs/gemini/generate_content.json``,
  from google-genai 2.19.0's Gemini-API converters (``google/genai/models.py``; README there). The
  wording of the 400s ("Unknown name ... Cannot find field", "... is not supported in Gemini API") is
  Google's usual proto/ESF wording [unv]; the SDK itself refuses the Vertex-only fields client-side.
  snake_case names are accepted like camelCase (proto JSON mapping) [unv for this endpoint].
- Aspect ratios (10; 1:4, 4:1, 1:8, 8:1 on Gemini 3.1 Flash Image only) and ``imageSize`` 1K/2K/4K
  (``512`` on 3.1 Flash Image): the SDK's ``ImageConfig`` and Google's generated Interactions enums
  (same JSON); ai.google.dev/gemini-api/docs/image-generation for the size table (the fake's
  ``ASPECT_SIZES`` are 2.5 Flash Image's documented sizes divided by 16) [3p copies]. Which models take
  the extended values, and that ``imageSize`` on 2.5 Flash Image is a 400 rather than ignored: [unv].
- ``responseModalities`` values: ``types.Modality`` (the SDK treats them case-insensitively; the API
  doing so is [unv]). "Model does not support the requested response modalities" for IMAGE on a
  text-only model, and ``candidateCount`` > 1 refused for image models: [unv].
- Input image MIME types (png/jpeg/webp/heic/heif): ai.google.dev/gemini-api/docs/image-understanding
  [3p quote]. The "Unable to process input image" wording for an unreadable image: [unv].
- Auth: ``x-goog-api-key`` header or ``?key=`` (ai.google.dev/api, "API keys"; the SDK sends the
  header). 403 PERMISSION_DENIED without a key and 400 INVALID_ARGUMENT/API_KEY_INVALID with a wrong one,
  and their wording: [unv] (widely reported, not in the reference).
- Error envelope ``{"error": {code, message, status, details}}`` and the ``google.rpc`` detail types
  (``RetryInfo.retryDelay``, ``QuotaFailure``, ``ErrorInfo``): ai.google.dev/gemini-api/docs/
  troubleshooting and the SDK's ``errors.py`` (reads ``error.status``). The 429 message text: [3p].
- Answers (``candidates[].content.parts[].inlineData``, ``finishReason``, ``promptFeedback.blockReason``,
  ``usageMetadata``, ``modelVersion``, ``responseId``): ``GenerateContentResponse`` in the SDK's
  ``types.py``. The Gemini 3 "thought" draft image before the final one, and ``thoughtSignature`` on the
  final part: ai.google.dev/gemini-api/docs/image-generation ("thinking") [3p]. The declared
  ``mimeType`` always ``image/png``: [unv]. Model list paging (``pageSize``/``pageToken``/
  ``nextPageToken``): ai.google.dev/api/models.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.core.imaging import image_size, sniff
from tests.fakes.providers.chat_image_base import Fault, LoopbackFake, Recorded, json_response, make_image

MODELS = (
    "gemini-2.5-flash-image",
    "gemini-3-pro-image-preview",
    "gemini-3.1-flash-image-preview",
    "gemini-2.5-flash",
)
ASPECT_SIZES = {  # gemini-2.5-flash-image's real output sizes, divided by 16 to keep tests fast
    "1:1": (64, 64),
    "2:3": (52, 78),
    "3:2": (78, 52),
    "3:4": (54, 74),
    "4:3": (74, 54),
    "4:5": (56, 72),
    "5:4": (72, 56),
    "9:16": (48, 84),
    "16:9": (84, 48),
    "21:9": (96, 42),
}
SPEC: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "specs" / "gemini" / "generate_content.json").read_text()
)
"""The vendored field lists and enums (sources in the JSON and the module docstring)."""
IMAGE_SIZES = {"512": 0.5, "1K": 1, "2K": 2, "4K": 4}
assert set(ASPECT_SIZES) == set(SPEC["aspect_ratios"])
ASPECT_SIZES.update({"1:4": (32, 128), "4:1": (128, 32), "1:8": (24, 192), "8:1": (192, 24)})
EXTENDED_ASPECTS = frozenset(SPEC["extended_aspect_ratios"])
EXTENDED_SIZES = frozenset(SPEC["extended_image_sizes"])
EXTENDED_MODELS = SPEC["extended_models_prefix"]
INPUT_MIMES = tuple(SPEC["input_image_mime_types"])
TOP_FIELDS = set(SPEC["request_fields"])
GENERATION_FIELDS = set(SPEC["generation_config_fields"])
GENERATION_VERTEX_ONLY = set(SPEC["generation_config_vertex_only"])
IMAGE_CONFIG_FIELDS = set(SPEC["image_config_fields"])
VERTEX_ONLY = set(SPEC["image_config_vertex_only"])
PART_FIELDS = set(SPEC["part_fields"])
BLOB_FIELDS = set(SPEC["blob_fields"])
BLOB_VERTEX_ONLY = set(SPEC["blob_vertex_only"])
MODALITIES = tuple(SPEC["response_modalities"])
PART_DATA_FIELDS = (
    "text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
    "codeExecutionResult", "toolCall", "toolResponse",
)  # fmt: skip
"""The ``Part.data`` oneof [unv: its exact membership in the v1beta proto]."""
UNREADABLE_IMAGE = (
    "Unable to process input image. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting"
)
_SNAKE = re.compile(r"_([a-z])")


def error_body(code: int, status: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    """Google's error envelope."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = details
    return {"error": error}


class _Reject(Exception):
    def __init__(self, message: str, code: int = 400, status: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.body = error_body(code, status, message)
        self.code = code


class FakeGemini(LoopbackFake):
    """The fake Gemini API; ``base_url`` ends in ``/v1beta``."""

    api_prefix = "/v1beta/"

    def __init__(
        self,
        *,
        api_key: str | None = "AIza-test-key-0123456789",
        models: tuple[str, ...] = MODELS,
        output_format: str = "png",
        caption: str | None = "Here is the image you asked for.",
        delay_s: float = 0.0,
    ) -> None:
        super().__init__(delay_s=delay_s)
        self.api_key = api_key
        self.models = models
        self.output_format = output_format
        """png or jpeg; the part's declared mimeType always says image/png (sniff, don't trust)."""
        self.caption = caption
        self.page_size = 50
        self.served: list[bytes] = []
        """Every final image returned, in order (drafts are not included)."""

    @property
    def base_url(self) -> str:
        return self.origin + "/v1beta"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1beta/models/{target}", self._post_model)
        app.router.add_get("/v1beta/models", self._list)
        app.router.add_get("/v1beta/models/{target}", self._get_model)

    # -------------------------------------------------------------------------------------- scripting

    def rate_limit_next(
        self, *, retry_delay: str | None = "37s", retry_after: str | None = None, free_tier: bool = False
    ) -> None:
        limit = 0 if free_tier else 10
        message = (
            "You exceeded your current quota, please check your plan and billing details. For more "
            "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n"
            "* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_requests, "
            f"limit: {limit}, model: gemini-2.5-flash-image\nPlease retry in 37.2s."
        )
        details: list[Any] = [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
            {"@type": "type.googleapis.com/google.rpc.Help", "links": []},
        ]
        if retry_delay is not None:
            details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.script(Fault("status", 429, error_body(429, "RESOURCE_EXHAUSTED", message, details), headers))

    def fail_next(self, status: int = 500, *, times: int = 1) -> None:
        code, message = {
            500: ("INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"),
            503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
            504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
            400: ("FAILED_PRECONDITION", "User location is not supported for the API use."),
        }[status]  # fmt: skip
        self.script(Fault("status", status, error_body(status, code, message)), times)

    def block_next(self, reason: str = "PROHIBITED_CONTENT") -> None:
        """HTTP 200 with ``promptFeedback.blockReason`` and no candidates."""
        self.script(Fault("block", body=reason))

    def finish_next(self, reason: str = "IMAGE_SAFETY", text: str | None = None) -> None:
        """HTTP 200 with one candidate that stopped for ``reason`` and has no image part."""
        self.script(Fault("finish", body=(reason, text)))

    def text_only_next(self, text: str = "I can't make that image, but I can describe it.") -> None:
        self.script(Fault("finish", body=("STOP", text)))

    def malformed_next(self) -> None:
        self.script(Fault("malformed"))

    def empty_next(self) -> None:
        """HTTP 200 with neither candidates nor prompt feedback."""
        self.script(Fault("empty"))

    def fault_response(self, fault: Fault, request: Recorded) -> web.StreamResponse:
        usage = {"promptTokenCount": 12, "totalTokenCount": 12}
        if fault.kind == "block":
            feedback = {"blockReason": fault.body, "safetyRatings": []}
            return json_response(200, {"promptFeedback": feedback, "usageMetadata": usage})
        if fault.kind == "finish":
            reason, text = fault.body
            candidate: dict[str, Any] = {"finishReason": reason, "index": 0}
            if text is not None:
                candidate["content"] = {"role": "model", "parts": [{"text": text}]}
            return json_response(200, {"candidates": [candidate], "usageMetadata": usage})
        if fault.kind == "empty":
            return json_response(200, {"usageMetadata": usage, "modelVersion": "gemini-2.5-flash-image"})
        return super().fault_response(fault, request)

    # ------------------------------------------------------------------------------------------- auth

    def authorize(self, request: Recorded) -> web.StreamResponse | None:
        if self.api_key is None:
            return None
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        if not key:
            message = (
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API."
            )
            return json_response(403, error_body(403, "PERMISSION_DENIED", message))
        if key != self.api_key:
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ]
            body = error_body(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", details
            )
            return json_response(400, body)
        return None

    # ----------------------------------------------------------------------------------------- routes

    async def _list(self, request: web.Request) -> web.StreamResponse:
        start = int(request.query.get("pageToken") or 0)
        size = min(int(request.query.get("pageSize") or 50), self.page_size)
        page = [self._model(name) for name in self.models[start : start + size]]
        body: dict[str, Any] = {"models": page}
        if start + size < len(self.models):
            body["nextPageToken"] = str(start + size)
        return json_response(200, body)

    async def _get_model(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["target"]
        if name not in self.models:
            return json_response(404, error_body(404, "NOT_FOUND", f"models/{name} is not found."))
        return json_response(200, self._model(name))

    def _model(self, name: str) -> dict[str, Any]:
        return {
            "name": f"models/{name}",
            "version": "2.0",
            "displayName": name,
            "inputTokenLimit": 32768,
            "outputTokenLimit": 32768,
            "supportedGenerationMethods": ["generateContent", "countTokens"],
        }

    async def _post_model(self, request: web.Request) -> web.StreamResponse:
        model, _, method = request.match_info["target"].partition(":")
        if method != "generateContent":
            return json_response(404, error_body(404, "NOT_FOUND", f"Method not found: {method}"))
        if model not in self.models:
            message = (
                f"models/{model} is not found for API version v1beta, or is not supported for "
                "generateContent. Call ListModels to see the list of available models and their "
                "supported methods."
            )
            return json_response(404, error_body(404, "NOT_FOUND", message))
        try:
            return self._generate(model, self.recorded(request))
        except _Reject as rejected:
            return json_response(rejected.code, rejected.body)

    def _generate(self, model: str, request: Recorded) -> web.StreamResponse:
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise _Reject("Invalid JSON payload received. Expected a JSON object.")
        body = request.json
        if not isinstance(body, dict):
            raise _Reject("Invalid JSON payload received. Unexpected token.")
        body = _fields(body, TOP_FIELDS, "")
        self._check_contents(body.get("contents"))
        raw_config = body.get("generationConfig") or {}
        if isinstance(raw_config, dict):
            for name in GENERATION_VERTEX_ONLY & {_camel(k) for k in raw_config}:
                raise _Reject(f"{name} parameter is not supported in Gemini API.")
        config = _fields(raw_config, GENERATION_FIELDS, "generation_config")
        modalities = [str(m).upper() for m in config.get("responseModalities") or ["TEXT", "IMAGE"]]
        for value in modalities:
            if value not in MODALITIES[1:]:
                raise _Reject(f"Invalid value at 'generation_config.response_modalities[0]', \"{value}\"")
        if "IMAGE" in modalities and "image" not in model:
            raise _Reject("Model does not support the requested response modalities: image")
        if config.get("candidateCount", 1) != 1:
            raise _Reject(f"Multiple candidates is not enabled for models/{model}")
        image_config = config.get("imageConfig") or {}
        if not isinstance(image_config, dict):
            raise _Reject("Invalid value at 'generation_config.image_config'")
        for name in VERTEX_ONLY & {_camel(k) for k in image_config}:
            raise _Reject(f"{name} parameter is not supported in Gemini API.")
        image_config = _fields(image_config, IMAGE_CONFIG_FIELDS, "generation_config.image_config")
        aspect = image_config.get("aspectRatio", "1:1")
        extended = model.startswith(EXTENDED_MODELS)
        if aspect not in ASPECT_SIZES or (aspect in EXTENDED_ASPECTS and not extended):
            raise _Reject(f"Unsupported aspect ratio: {aspect}. Supported: {', '.join(ASPECT_SIZES)}.")
        size = image_config.get("imageSize", "1K")
        if "imageSize" in image_config and not model.startswith("gemini-3"):
            raise _Reject(f"imageSize is not supported for models/{model}.")
        if size not in IMAGE_SIZES or (size in EXTENDED_SIZES and not extended):
            raise _Reject(f"Invalid image size: {size}. Supported values: 1K, 2K, 4K.")
        parts: list[dict[str, Any]] = []
        if self.caption and "TEXT" in modalities:
            parts.append({"text": self.caption})
        if "IMAGE" in modalities:
            width, height = (max(1, round(side * IMAGE_SIZES[size])) for side in ASPECT_SIZES[aspect])
            if model.startswith("gemini-3"):
                draft = make_image(width, height, colour=(200, 200, 200))
                parts.insert(
                    0, {"inlineData": {"mimeType": "image/png", "data": _b64(draft)}, "thought": True}
                )
            final = make_image(
                width, height, self.output_format, colour=(40 + len(self.served) % 200, 90, 160)
            )
            self.served.append(final)
            parts.append(
                {"inlineData": {"mimeType": "image/png", "data": _b64(final)}, "thoughtSignature": "c2ln"}
            )
        answer = {
            "candidates": [
                {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 1290, "totalTokenCount": 1302},
            "modelVersion": model,
            "responseId": f"resp-{len(self.requests)}",
        }
        return json_response(200, answer)

    def _check_contents(self, contents: Any) -> None:
        if not isinstance(contents, list) or not contents:
            raise _Reject("* GenerateContentRequest.contents: contents is not specified")
        for i, content in enumerate(contents):
            if not isinstance(content, dict):
                raise _Reject(f"Invalid value at 'contents[{i}]'")
            content = _fields(content, {"role", "parts"}, f"contents[{i}]")
            if content.get("role", "user") not in ("user", "model"):
                raise _Reject(f"Please use a valid role: user, model. Got {content.get('role')!r}.")
            parts = content.get("parts")
            if not isinstance(parts, list) or not parts:
                raise _Reject(
                    f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."
                )
            for j, part in enumerate(parts):
                self._check_part(
                    _fields(part, PART_FIELDS, f"contents[{i}].parts[{j}]"), f"contents[{i}].parts[{j}]"
                )

    def _check_part(self, part: dict[str, Any], where: str) -> None:
        data_fields = [k for k in PART_DATA_FIELDS if k in part]
        if len(data_fields) != 1:
            raise _Reject(f"Invalid value at '{where}': exactly one of the part's data fields must be set")
        if "text" in part and not isinstance(part["text"], str):
            raise _Reject(f"Invalid value at '{where}.text' (TYPE_STRING)")
        if "inlineData" in part:
            if isinstance(part["inlineData"], dict):
                for name in BLOB_VERTEX_ONLY & {_camel(k) for k in part["inlineData"]}:
                    raise _Reject(f"{name} parameter is not supported in Gemini API.")
            inline = _fields(part["inlineData"], BLOB_FIELDS, f"{where}.inline_data")
            if inline.get("mimeType") not in INPUT_MIMES:
                raise _Reject(f"Unsupported MIME type: {inline.get('mimeType')}")
            try:
                raw = base64.b64decode(str(inline.get("data") or ""), validate=True)
                sniff(raw)
                image_size(raw)
            except Exception as exc:  # bad base64, unknown type, unreadable image
                raise _Reject(UNREADABLE_IMAGE) from exc


def _camel(name: str) -> str:
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)


def _fields(value: Any, known: set[str], where: str) -> dict[str, Any]:
    """``value`` with snake_case names made camelCase; 400 for a name the proto does not have."""
    if not isinstance(value, dict):
        raise _Reject(f"Invalid value at '{where}': expected an object")
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = _camel(key)
        if name not in known:
            at = f" at '{where}'" if where else ""
            raise _Reject(f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.')
        out[name] = item
    return out


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
