"""A loopback fake of MiniMax's image generation API: ``POST /v1/image_generation``, ``GET /v1/files/list``.

Built from platform.minimax.io/docs: the Text to Image and Image to Image OpenAPI (Bearer auth;
``Content-Type: application/json`` required; ``model`` and ``prompt`` required; ``model`` enum
``image-01``; prompt at most 1500 characters), the image generation guide (``response_format:
"base64"`` answers ``data.image_base64``; ``subject_reference: [{"type": "character", "image_file"}]``
with a URL), the error code table (``base_resp.status_code`` 1002 rate limit, 1004 not authorized,
1008 insufficient balance, 1026/1027 input/output sensitive, 2013 invalid params, 2049 invalid api
key) and List Files (``purpose`` required: voice_clone, prompt_audio, t2a_async_input). Third-party
copies of the same pages add: ``aspect_ratio`` 1:1, 16:9, 4:3, 3:2, 2:3, 3:4, 9:16, 21:9; ``width``/
``height`` 512-2048, multiples of 8, set together; ``response_format`` url or base64; ``n`` 1-9;
``seed``, ``prompt_optimizer``, ``aigc_watermark`` booleans; ``subject_reference`` ``type`` only
``character``, ``image_file`` a public URL or a data URL of a JPG/JPEG/PNG up to 10 MB.

Errors come back in ``base_resp`` of an HTTP 200, as the docs show them (``{"base_resp":
{"status_code", "status_msg"}}``)::

    async with FakeMiniMax(api_key="mm-test") as fake:
        fake.base_resp_next(1026, "input new_sensitive")   # or sensitive_next(), throttle_next(),
        ...                                                # fail_next(503), malformed_next(), delay_s

Unverified: that a wrong or missing key is also an HTTP 200 (here 2049 / 1004 in ``base_resp``), the
exact ``status_msg`` wording, what an all-failed generation looks like (here ``failed_count`` = n and
an empty ``image_base64``), that more than one ``subject_reference`` is refused, the HTTP 5xx body of a
gateway error, and the output pixel sizes (scaled down here).
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from aiohttp import web

from bot.core.errors import ImageError
from bot.core.imaging import sniff
from tests.fakes.providers.loopback import LoopbackFake, make_image

ASPECTS = {
    "1:1": (64, 64), "16:9": (64, 36), "4:3": (64, 48), "3:2": (64, 43),
    "2:3": (43, 64), "3:4": (48, 64), "9:16": (36, 64), "21:9": (64, 27),
}  # fmt: skip
FIELDS = {
    "model", "prompt", "aspect_ratio", "width", "height", "response_format", "seed", "n",
    "prompt_optimizer", "aigc_watermark", "subject_reference",
}  # fmt: skip
MAX_REFERENCE_BYTES = 10 * 1024 * 1024
PURPOSES = ("voice_clone", "prompt_audio", "t2a_async_input")


def base_resp(code: int = 0, message: str = "success") -> dict[str, Any]:
    return {"status_code": code, "status_msg": message}


class FakeMiniMax(LoopbackFake):
    """``base_url`` ends in ``/v1``; images are tiny real JPEGs."""

    def __init__(self, *, api_key: str = "mm-test-key-0123456789", delay_s: float = 0.0) -> None:
        super().__init__(delay_s=delay_s)
        self.api_key = api_key
        self.served: list[bytes] = []
        self.fail_all_next = False

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/image_generation", self._generate)
        app.router.add_get("/v1/files/list", self._files_list)

    # -------------------------------------------------------------------------------------- scripting

    def base_resp_next(self, code: int, message: str) -> None:
        """The next request answers HTTP 200 with this ``base_resp`` and no data."""
        self.fault(200, {"id": self.next_id("r"), "base_resp": base_resp(code, message)})

    def sensitive_next(self) -> None:
        self.base_resp_next(1026, "input new_sensitive")

    def throttle_next(self) -> None:
        self.base_resp_next(1002, "rate limit")

    def fail_next(self, status: int = 500) -> None:
        self.fault(status, {"base_resp": base_resp(1000 if status == 500 else 1024, "unknown error")})

    def malformed_next(self) -> None:
        self.fault(200, raw=b'{"data": {"image_base64": ["/9j/4AA')

    # ----------------------------------------------------------------------------------------- routes

    def _denied(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header.removeprefix("Bearer ").strip():
            return web.json_response(
                {"base_resp": base_resp(1004, "login fail: Please carry the API secret key")}
            )
        if header != f"Bearer {self.api_key}":
            return web.json_response({"base_resp": base_resp(2049, "invalid api key")})
        return None

    async def _files_list(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        if request.query.get("purpose") not in PURPOSES:
            return web.json_response({"base_resp": base_resp(2013, "invalid params, purpose")})
        return web.json_response({"files": [], "base_resp": base_resp()})

    async def _generate(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        if request.content_type != "application/json":
            return web.json_response({"base_resp": base_resp(2013, "invalid params, Content-Type")})
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"base_resp": base_resp(2013, "invalid params, json")})
        problem = _validate(body)
        if problem is not None:
            return web.json_response({"id": self.next_id("r"), "base_resp": base_resp(2013, problem)})
        return web.json_response(self._answer(body))

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        n = body.get("n", 1)
        if self.fail_all_next:
            self.fail_all_next = False
            metadata = {"success_count": "0", "failed_count": str(n)}
            return {"id": self.next_id("r"), "data": {"image_base64": []}, "metadata": metadata,
                    "base_resp": base_resp()}  # fmt: skip
        if "width" in body:
            width, height = body["width"] // 16, body["height"] // 16
        else:
            width, height = ASPECTS[body.get("aspect_ratio", "1:1")]
        images = [make_image(width, height, "jpeg", colour=(30 * i % 255, 80, 150)) for i in range(n)]
        self.served.extend(images)
        if body.get("response_format", "url") == "base64":
            data: dict[str, Any] = {"image_base64": [base64.b64encode(i).decode() for i in images]}
        else:
            data = {"image_urls": [self.add_file(i, "image/jpeg") for i in images]}
        return {
            "id": self.next_id("r"),
            "data": data,
            "metadata": {"success_count": str(n), "failed_count": "0"},
            "base_resp": base_resp(),
            "created": int(time.time()),
        }


def _validate(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "invalid params, body must be an object"
    unknown = set(body) - FIELDS
    if unknown:
        return f"invalid params, unknown field {sorted(unknown)[0]}"
    if body.get("model") != "image-01":
        return f"invalid params, model {body.get('model')!r} not supported"
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt or len(prompt) > 1500:
        return "invalid params, prompt is required and at most 1500 characters"
    if "aspect_ratio" in body and body["aspect_ratio"] not in ASPECTS:
        return f"invalid params, aspect_ratio {body['aspect_ratio']!r}"
    if ("width" in body) != ("height" in body):
        return "invalid params, width and height must be set together"
    for side in ("width", "height"):
        value = body.get(side, 1024)
        if not isinstance(value, int) or not 512 <= value <= 2048 or value % 8:
            return f"invalid params, {side} must be 512-2048 and a multiple of 8"
    n = body.get("n", 1)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 9:
        return "invalid params, n must be 1-9"
    if body.get("response_format", "url") not in ("url", "base64"):
        return f"invalid params, response_format {body['response_format']!r}"
    if "seed" in body and (not isinstance(body["seed"], int) or isinstance(body["seed"], bool)):
        return "invalid params, seed must be an integer"
    for flag in ("prompt_optimizer", "aigc_watermark"):
        if flag in body and not isinstance(body[flag], bool):
            return f"invalid params, {flag} must be a boolean"
    if "subject_reference" in body:
        return _validate_reference(body["subject_reference"])
    return None


def _validate_reference(references: Any) -> str | None:
    if not isinstance(references, list) or len(references) != 1 or not isinstance(references[0], dict):
        return "invalid params, subject_reference must hold one reference"
    reference = references[0]
    if reference.get("type") != "character":
        return f"invalid params, subject_reference type {reference.get('type')!r}"
    source = reference.get("image_file")
    if not isinstance(source, str) or not source:
        return "invalid params, subject_reference image_file is required"
    if source.startswith("https://") or source.startswith("http://"):
        return None
    header, _, payload = source.partition(",")
    if not (header.startswith("data:image/") and header.endswith(";base64")):
        return "invalid params, image_file must be a URL or a base64 data URL"
    try:
        raw = base64.b64decode(payload, validate=True)
        mime = sniff(raw)
    except (binascii.Error, ValueError, ImageError):
        return "invalid params, image_file is not a readable image"
    if mime not in ("image/jpeg", "image/png") or len(raw) > MAX_REFERENCE_BYTES:
        return "invalid params, image_file must be a JPG, JPEG or PNG of at most 10MB"
    return None
