"""A loopback fake of OpenAI's Responses API with the ``image_generation`` tool (aiohttp.web, 127.0.0.1).

Routes (under ``/v1``): ``POST /responses`` and ``GET /models``. It checks what the real API checks
(per providers.md §4): the Bearer key, JSON, ``model`` and ``input`` present, ``input`` as a string or
message items whose content parts are ``input_text`` / ``input_image`` (``image_url`` an http(s) or data
URL of a real image, or a ``file_id``), the tool's fields and values (``openai_rules.check_tool``),
``tool_choice``, and ``previous_response_id`` naming an earlier response. It answers with the
response object: ``output`` holds one ``image_generation_call`` (``result`` = base64 image,
``revised_prompt``, ``size``, ``quality``, ``background``, ``output_format``) and a short message::

    async with FakeOpenAIResponses(api_key="sk-test") as fake:
        fake.rate_limit_next(retry_after_ms="1500")   # also fail_next(503), refuse_next(), quota_next(),
        ...                                           # malformed_next(), empty_next(), answer_next(kind)
        fake.delay_s = 0.2; fake.requests[0].json

``answer_next(kind)`` scripts an HTTP 200 without an image: ``failed_call``, ``refusal``,
``content_filter``, ``max_output_tokens``, ``text``, ``failed`` (a failed response with an error).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from bot.core.imaging import sniff
from tests.fakes.providers import openai_rules
from tests.fakes.providers.openai_images import make_image
from tests.fakes.providers.openai_rules import error_body

Kind = Literal["failed_call", "refusal", "content_filter", "max_output_tokens", "text", "failed"]
TOOL_CHOICES = ("auto", "none", "required")


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    """Lower-case names."""
    json: Any


@dataclass(frozen=True)
class Fault:
    status: int = 200
    body: dict[str, Any] | None = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeOpenAIResponses:
    """The fake server; ``base_url`` ends in /v1."""

    def __init__(
        self,
        *,
        api_key: str = "sk-test",
        models: tuple[str, ...] = ("gpt-4.1", "gpt-image-1.5", "gpt-image-2", "whisper-1"),
        revised_prompt: str | None = "A revised prompt.",
        image_scale: float = 1 / 16,
        delay_s: float = 0.0,
    ) -> None:
        self.api_key = api_key
        self.models = models
        self.revised_prompt = revised_prompt
        self.image_scale = image_scale
        """Shrink served images (tests stay fast); the served bytes are kept in :attr:`served`."""
        self.delay_s = delay_s
        self.requests: list[Recorded] = []
        self.served: list[bytes] = []
        """Every image returned, in order."""
        self.faults: list[Fault] = []
        self._response_ids: set[str] = set()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._port = 0

    # ------------------------------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    async def __aenter__(self) -> FakeOpenAIResponses:
        app = web.Application()
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -------------------------------------------------------------------------------------- scripting

    def fail_next(self, status: int = 500) -> None:
        message = "The server had an error while processing your request. Sorry about that!"
        self.faults.append(Fault(status, error_body(message, type="server_error")))

    def rate_limit_next(self, *, retry_after: str | None = "3", retry_after_ms: str | None = None) -> None:
        headers = {"retry-after": retry_after} if retry_after is not None else {}
        if retry_after_ms is not None:
            headers["retry-after-ms"] = retry_after_ms
        body = error_body("Rate limit reached for requests.", type="requests", code="rate_limit_exceeded")
        self.faults.append(Fault(429, body, headers=headers))

    def quota_next(self) -> None:
        body = error_body(
            "You exceeded your current quota, please check your plan and billing details.",
            type="insufficient_quota",
            code="insufficient_quota",
        )
        self.faults.append(Fault(429, body))

    def refuse_next(self) -> None:
        """The HTTP-error refusal: 400 ``moderation_blocked``."""
        message = "Your request was rejected by the safety system. safety_violations=[violence]."
        body = error_body(message, type="image_generation_user_error", code="moderation_blocked")
        self.faults.append(Fault(400, body))

    def malformed_next(self) -> None:
        self.faults.append(Fault(raw=b'{"id": "resp_1", "output": [{"type": "image_gen'))

    def empty_next(self) -> None:
        """A completed response with an empty ``output``."""
        self.faults.append(Fault(body=self._response({}, [], status="completed")))

    def answer_next(self, kind: Kind) -> None:
        """An HTTP 200 without an image, of the given kind."""
        call = {"type": "image_generation_call", "id": "ig_x", "status": "failed", "result": None}
        refusal = {"type": "refusal", "refusal": "I'm sorry, but I can't help with that request."}
        text = {"type": "output_text", "text": "Could you tell me which style you would like?"}
        body: dict[str, Any]
        if kind == "failed_call":
            body = self._response({}, [call], status="completed")
        elif kind == "refusal":
            body = self._response({}, [_message(refusal)], status="completed")
        elif kind == "text":
            body = self._response({}, [_message(text)], status="completed")
        elif kind == "failed":
            body = self._response({}, [], status="failed")
            body["error"] = {"code": "server_error", "message": "The server had an error."}
        else:
            body = self._response({}, [], status="incomplete")
            body["incomplete_details"] = {"reason": kind}
        self.faults.append(Fault(body=body))

    # ----------------------------------------------------------------------------------------- routes

    async def _models(self, request: web.Request) -> web.Response:
        denied = self._auth(request)
        if denied is not None:
            return denied
        data = [
            {"id": m, "object": "model", "created": 1700000000, "owned_by": "system"} for m in self.models
        ]
        return web.json_response({"object": "list", "data": data})

    async def _responses(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = await request.json() if raw else None
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.requests.append(Recorded(request.method, request.path, headers, body))
        if self.delay_s:  # cut short when the fake stops
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.delay_s)
        denied = self._auth(request)
        if denied is not None:
            return denied
        if self.faults:
            fault = self.faults.pop(0)
            if fault.raw is not None:
                return web.Response(status=fault.status, body=fault.raw, content_type="application/json")
            return web.json_response(fault.body, status=fault.status, headers=fault.headers)
        if request.content_type != "application/json" or not isinstance(body, dict):
            return _error(400, "We could not parse the JSON body of your request.")
        problem = self._check(body)
        if problem is not None:
            return web.json_response(problem[1], status=problem[0])
        tool = next(t for t in body["tools"] if t.get("type") == "image_generation")
        return web.json_response(self._generate(body, tool))

    def _auth(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if header != f"Bearer {self.api_key}":
            message = "Incorrect API key provided." if header else "You didn't provide an API key."
            return web.json_response(
                error_body(message, code="invalid_api_key" if header else None), status=401
            )
        return None

    # ------------------------------------------------------------------------------------- validation

    def _check(self, body: dict[str, Any]) -> openai_rules.Problem | None:
        for key in ("model", "input"):
            if key not in body:
                return 400, error_body(f"Missing required parameter: '{key}'.", param=key)
        if not isinstance(body["model"], str) or openai_rules.is_image_model(body["model"]):
            return openai_rules.invalid("model", body["model"])
        previous = body.get("previous_response_id")
        if previous is not None and previous not in self._response_ids:
            message = f"Previous response with id '{previous}' not found."
            return 400, error_body(message, param="previous_response_id", code="previous_response_not_found")
        problem = _check_input(body["input"])
        if problem is not None:
            return problem
        tools = body.get("tools")
        images = [t for t in tools or [] if isinstance(t, dict) and t.get("type") == "image_generation"]
        if not isinstance(tools, list) or len(images) != 1:
            return 400, error_body("Expected one image_generation tool in 'tools'.", param="tools")
        problem = openai_rules.check_tool(images[0])
        if problem is not None:
            return problem
        choice = body.get("tool_choice", "auto")
        if choice not in TOOL_CHOICES and choice != {"type": "image_generation"}:
            return openai_rules.invalid("tool_choice", choice)
        return None

    # --------------------------------------------------------------------------------------- answers

    def _generate(self, body: dict[str, Any], tool: dict[str, Any]) -> dict[str, Any]:
        size = tool.get("size", "auto")
        width, height = openai_rules.size_pixels(size)
        width, height = max(1, round(width * self.image_scale)), max(1, round(height * self.image_scale))
        fmt = tool.get("output_format", "png")
        colour = (90 + 10 * (len(self.served) % 10), 140, 80)
        image = make_image(width, height, fmt, colour=colour)
        self.served.append(image)
        call: dict[str, Any] = {
            "type": "image_generation_call",
            "id": f"ig_{next(self._ids)}",
            "status": "completed",
            "result": base64.b64encode(image).decode(),
            "size": size if size != "auto" else "1024x1024",
            "quality": tool.get("quality", "auto"),
            "background": tool.get("background", "opaque"),
            "output_format": fmt,
        }
        if self.revised_prompt is not None:
            call["revised_prompt"] = self.revised_prompt
        done = _message(
            {"type": "output_text", "text": "Here is the image you asked for.", "annotations": []}
        )
        return self._response(body, [call, done], status="completed")

    def _response(self, body: dict[str, Any], output: list[dict[str, Any]], *, status: str) -> dict[str, Any]:
        response_id = f"resp_{next(self._ids):08d}"
        self._response_ids.add(response_id)
        return {
            "id": response_id,
            "object": "response",
            "created_at": int(time.time()),
            "status": status,
            "error": None,
            "incomplete_details": None,
            "model": body.get("model", "gpt-4.1"),
            "output": output,
            "previous_response_id": body.get("previous_response_id"),
            "tools": body.get("tools", []),
            "usage": {"input_tokens": 10, "output_tokens": 20, "total_tokens": 30},
        }


def _message(part: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant", "content": [part]}


def _error(status: int, message: str, *, param: str | None = None) -> web.Response:
    return web.json_response(error_body(message, param=param), status=status)


def _check_input(value: Any) -> openai_rules.Problem | None:
    """``input``: a string, or items; messages carry a string or input_text / input_image parts."""
    if isinstance(value, str):
        return None if value else openai_rules.invalid("input", value)
    if not isinstance(value, list) or not value:
        return openai_rules.invalid("input", value)
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            return openai_rules.invalid(f"input[{i}]", item)
        if item.get("type") == "image_generation_call":
            if "id" not in item:
                return 400, error_body("Missing required parameter: 'id'.", param=f"input[{i}].id")
            continue
        if item.get("type", "message") != "message" or item.get("role") not in (
            "user",
            "system",
            "developer",
        ):
            return openai_rules.invalid(f"input[{i}].role", item.get("role"))
        content = item.get("content")
        parts = [{"type": "input_text", "text": content}] if isinstance(content, str) else content
        if not isinstance(parts, list) or not parts:
            return openai_rules.invalid(f"input[{i}].content", content)
        for j, part in enumerate(parts):
            problem = _check_part(part, f"input[{i}].content[{j}]")
            if problem is not None:
                return problem
    return None


def _check_part(part: Any, where: str) -> openai_rules.Problem | None:
    if not isinstance(part, dict):
        return openai_rules.invalid(where, part)
    kind = part.get("type")
    if kind == "input_text":
        return None if isinstance(part.get("text"), str) else openai_rules.invalid(f"{where}.text", None)
    if kind != "input_image":
        return openai_rules.invalid(f"{where}.type", kind, ("input_text", "input_image", "input_file"))
    unknown = set(part) - {"type", "image_url", "file_id", "detail"}
    if unknown:
        return openai_rules.unknown(f"{where}.{sorted(unknown)[0]}")
    if "detail" not in part:  # the OpenAPI document marks it required
        return 400, error_body("Missing required parameter: 'detail'.", param=f"{where}.detail")
    if part["detail"] not in ("low", "high", "auto"):
        return openai_rules.invalid(f"{where}.detail", part["detail"], ("low", "high", "auto"))
    url = part.get("image_url")
    if part.get("file_id"):
        return None
    if not isinstance(url, str):
        return 400, error_body("Missing required parameter: 'image_url'.", param=f"{where}.image_url")
    if url.startswith(("http://", "https://")):
        return None
    header, _, payload = url.partition(",")
    if not header.startswith("data:image/") or not header.endswith(";base64"):
        return openai_rules.invalid(f"{where}.image_url", url[:40])
    try:
        mime = sniff(base64.b64decode(payload, validate=True))
    except Exception:  # bad base64 (binascii.Error) or not an image (ImageError)
        mime = ""
    if mime not in ("image/png", "image/jpeg", "image/webp", "image/gif"):
        return 400, error_body(
            "Invalid image: the data URL is not a supported image.", param=f"{where}.image_url"
        )
    return None
