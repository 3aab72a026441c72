"""A loopback fake of an Ollama server's experimental image generation (``/api/generate``, ``/api/version``).

Built from ollama/ollama's own source at v0.32.5, the last release with image generation:
``api/types.go`` (GenerateRequest ``width``/``height``/``steps`` top-level; GenerateResponse
``image``, ``completed``, ``total``), ``server/routes.go`` (``handleImageGenerate``: each side at most
4096 or 400 ``{"error": "width and height must be <= 4096"}``; the seed from ``options.seed``;
``images`` passed to the runner; streaming NDJSON by default, one JSON object with ``"stream": false``;
an empty prompt only loads the model, ``done_reason: "load"``; an error after the stream started is an
``{"error"}`` line; an unknown model 404 ``{"error": "model 'x' not found"}``) and ``GET /api/version``
``{"version"}``. From v0.32.6 (the removal, #16615) an image model gets 400 ``{"error": "image
generation models are not currently supported"}`` and the image fields are gone; versions before
0.14.3 know no image models (a text model's answer is what ``llama3.2`` gives here). ``images`` are
used only by 0.15.0-0.15.4, whose image runner (``x/imagegen/runner/runner.go``, c01608b6a) takes at
most 2 ("too many input images, maximum is 2"), decodes each with Go's ``image.Decode`` (PNG, JPEG
and WebP registered; a GIF or other bytes: "invalid image 0: image: unknown format") and refuses
them for a model without edits ("model does not support image editing"), each relayed by the server
as 500 ``{"error"}`` before the stream starts; from 0.15.5 (d8cc798c2) the runner calls
``GenerateImage`` and ignores them (only ``[]byte`` base64 is checked, by the JSON decoder). Ollama has no
authentication of its own, so none is checked; unknown JSON fields are ignored, as Go's decoder does::

    async with FakeOllama(version="0.20.0") as fake:
        fake.fail_next(500)      # fault(...) for any status/body, error_line_next(), delay_s, step_s

Unverified: the ``done_reason`` of a finished image (``stop`` here), the default step counts per model
(4 here), and whether the Z-Image models ignore ``images`` (they do here; the FLUX.2 code reads them).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.core.errors import ImageError
from bot.core.imaging import sniff
from tests.fakes.providers.loopback import LoopbackFake, json_error, make_image

IMAGE_MODELS = ("x/z-image-turbo", "x/flux2-klein")
TEXT_MODELS = ("llama3.2",)
FIRST = (0, 14, 3)
REMOVED = (0, 32, 6)
EDITS = ((0, 15, 0), (0, 15, 5))
DECODED = ("image/png", "image/jpeg", "image/webp")
MAX_INPUT_IMAGES = 2


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("-")[0].split("."))


class FakeOllama(LoopbackFake):
    """``base_url`` is the server root; images are tiny real PNGs (1/16 of the asked size)."""

    def __init__(self, *, version: str = "0.20.0", steps: int = 4, delay_s: float = 0.0) -> None:
        super().__init__(delay_s=delay_s)
        self.version = version
        self.steps = steps
        self.step_s = 0.0
        """Seconds each denoising step takes (for progress and cancellation tests)."""
        self.served: list[bytes] = []
        self.references: list[bytes] = []
        """Reference images a FLUX.2 model used (only 0.15.0-0.15.4 use them)."""
        self._error_line_next = False

    @property
    def base_url(self) -> str:
        return self.origin

    @property
    def has_images(self) -> bool:
        return FIRST <= _version(self.version) < REMOVED

    def _routes(self, app: web.Application) -> None:
        app.router.add_get("/api/version", self._version_route)
        app.router.add_post("/api/generate", self._generate)

    # -------------------------------------------------------------------------------------- scripting

    def fail_next(self, status: int = 500, message: str = "llama runner process has terminated") -> None:
        self.fault(status, {"error": message})

    def error_line_next(self) -> None:
        """The next generation streams two progress lines, then an ``{"error"}`` line."""
        self._error_line_next = True

    def malformed_next(self) -> None:
        self.fault(200, raw=b'{"model":"x/z-image-turbo","completed":1,"tot', path="/api/generate")

    # ----------------------------------------------------------------------------------------- routes

    async def _version_route(self, request: web.Request) -> web.Response:
        return web.json_response({"version": self.version})

    async def _generate(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        if not raw:
            return json_error(400, {"error": "missing request body"})
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return json_error(400, {"error": f"invalid character in JSON: {exc.msg}"})
        if not isinstance(body, dict):
            return json_error(
                400, {"error": "json: cannot unmarshal into Go value of type api.GenerateRequest"}
            )
        model = body.get("model")
        if not model:
            return json_error(400, {"error": "model is required"})
        if model not in IMAGE_MODELS + TEXT_MODELS:
            return json_error(404, {"error": f"model '{model}' not found"})
        if model in TEXT_MODELS or _version(self.version) < FIRST:
            return await self._text(request, body)
        if not self.has_images:
            return json_error(400, {"error": "image generation models are not currently supported"})
        return await self._image(request, body)

    async def _text(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        """What a language model (or an Ollama without image models) answers: text, no image."""
        lines = [{"model": body["model"], "response": "I am a language model.", "done": False},
                 {"model": body["model"], "response": "", "done": True, "done_reason": "stop"}]  # fmt: skip
        return await _stream(request, lines, stream=body.get("stream", True) is not False)

    async def _image(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        width, height = body.get("width", 1024), body.get("height", 1024)
        for value in (width, height, body.get("steps", 0)):
            if not isinstance(value, int) or isinstance(value, bool):
                return json_error(400, {"error": "json: cannot unmarshal number into Go struct field"})
        if width > 4096 or height > 4096:
            return json_error(400, {"error": "width and height must be <= 4096"})
        model = body["model"]
        stamp = {"model": model, "created_at": datetime.now(UTC).isoformat()}
        if not str(body.get("prompt") or ""):
            return web.json_response({**stamp, "done": True, "done_reason": "load"})
        given: list[bytes] = []
        for encoded in body.get("images") or []:
            try:
                given.append(base64.b64decode(encoded, validate=True))
            except (binascii.Error, ValueError, TypeError):
                return json_error(400, {"error": "illegal base64 data at input byte 0"})
        if given and EDITS[0] <= _version(self.version) < EDITS[1]:
            refused = _runner_refuses(given, model)
            if refused:
                return json_error(500, {"error": refused})
            self.references += given
        total = body.get("steps") or self.steps
        lines: list[dict[str, Any]] = [
            {**stamp, "completed": step, "total": total, "done": False} for step in range(1, total + 1)
        ]
        if self._error_line_next:
            self._error_line_next = False
            lines = [*lines[:2], {"error": "failed to generate image: out of memory"}]
        else:
            image = make_image(
                max(1, width // 16), max(1, height // 16), colour=(90, 60 + len(self.served), 30)
            )
            self.served.append(image)
            lines.append(
                {
                    **stamp,
                    "done": True,
                    "done_reason": "stop",
                    "image": base64.b64encode(image).decode(),
                    "total_duration": 1200000000,
                    "load_duration": 100000000,
                }
            )
        return await _stream(request, lines, stream=body.get("stream", True) is not False, pause=self.step_s)


def _runner_refuses(images: list[bytes], model: str) -> str | None:
    """What the 0.15.0-0.15.4 image runner answers to input images it will not use, or None."""
    if len(images) > MAX_INPUT_IMAGES:
        return f"too many input images, maximum is {MAX_INPUT_IMAGES}"
    for index, data in enumerate(images):
        try:
            mime = sniff(data)
        except ImageError:
            mime = ""
        if mime not in DECODED:
            return f"invalid image {index}: image: unknown format"
    if "flux2" not in model:
        return "model does not support image editing"
    return None


async def _stream(
    request: web.Request, lines: list[dict[str, Any]], *, stream: bool, pause: float = 0.0
) -> web.StreamResponse:
    if not stream:
        final = next((line for line in reversed(lines) if line.get("done") or "error" in line), lines[-1])
        if "error" in final:
            return json_error(500, final)
        return web.json_response(final)
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    for line in lines:
        if pause:
            await asyncio.sleep(pause)
        await response.write(json.dumps(line).encode() + b"\n")
    await response.write_eof()
    return response
