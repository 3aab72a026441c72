"""A loopback fake of OpenRouter's image generation (``https://openrouter.ai/api/v1``).

Routes: ``POST /api/v1/chat/completions``, ``GET /api/v1/models`` (honours ``output_modalities``),
``GET /api/v1/key``; with ``image_urls=True`` results are served from ``/files/<name>`` instead of data
URLs. It checks the Bearer key (401 ``{"error": {"code", "message"}}``), the model id, ``messages`` and
their content parts (``text`` / ``image_url`` with a data or http URL that really is an image),
``modalities`` against the model's outputs (an image-only model asked for text → 404 "No endpoints
found"), and ``image_config.aspect_ratio`` / ``image_size`` values. Answers have the real shape:
``choices[0].message.images[].image_url.url`` as ``data:image/png;base64,...``::

    async with FakeOpenRouter(api_key="sk-or-v1-test") as fake:
        fake.rate_limit_next()        # no_credit_next(), moderate_next(), fail_next(502), text_only_next(),
        ...                           # content_filter_next(), choice_error_next(), malformed_next(),
                                      # empty_next(), expire_next(); fake.delay_s; fake.requests

Sources (per rule group; ``[unv]`` = not confirmed, ``[3p]`` = read only in a third-party copy). No
machine-readable spec is vendored: OpenRouter's SDK types ``image_config`` as a free-form
``Dict[str, str | number | list]`` ("Keys and values vary by model/provider"), so there is no enum to
read from it.

- ``POST /api/v1/chat/completions`` with ``modalities`` ``["image", "text"]`` (``["image"]`` for
  image-only models), ``image_config.aspect_ratio``/``image_size``, answers in
  ``choices[0].message.images[].image_url.url`` as base64 data URLs, reference images as ``image_url``
  content parts, ``GET /api/v1/models?output_modalities=image``: openrouter.ai/docs/guides/overview/
  multimodal/image-generation. The ``modalities`` values text/image/audio: the SDK's
  ``ChatRequestModalitiesItems`` (OpenRouter's Python/TypeScript SDK docs, ``ChatRequest``).
- The aspect-ratio list and sizes (``ASPECT_SIZES``, Gemini's 1K table divided by 16) and 1K/2K/4K: the
  same guide [sizes 3p]; that OpenRouter itself refuses other values with this zod-style 400 (rather
  than passing them to the upstream) is [unv], as is refusing image-only models asked for text with 404
  "No endpoints found that support the requested output modalities" (the wording is OpenRouter's usual
  routing error [3p]).
- The upstream's image types (png/jpeg/webp) and the relayed 400 "Provider returned error" with
  ``metadata.raw``/``provider_name``: openrouter.ai/docs/api-reference/errors (the envelope and
  ``metadata``); the raw text is Gemini's wording [unv]. OpenRouter's docs list image/gif as accepted.
- Auth: Bearer key, 401 ``{"error": {"code", "message"}}``; the model list is public: openrouter.ai/docs/
  api-reference/authentication. The 401 wordings ("No auth credentials found", "User not found."): [3p].
- Errors 402 (credits), 403 (moderation, ``metadata.reasons``/``flagged_input``/``provider_name``), 429,
  502, 503, and a 200 whose choice carries ``error`` with ``finish_reason`` "error":
  openrouter.ai/docs/api-reference/errors; the exact messages: [3p]. ``native_finish_reason``,
  ``GET /api/v1/key`` (``limit_remaining``, ``is_free_tier``): openrouter.ai/docs/api-reference.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from aiohttp import web

from bot.core.imaging import image_size, sniff
from tests.fakes.providers.chat_image_base import Fault, LoopbackFake, Recorded, json_response, make_image

MODELS: dict[str, tuple[str, ...]] = {
    "google/gemini-2.5-flash-image": ("image", "text"),
    "google/gemini-3-pro-image-preview": ("image", "text"),
    "black-forest-labs/flux.2-pro": ("image",),
    "openai/gpt-4o-mini": ("text",),
}
"""Model id → output modalities."""
ASPECT_SIZES = {  # OpenRouter's documented sizes, divided by 16
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
IMAGE_SIZES = {"1K": 1, "2K": 2, "4K": 4}
MODALITIES = ("text", "image", "audio")
"""OpenRouter's SDK ``ChatRequestModalitiesItems``; a model without the output answers 404."""


def error_body(code: int, message: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """OpenRouter's error envelope."""
    error: dict[str, Any] = {"code": code, "message": message}
    if metadata is not None:
        error["metadata"] = metadata
    return {"error": error}


UPSTREAM_INPUT_TYPES = ("image/png", "image/jpeg", "image/webp")
"""What the image models' own APIs take (Gemini: png/jpeg/webp/heic/heif; BFL). OpenRouter's docs list
image/gif as well, but it passes the image on, and the upstream answers 400, relayed as "Provider
returned error" with the upstream's words in ``metadata.raw`` (the envelope is OpenRouter's documented
error shape; the raw text is Gemini's wording)."""
_UPSTREAM = {"google/": "Google", "black-forest-labs/": "Black Forest Labs"}


class _Reject(Exception):
    def __init__(self, message: str, code: int = 400, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.metadata = metadata


class FakeOpenRouter(LoopbackFake):
    """The fake OpenRouter API; ``base_url`` ends in ``/api/v1``."""

    api_prefix = "/api/v1/"

    def __init__(
        self,
        *,
        api_key: str | None = "sk-or-v1-test-0123456789",
        image_urls: bool = False,
        caption: str | None = "Here is your image.",
        limit_remaining: float | None = 4.9,
        delay_s: float = 0.0,
    ) -> None:
        super().__init__(delay_s=delay_s)
        self.api_key = api_key
        self.image_urls = image_urls
        self.caption = caption
        self.limit_remaining = limit_remaining
        self.served: list[bytes] = []
        self._files: dict[str, bytes] = {}
        self._expire = 0

    @property
    def base_url(self) -> str:
        return self.origin + "/api/v1"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v1/chat/completions", self._completions)
        app.router.add_get("/api/v1/models", self._models)
        app.router.add_get("/api/v1/key", self._key)
        app.router.add_get("/files/{name}", self._file)

    # -------------------------------------------------------------------------------------- scripting

    def rate_limit_next(self, *, retry_after: str | None = "5", reset_in_s: float | None = None) -> None:
        """429; the wait as a Retry-After header, or only as metadata.headers X-RateLimit-Reset."""
        metadata: dict[str, Any] = {}
        if reset_in_s is not None:
            reset = str(int((time.time() + reset_in_s) * 1000))
            metadata["headers"] = {
                "X-RateLimit-Limit": "20",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset,
            }
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = error_body(429, "Rate limit exceeded: free-models-per-min.", metadata or None)
        self.script(Fault("status", 429, body, headers))

    def no_credit_next(self) -> None:
        message = "Insufficient credits. Add more using https://openrouter.ai/settings/credits"
        self.script(Fault("status", 402, error_body(402, message)))

    def moderate_next(self, reasons: tuple[str, ...] = ("violence",)) -> None:
        """403 from OpenRouter's moderation, with the flagged reasons in metadata."""
        message = (
            f"google/gemini-2.5-flash-image requires moderation on Google. Your input was flagged for "
            f'"{", ".join(reasons)}". No credits were charged.'
        )
        metadata = {"reasons": list(reasons), "flagged_input": "a ...", "provider_name": "Google"}
        self.script(Fault("status", 403, error_body(403, message, metadata)))

    def fail_next(self, status: int = 502, *, times: int = 1) -> None:
        message = {502: "Provider returned error", 503: "Service Unavailable", 500: "Internal Server Error"}
        metadata = {"provider_name": "Google", "raw": "upstream failed"} if status == 502 else None
        self.script(Fault("status", status, error_body(status, message[status], metadata)), times)

    def text_only_next(self, text: str = "I'm sorry, I can't create that image.") -> None:
        self.script(Fault("no_image", body=(text, "stop", "STOP")))

    def content_filter_next(self, native: str = "IMAGE_SAFETY") -> None:
        self.script(Fault("no_image", body=("", "content_filter", native)))

    def choice_error_next(self, code: int = 502) -> None:
        """HTTP 200 whose only choice carries an upstream error (finish_reason "error")."""
        self.script(Fault("choice_error", body=code))

    def malformed_next(self) -> None:
        self.script(Fault("malformed"))

    def empty_next(self) -> None:
        """HTTP 200 with an empty choices list."""
        self.script(Fault("empty"))

    def expire_next(self) -> None:
        """The next result URL is gone (404) by the time it is fetched (``image_urls=True`` only)."""
        self._expire += 1

    def fault_response(self, fault: Fault, request: Recorded) -> web.StreamResponse:
        model = str((request.json or {}).get("model") or "")
        if fault.kind == "no_image":
            text, finish, native = fault.body
            message = {"role": "assistant", "content": text, "refusal": None}
            return json_response(200, self._completion(model, message, finish, native))
        if fault.kind == "choice_error":
            message = {"role": "assistant", "content": ""}
            answer = self._completion(model, message, "error", None)
            answer["choices"][0]["error"] = {"code": fault.body, "message": "Upstream error from Google"}
            return json_response(200, answer)
        if fault.kind == "empty":
            return json_response(200, {**self._completion(model, {}, "stop", "STOP"), "choices": []})
        return super().fault_response(fault, request)

    # ------------------------------------------------------------------------------------------- auth

    def authorize(self, request: Recorded) -> web.StreamResponse | None:
        if self.api_key is None or request.path == "/api/v1/models":  # the model list is public
            return None
        header = request.headers.get("authorization", "")
        if not header:
            return json_response(401, error_body(401, "No auth credentials found"))
        if header != f"Bearer {self.api_key}":
            return json_response(401, error_body(401, "User not found."))
        return None

    # ----------------------------------------------------------------------------------------- routes

    async def _models(self, request: web.Request) -> web.StreamResponse:
        wanted = [m for m in request.query.get("output_modalities", "text").split(",") if m]
        data = [
            {
                "id": model,
                "name": model,
                "architecture": {"input_modalities": ["text", "image"], "output_modalities": list(outputs)},
            }
            for model, outputs in MODELS.items()
            if "all" in wanted or all(m in outputs for m in wanted)
        ]
        return json_response(200, {"data": data})

    async def _key(self, request: web.Request) -> web.StreamResponse:
        data = {
            "label": "sk-or-v1-012...789",
            "limit": None if self.limit_remaining is None else 5,
            "usage": 0.1,
            "limit_remaining": self.limit_remaining,
            "is_free_tier": False,
        }
        return json_response(200, {"data": data})

    async def _file(self, request: web.Request) -> web.StreamResponse:
        data = self._files.get(request.match_info["name"])
        if data is None:
            return json_response(404, error_body(404, "Not found"))
        return web.Response(body=data, content_type="image/png")

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        try:
            return self._answer(self.recorded(request))
        except _Reject as rejected:
            body = error_body(rejected.code, str(rejected), rejected.metadata)
            return json_response(rejected.code, body)

    def _answer(self, request: Recorded) -> web.StreamResponse:
        body = request.json
        if not request.headers.get("content-type", "").startswith("application/json") or not isinstance(
            body, dict
        ):
            raise _Reject("Invalid JSON body")
        model = body.get("model")
        if not isinstance(model, str) or model not in MODELS:
            raise _Reject(f"{model} is not a valid model ID")
        self._check_messages(body.get("messages"), model)
        modalities = body.get("modalities") or ["text"]
        if not isinstance(modalities, list) or any(m not in MODALITIES for m in modalities):
            raise _Reject(f"Invalid modalities: expected a list of {', '.join(map(repr, MODALITIES))}")
        if any(m not in MODELS[model] for m in modalities):
            raise _Reject(
                f"No endpoints found that support the requested output modalities: {', '.join(modalities)}",
                404,
            )
        config = body.get("image_config") or {}
        aspect = config.get("aspect_ratio", "1:1")
        if aspect not in ASPECT_SIZES:
            raise _Reject(
                f"image_config.aspect_ratio: Invalid option: expected one of {'|'.join(ASPECT_SIZES)}"
            )
        size = config.get("image_size", "1K")
        if size not in IMAGE_SIZES:
            raise _Reject("image_config.image_size: Invalid option: expected one of 1K|2K|4K")
        message: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None, "reasoning": None}
        if "text" in modalities and self.caption:
            message["content"] = self.caption
        if "image" in modalities:
            width, height = (side * IMAGE_SIZES[size] for side in ASPECT_SIZES[aspect])
            data = make_image(width, height, colour=(120, 60 + len(self.served) % 150, 90))
            self.served.append(data)
            message["images"] = [{"type": "image_url", "image_url": {"url": self._url_for(data)}, "index": 0}]
        native = "STOP" if model.startswith("google/") else None
        return json_response(200, self._completion(model, message, "stop", native))

    def _url_for(self, data: bytes) -> str:
        if not self.image_urls:
            return "data:image/png;base64," + base64.b64encode(data).decode()
        name = f"img-{len(self._files) + 1}.png"
        if self._expire:
            self._expire -= 1
        else:
            self._files[name] = data
        return f"{self.origin}/files/{name}"

    def _completion(
        self, model: str, message: dict[str, Any], finish: str, native: str | None
    ) -> dict[str, Any]:
        return {
            "id": f"gen-{len(self.requests)}",
            "provider": "Google",
            "model": model,
            "object": "chat.completion",
            "created": 1_760_000_000,
            "choices": [
                {
                    "logprobs": None,
                    "finish_reason": finish,
                    "native_finish_reason": native,
                    "index": 0,
                    "message": message,
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 1290, "total_tokens": 1300},
        }

    def _check_messages(self, messages: Any, model: str) -> None:
        if not isinstance(messages, list) or not messages:
            raise _Reject('Input required: specify "prompt" or "messages"')
        for message in messages:
            if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant"):
                raise _Reject("Invalid message: role must be system, user or assistant")
            content = message.get("content")
            if isinstance(content, str):
                continue
            if not isinstance(content, list) or not content:
                raise _Reject("Invalid message content: expected a string or a list of parts")
            for part in content:
                self._check_part(part, model)

    def _check_part(self, part: Any, model: str) -> None:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            return
        if kind != "image_url":
            raise _Reject(f"Invalid content part type: {kind!r}")
        holder = part.get("image_url")
        url = holder.get("url") if isinstance(holder, dict) else None
        if not isinstance(url, str) or not url.startswith(("data:image/", "http://", "https://")):
            raise _Reject("image_url.url must be an http(s) URL or a data:image/... base64 URL")
        if url.startswith("data:"):
            header, _, payload = url.partition(",")
            if not header.endswith(";base64"):
                raise _Reject("image_url data URLs must be base64")
            try:
                raw = base64.b64decode(payload, validate=True)
                declared = header.removeprefix("data:").removesuffix(";base64")
                if sniff(raw) != declared:
                    raise ValueError("mime mismatch")
                image_size(raw)
            except Exception as exc:  # bad base64, wrong type, unreadable image
                raise _Reject("Invalid image in image_url: could not decode the data URL") from exc
            if declared not in UPSTREAM_INPUT_TYPES:
                upstream = next((name for prefix, name in _UPSTREAM.items() if model.startswith(prefix)), "")
                raw = f'{{"error": {{"code": 400, "message": "Unsupported MIME type: {declared}"}}}}'
                raise _Reject("Provider returned error", 400, {"raw": raw, "provider_name": upstream})
