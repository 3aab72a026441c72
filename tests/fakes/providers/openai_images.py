"""A loopback fake of the OpenAI Images API: a real HTTP/1.1 server on 127.0.0.1 (stdlib asyncio).

Routes (under ``/v1``): ``POST /images/generations`` (JSON), ``POST /images/edits`` (multipart),
``GET /models``; result URLs are served from ``/files/<name>``. It enforces the real limits and error
envelopes (``{"error": {"message", "type", "param", "code"}}``) and can be scripted to misbehave::

    async with FakeOpenAIImages(api_key="sk-test") as fake:
        fake.rate_limit_next(retry_after="7")        # then refuse_next(), fail_next(503), empty_next(),
        ...                                          # drop_next(), quota_next(), malformed_next(),
                                                     # expire_next_download(); fake.delay_s = 0.5

``strict=True`` is OpenAI itself (the ``openai`` provider's fake): the model is required in effect
(without it the API picks the retired dall-e-2), must be a known, live model, and the model's rules in
:mod:`tests.fakes.providers.openai_rules` apply (sizes, quality words, no ``response_format`` or
``style`` for GPT models, unknown fields rejected), after the body has been validated against the
vendored OpenAPI schema (``tests/fakes/specs/openai/images.json``: types, enums, ranges, required).
Without it the fake is a lenient OpenAI-compatible server (any model, ``allowed_sizes``,
``response_format`` honoured).

From another process: ``python -m tests.fakes.providers.openai_images --port 0 --delay 2`` prints
``LISTENING http://127.0.0.1:<port>/v1`` (the base_url to configure) and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import itertools
import json
import signal
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from PIL import Image as PILImage

from bot.core.imaging import sniff
from tests.fakes.providers import openai_rules
from tests.fakes.providers.openai_rules import error_body
from tests.fakes.specs import openapi

DEFAULT_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
MAX_PROMPT_CHARS = 32_000
MAX_HEADER_BYTES = 64 * 1024
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_FORMATS = {"png": ("PNG", "image/png"), "jpeg": ("JPEG", "image/jpeg"), "webp": ("WEBP", "image/webp")}


@dataclass(frozen=True)
class FormPart:
    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    """Lower-case names."""
    body: bytes
    json: Any = None
    form: tuple[FormPart, ...] = ()

    def field(self, name: str) -> str | None:
        """A text form field's value."""
        part = next((p for p in self.form if p.name == name and p.filename is None), None)
        return part.data.decode() if part else None

    def files(self, name: str) -> list[FormPart]:
        return [p for p in self.form if p.name == name and p.filename is not None]


@dataclass(frozen=True)
class Fault:
    """What the next API request gets instead of a normal answer."""

    kind: Literal["status", "drop", "empty", "malformed"]
    status: int = 500
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class _Drop(Exception):
    """Close the connection without answering."""


def make_image(
    width: int, height: int, fmt: str = "png", colour: tuple[int, int, int] = (70, 120, 190)
) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(buffer, format=_FORMATS[fmt][0])
    return buffer.getvalue()


class FakeOpenAIImages:
    """The fake server. Start with ``async with`` (or ``start``/``stop``); ``base_url`` ends in /v1."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        allowed_sizes: tuple[str, ...] = DEFAULT_SIZES,
        response_format: Literal["b64_json", "url"] | None = None,
        output_format: Literal["png", "jpeg", "webp"] = "png",
        image_scale: float = 1.0,
        revised_prompt: str | None = None,
        delay_s: float = 0.0,
        models: tuple[str, ...] = ("gpt-image-1.5",),
        strict: bool = False,
        retired_models: tuple[str, ...] = openai_rules.RETIRED,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.api_key = api_key
        self.allowed_sizes = allowed_sizes
        self.response_format = response_format
        """Force this result shape (a server that ignores the request's response_format)."""
        self.output_format = output_format
        self.image_scale = image_scale
        """Shrink returned images by this factor (the tests' PNGs stay tiny); 1.0 is faithful."""
        self.revised_prompt = revised_prompt
        self.delay_s = delay_s
        self.models = models
        """What GET /models lists."""
        self.strict = strict
        self.retired_models = retired_models
        self.expired_downloads: list[int] = []
        """Statuses the next result-URL downloads get (a signed URL that has expired)."""
        self.requests: list[RecordedRequest] = []
        """API requests (under /v1), in arrival order."""
        self.in_flight = 0
        self.most_in_flight = 0
        """The most API requests ever inside their ``delay_s`` at once (what a one-GPU server sees)."""
        self.served: list[bytes] = []
        """Every image made, in order (byte-for-byte what was sent or stored for download)."""
        self.downloads: list[RecordedRequest] = []
        """Requests for result URLs (under /files)."""
        self.faults: list[Fault] = []
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._files: dict[str, tuple[bytes, str]] = {}
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------------------------- lifecycle

    @property
    def origin(self) -> str:
        assert self._server is not None, "not started"
        port = self._server.sockets[0].getsockname()[1]
        return f"http://{self._host}:{port}"

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, self._host, self._port)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> FakeOpenAIImages:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -------------------------------------------------------------------------------------- scripting

    def fail_next(self, status: int = 500, *, times: int = 1, retry_after: str | None = None) -> None:
        """The next ``times`` API requests get ``status`` with a server_error envelope."""
        message = {
            503: "The server is overloaded or not ready yet.",
            500: "The server had an error while processing your request. Sorry about that!",
        }.get(status, f"Error {status}")
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        kind = "server_error" if status >= 500 else "invalid_request_error"
        self._script(Fault("status", status, error_body(message, type=kind), headers), times)

    def rate_limit_next(
        self, *, times: int = 1, retry_after: str | None = "3", retry_after_ms: str | None = None
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        if retry_after_ms is not None:
            headers["retry-after-ms"] = retry_after_ms
        body = error_body(
            "Rate limit reached for images per minute. Please try again later.",
            type="requests",
            code="rate_limit_exceeded",
        )
        self._script(Fault("status", 429, body, headers), times)

    def refuse_next(self, code: str = "moderation_blocked", *, times: int = 1) -> None:
        """A content-policy 400: GPT image ``moderation_blocked`` or dall-e ``content_policy_violation``."""
        if code == "moderation_blocked":
            body = error_body(
                "Your request was rejected by the safety system. If you believe this is an error, contact "
                "us at help.openai.com and include the request ID. safety_violations=[violence].",
                type="image_generation_user_error",
                code=code,
            )
        else:
            body = error_body(
                "Your request was rejected as a result of our safety system. Your prompt may contain text "
                "that is not allowed by our safety system.",
                code=code,
            )
        self._script(Fault("status", 400, body), times)

    def quota_next(self) -> None:
        """A 429 that waiting will not cure: ``insufficient_quota``."""
        body = error_body(
            "You exceeded your current quota, please check your plan and billing details.",
            type="insufficient_quota",
            code="insufficient_quota",
        )
        self._script(Fault("status", 429, body), 1)

    def malformed_next(self) -> None:
        """An HTTP 200 whose body is not JSON (a broken proxy in between)."""
        self._script(Fault("malformed"), 1)

    def expire_next_download(self, status: int = 403) -> None:
        """The next result-URL download gets ``status`` (an expired signed URL)."""
        self.expired_downloads.append(status)

    def empty_next(self, *, times: int = 1) -> None:
        """An HTTP 200 whose ``data`` is empty (silent moderation)."""
        self._script(Fault("empty"), times)

    def drop_next(self, *, times: int = 1) -> None:
        """Read the request, then close the connection without a word."""
        self._script(Fault("drop"), times)

    def _script(self, fault: Fault, times: int) -> None:
        self.faults.extend([fault] * times)

    # ------------------------------------------------------------------------------------------- HTTP

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                try:
                    response = await self._handle(request)
                except _Drop:
                    break
                writer.write(_encode(response, keep_alive=request.headers.get("connection") != "close"))
                await writer.drain()
                if request.headers.get("connection") == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        except asyncio.CancelledError:
            pass  # stop(): the server is going away
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _handle(self, request: RecordedRequest) -> _Response:
        path = request.path.split("?", 1)[0]
        if path.startswith("/files/"):
            self.downloads.append(request)
            stored = self._files.get(path.removeprefix("/files/"))
            if self.expired_downloads:
                status = self.expired_downloads.pop(0)
                return _Response(
                    status, b"<Error><Code>AuthenticationFailed</Code></Error>", "application/xml"
                )
            if stored is None:
                return _json(404, error_body("File not found."))
            return _Response(200, stored[0], stored[1])
        self.requests.append(request)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
        finally:
            self.in_flight -= 1
        if self.api_key is not None:
            denied = self._auth(request.headers.get("authorization", ""))
            if denied is not None:
                return denied
        if self.faults:
            fault = self.faults.pop(0)
            if fault.kind == "drop":
                raise _Drop
            if fault.kind == "status":
                return _json(fault.status, fault.body or {}, fault.headers)
            if fault.kind == "malformed":
                return _Response(200, b'{"created": 1, "data": [{"b64_json": "iVBO', "application/json")
            return _json(200, {"created": int(time.time()), "data": []})
        routes = {
            ("POST", "/v1/images/generations"): self._generations,
            ("POST", "/v1/images/edits"): self._edits,
            ("GET", "/v1/models"): self._models,
        }
        handler = routes.get((request.method, path))
        if handler is None:
            known = any(p == path for _, p in routes)
            if known:
                return _json(405, error_body(f"Method {request.method} not allowed for {path}."))
            return _json(404, error_body(f"Invalid URL ({request.method} {path})"))
        return handler(request)

    def _auth(self, header: str) -> _Response | None:
        scheme, _, token = header.partition(" ")
        if not header:
            message = (
                "You didn't provide an API key. You need to provide your API key in an Authorization header."
            )
            return _json(401, error_body(message))
        if scheme.lower() != "bearer" or token != self.api_key:
            shown = f"{token[:3]}***{token[-4:]}" if len(token) > 8 else "***"
            message = f"Incorrect API key provided: {shown}. You can find your API key at https://platform.openai.com."
            return _json(401, error_body(message, code="invalid_api_key"))
        return None

    # ----------------------------------------------------------------------------------------- routes

    def _models(self, request: RecordedRequest) -> _Response:
        data = [
            {"id": m, "object": "model", "created": 1700000000, "owned_by": "system"} for m in self.models
        ]
        return _json(200, {"object": "list", "data": data})

    def _generations(self, request: RecordedRequest) -> _Response:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return _json(400, error_body("Invalid Content-Type header, expected application/json."))
        if not isinstance(request.json, dict):
            return _json(400, error_body("We could not parse the JSON body of your request."))
        return self._answer(request.json, edit=False)

    def _edits(self, request: RecordedRequest) -> _Response:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return _json(400, error_body("Invalid Content-Type header, expected multipart/form-data."))
        images = request.files("image") + request.files("image[]")
        if not images:
            return _json(400, error_body("Missing required parameter: 'image'.", param="image"))
        for index, part in enumerate(images):
            if (problem := _check_image_part(part, index, array=part.name == "image[]")) is not None:
                return _json(*problem)
        if len(images) > 16:
            return _json(400, error_body("Too many images: at most 16.", param="image"))
        fields: dict[str, Any] = {p.name: p.data.decode() for p in request.form if p.filename is None}
        if self.strict:
            typed = openapi.coerce_form(fields, "openai", "images", "CreateImageEditRequest")
            files: dict[str, Any] = {
                "image": ["<file>"] * len(images) if request.files("image[]") else "<file>"
            }
            if request.files("mask"):
                files["mask"] = "<file>"
            problem = openapi.validate("openai", "images", "CreateImageEditRequest", typed | files)
            if problem is not None:
                return _json(*problem)
        for key in ("n", "output_compression", "partial_images"):
            if key in fields:
                try:
                    fields[key] = int(fields[key])
                except ValueError:
                    return _json(400, error_body(f"Invalid '{key}': expected an integer.", param=key))
        masks = request.files("mask")
        if masks and _png_size(masks[0].data) != _png_size(images[0].data):
            return _json(
                400, error_body("Invalid mask: must be a PNG of the same size as the image.", param="mask")
            )
        if self.strict and len(request.files("image")) > 1:
            return _json(
                400, error_body("Duplicate parameter: 'image'. Send an array as 'image[]'.", param="image")
            )
        return self._answer(fields, edit=True)

    def _answer(self, body: dict[str, Any], *, edit: bool) -> _Response:
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            return _json(400, error_body("Missing required parameter: 'prompt'.", param="prompt"))
        if len(prompt) > MAX_PROMPT_CHARS:
            message = (
                "Invalid 'prompt': string too long. Expected a string with maximum length "
                f"{MAX_PROMPT_CHARS}, but got a string with length {len(prompt)} instead."
            )
            return _json(400, error_body(message, param="prompt", code="string_above_max_length"))
        n = body.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 10:
            return _json(400, error_body(f"Invalid 'n': {n!r}. Expected an integer from 1 to 10.", param="n"))
        size = body.get("size", "auto")
        shape = self.response_format or body.get("response_format") or "b64_json"
        if self.strict:
            problem = None if edit else openapi.validate("openai", "images", "CreateImageRequest", body)
            problem = problem or openai_rules.check_images_body(body, edit=edit, retired=self.retired_models)
            if problem is not None:
                return _json(*problem)
            if str(body.get("model", "")).startswith("dall-e"):
                size = body.get("size", "1024x1024")
                shape = self.response_format or body.get("response_format", "url")
            else:
                shape = "b64_json"  # GPT image models always answer base64
        elif size not in self.allowed_sizes:
            supported = ", ".join(f"'{s}'" for s in self.allowed_sizes)
            message = f"Invalid value: '{size}'. Supported values are: {supported}."
            return _json(400, error_body(message, param="size"))
        width, height = openai_rules.size_pixels(size)
        width, height = max(1, round(width * self.image_scale)), max(1, round(height * self.image_scale))
        fmt = body.get("output_format") or self.output_format
        if fmt not in _FORMATS:
            return _json(400, error_body(f"Invalid value: '{fmt}'.", param="output_format"))
        data = []
        for index in range(n):
            image = make_image(width, height, fmt, colour=(60 + 20 * index, 120, 190))
            self.served.append(image)
            item: dict[str, Any]
            if shape == "url":
                name = f"img-{next(self._ids)}.{fmt}"
                self._files[name] = (image, _FORMATS[fmt][1])
                item = {"url": f"{self.origin}/files/{name}"}
            else:
                item = {"b64_json": base64.b64encode(image).decode()}
            if self.revised_prompt is not None:
                item["revised_prompt"] = self.revised_prompt
            data.append(item)
        return _json(200, {"created": int(time.time()), "data": data, "output_format": fmt, "size": size})


# ------------------------------------------------------------------------------------------- wire


async def _read_request(reader: asyncio.StreamReader) -> RecordedRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    if len(head) > MAX_HEADER_BYTES:
        raise ValueError("headers too large")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    content_type = headers.get("content-type", "")
    parsed: Any = None
    form: tuple[FormPart, ...] = ()
    if content_type.startswith("application/json"):
        with contextlib.suppress(ValueError):
            parsed = json.loads(body)
    elif content_type.startswith("multipart/form-data"):
        form = _parse_multipart(body, content_type)
    return RecordedRequest(method, target, headers, body, parsed, form)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _parse_multipart(body: bytes, content_type: str) -> tuple[FormPart, ...]:
    boundary = _param(content_type, "boundary")
    if not boundary:
        raise ValueError("multipart without a boundary")
    parts = []
    for raw in (b"\r\n" + body).split(b"\r\n--" + boundary.encode())[1:]:
        if raw.startswith(b"--"):
            break
        head, _, data = raw.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("utf-8").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        parts.append(
            FormPart(
                name=_param(disposition, "name") or "",
                data=data,
                filename=_param(disposition, "filename"),
                content_type=headers.get("content-type"),
            )
        )
    return tuple(parts)


def _param(header: str, key: str) -> str | None:
    for item in header.split(";")[1:]:
        name, _, value = item.strip().partition("=")
        if name.lower() == key:
            return value.strip('"')
    return None


EDIT_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
"""What /images/edits takes for GPT image models (the SDK: "a png, webp, or jpg file less than 50MB")."""


def _check_image_part(part: FormPart, index: int, *, array: bool) -> tuple[int, dict[str, Any]] | None:
    """OpenAI checks the part's declared type first, then that the bytes are that image.

    The first message is the real one (seen in openai-node #1468, prism-php/prism #725: param
    ``image[0]``, code ``unsupported_file_mimetype``); the second's wording is not verified.
    """
    param = f"image[{index}]" if array else "image"
    declared = (part.content_type or "application/octet-stream").split(";")[0].strip().lower()
    if declared not in EDIT_IMAGE_TYPES:
        message = (
            f"Invalid file '{param}': unsupported mimetype ('{declared}'). Supported file formats are "
            "'image/jpeg', 'image/png', and 'image/webp'."
        )
        return 400, error_body(message, param=param, code="unsupported_file_mimetype")
    try:
        actual = sniff(part.data)
    except Exception:
        actual = ""
    if actual != declared:
        message = f"Invalid image file or mode for image {index + 1}, please check your image file."
        return 400, error_body(message, param=param, code="invalid_image_file")
    return None


def _png_size(data: bytes) -> tuple[int, int] | None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 24:
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> _Response:
    return _Response(status, json.dumps(body).encode(), "application/json", dict(headers or {}))


def _encode(response: _Response, *, keep_alive: bool) -> bytes:
    lines = [
        f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Status')}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
        *(f"{name}: {value}" for name, value in response.headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


# ------------------------------------------------------------------------------------- entry point


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeOpenAIImages(api_key=args.api_key, delay_s=args.delay, host=args.host, port=args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with fake:
        print(f"LISTENING {fake.base_url}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI Images API server for tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each API answer")
    parser.add_argument("--api-key", default=None, help="require this Bearer key")
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
