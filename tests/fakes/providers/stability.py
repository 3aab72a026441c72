"""A loopback fake of Stability AI's REST API v2beta (aiohttp.web on 127.0.0.1, a random port).

Routes: ``POST /v2beta/stable-image/generate/{core,ultra,sd3}`` (multipart/form-data only, Bearer key,
``Accept: application/json`` or ``image/*``) and ``GET /v1/user/balance``. Fields are checked as the
real API documents them and errors use its envelope ``{"id", "name", "errors": [...]}``::

    async with FakeStability(api_key="sk-test") as fake:
        fake.rate_limit_next(retry_after="4")   # also fail_next(503), moderate_next() (403),
        fake.filter_next()                      # (200 CONTENT_FILTERED + a blurred image), malformed_next(),
        fake.delay_s = 0.2                      # empty_next(), status_next(402, "payment_required", ...)
        ...; fake.requests[-1].fields; fake.served

Sources (per rule group; ``[unv]`` = not confirmed, ``[3p]`` = read only in a third-party copy). The
official reference is platform.stability.ai/docs/api-reference (v2beta "Generate" section); no copy of
its OpenAPI document could be read here, so nothing is vendored and every rule below was read through
copies of that page: an apifox mirror of the Ultra request schema, the ``stability`` Ruby gem's docs,
ComfyUI's ``comfy_api_nodes/apis/stability_api.py`` models, and Stability's v1 docs quoted by AWS.

- ``multipart/form-data`` only (even without a file), ``Authorization: Bearer``, ``Accept`` ``image/*``
  or ``application/json``, optional ``stability-client-id``/``-user-id``/``-version`` headers [3p mirror].
- Fields: ``prompt`` 1-10000 characters (required), ``negative_prompt``, ``aspect_ratio`` one of
  16:9 1:1 21:9 2:3 3:2 4:5 5:4 9:16 9:21 (default 1:1), ``seed`` 0-4294967294 (0 = random),
  ``output_format`` png (default)/jpeg/webp [3p mirror, gem]; sd3 png/jpeg only [3p]. ``style_preset``
  and its 17 values on core [3p gem, ComfyUI]; on sd3 [3p]; its absence on ultra [unv].
- sd3: ``model`` (sd3.5-large default, -large-turbo, -medium, sd3-large, -large-turbo, -medium),
  ``mode`` text-to-image/image-to-image, ``cfg_scale`` 1-10 [3p]; which sd3 ids are still served [unv].
  img2img: ``image`` (jpeg/png/webp) plus ``strength`` 0-1, required together; ultra img2img by sending
  ``image`` [3p]. That an ``image`` without ``mode=image-to-image`` is a 400, and every message text: [unv].
- Unknown fields answered 400 rather than ignored: [unv]. Body cap 10 MiB (413 past it) [3p mirror,
  "413 request too large"; the exact cap unv].
- Answers: raw bytes with ``finish-reason`` (SUCCESS/CONTENT_FILTERED) and ``seed`` headers, or JSON
  ``{"image", "finish_reason", "seed"}``; a filtered result is a 200 with the image blurred [3p:
  ComfyUI's client]. Errors ``{"id", "name", "errors": [...]}``: 400, 401, 402 (credits), 403
  ``content_moderation``, 413, 422, 429 (150 requests in 10 s), 500 [3p mirror]. ``GET
  /v1/user/balance`` → ``{"credits"}``: Stability's v1 "User" reference [3p].
"""

from __future__ import annotations

import asyncio
import base64
import functools
import io
import uuid
from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web
from PIL import Image as PILImage

from bot.core.imaging import sniff

ASPECT_RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
SIZES = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "9:16": (768, 1344),
    "21:9": (1536, 640),
    "9:21": (640, 1536),
    "3:2": (1216, 832),
    "2:3": (832, 1216),
    "5:4": (1152, 896),
    "4:5": (896, 1152),
}
SD3_MODELS = (
    "sd3.5-large",
    "sd3.5-large-turbo",
    "sd3.5-medium",
    "sd3-large",
    "sd3-large-turbo",
    "sd3-medium",
)
STYLE_PRESETS = (
    *("3d-model", "analog-film", "anime", "cinematic", "comic-book", "digital-art", "enhance"),
    *("fantasy-art", "isometric", "line-art", "low-poly", "modeling-compound", "neon-punk", "origami"),
    *("photographic", "pixel-art", "tile-texture"),
)
_COMMON = {"prompt", "negative_prompt", "aspect_ratio", "seed", "output_format"}
ALLOWED_FIELDS = {
    "core": _COMMON | {"style_preset"},
    "ultra": _COMMON | {"image", "strength"},
    "sd3": _COMMON | {"style_preset", "model", "mode", "image", "strength", "cfg_scale"},
}
MAX_SEED = 4_294_967_294
MAX_BODY = 10 * 1024 * 1024
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


@dataclass(frozen=True)
class Part:
    name: str
    data: bytes
    filename: str | None
    content_type: str | None


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    """Lower-case names."""
    parts: tuple[Part, ...] = ()

    @property
    def fields(self) -> dict[str, str]:
        """The text fields (parts without a filename)."""
        return {p.name: p.data.decode() for p in self.parts if p.filename is None}

    def file(self, name: str) -> Part | None:
        return next((p for p in self.parts if p.name == name and p.filename is not None), None)


@dataclass(frozen=True)
class Fault:
    kind: str  # "status" | "filtered" | "malformed" | "empty"
    status: int = 500
    name: str = ""
    errors: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)


@functools.lru_cache(maxsize=64)
def make_image(
    width: int, height: int, fmt: str = "png", colour: tuple[int, int, int] = (90, 60, 160)
) -> bytes:
    """A solid-colour image; cached, since the same few sizes come up again and again."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(buffer, format=_PIL_FORMATS[fmt], compress_level=1)
    return buffer.getvalue()


def error(status: int, name: str, *errors: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"id": uuid.uuid4().hex, "name": name, "errors": list(errors)}
    return web.json_response(body, status=status, headers=headers)


class FakeStability:
    """The fake server; ``base_url`` is what ``providers.stability.base_url`` should be."""

    def __init__(self, *, api_key: str = "sk-test", credits: float = 42.5, delay_s: float = 0.0) -> None:
        self.api_key = api_key
        self.credits = credits
        self.delay_s = delay_s
        self.requests: list[Recorded] = []
        self.served: list[bytes] = []
        """Image bytes sent back, in order."""
        self.faults: list[Fault] = []
        self.next_seed = 1234567
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def __aenter__(self) -> FakeStability:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/v2beta/stable-image/generate/{endpoint}", self._generate)
        app.router.add_get("/v1/user/balance", self._balance)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -------------------------------------------------------------------------------------- scripting

    def rate_limit_next(self, *, retry_after: str | None = "4") -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        message = "You have exceeded the rate limit of 150 requests within a 10 second period."
        self.faults.append(Fault("status", 429, "rate_limit_exceeded", (message,), headers))

    def fail_next(self, status: int = 500) -> None:
        self.faults.append(
            Fault("status", status, "internal_error", ("An unexpected server error occurred.",))
        )

    def moderate_next(self, status: int = 403) -> None:
        """The HTTP-error refusal: ``name: content_moderation``."""
        message = (
            "Your request was flagged by our content moderation system, as a result your request was denied."
        )
        self.faults.append(Fault("status", status, "content_moderation", (message,)))

    def status_next(self, status: int, name: str, message: str) -> None:
        self.faults.append(Fault("status", status, name, (message,)))

    def filter_next(self) -> None:
        """The HTTP-200 flag: the next image comes back blurred (a flat grey here) with
        ``finish_reason: CONTENT_FILTERED`` (JSON) or ``finish-reason: CONTENT_FILTERED`` (image/*)."""
        self.faults.append(Fault("filtered"))

    def malformed_next(self) -> None:
        self.faults.append(Fault("malformed"))

    def empty_next(self) -> None:
        """An HTTP 200 JSON answer without an image."""
        self.faults.append(Fault("empty"))

    # ----------------------------------------------------------------------------------------- routes

    def _denied(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if header != f"Bearer {self.api_key}":
            return error(401, "unauthorized", "authorization: invalid or missing header value")
        return None

    async def _balance(self, request: web.Request) -> web.Response:
        self.requests.append(Recorded(request.method, request.path, _headers(request)))
        return self._denied(request) or web.json_response({"credits": self.credits})

    async def _generate(self, request: web.Request) -> web.StreamResponse:
        endpoint = request.match_info["endpoint"]
        parts = await _read_parts(request) if request.content_type == "multipart/form-data" else ()
        recorded = Recorded(request.method, request.path, _headers(request), parts)
        self.requests.append(recorded)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        denied = self._denied(request)
        if denied is not None:
            return denied
        if endpoint not in ALLOWED_FIELDS:
            return error(404, "not_found", f"{request.path} not found")
        accept = request.headers.get("Accept", "image/*")
        if accept not in ("image/*", "application/json"):
            return error(400, "invalid_accept", "accept: must be either image/* or application/json")
        if request.content_type != "multipart/form-data":
            return error(400, "bad_request", "content-type: must be multipart/form-data")
        fault = self.faults.pop(0) if self.faults else None
        if fault is not None and fault.kind == "status":
            return error(fault.status, fault.name, *fault.errors, headers=fault.headers)
        problem = _validate(endpoint, recorded)
        if problem is not None:
            return error(400, "bad_request", problem)
        fields = recorded.fields
        fmt = fields.get("output_format", "png")
        seed = int(fields.get("seed") or 0) or self.next_seed
        if fault is not None and fault.kind == "malformed":
            return web.Response(status=200, text="{not json", content_type="application/json")
        if fault is not None and fault.kind == "empty":
            return web.json_response({"finish_reason": "SUCCESS", "seed": seed})
        filtered = fault is not None and fault.kind == "filtered"
        reference = recorded.file("image")
        if reference is not None:
            with PILImage.open(io.BytesIO(reference.data)) as src:
                width, height = src.size
        else:
            width, height = SIZES[fields.get("aspect_ratio", "1:1")]
        colour = (128, 128, 128) if filtered else (seed % 256, (seed >> 8) % 256, (seed >> 16) % 256)
        data = make_image(width, height, fmt, colour)
        self.served.append(data)
        finish = "CONTENT_FILTERED" if filtered else "SUCCESS"
        if accept == "image/*":
            headers = {"finish-reason": finish, "seed": str(seed)}
            return web.Response(body=data, content_type=f"image/{fmt}", headers=headers)
        return web.json_response(
            {"image": base64.b64encode(data).decode(), "finish_reason": finish, "seed": seed}
        )


def _validate(endpoint: str, recorded: Recorded) -> str | None:
    """The first problem the real API would report, or None."""
    fields = recorded.fields
    names = {p.name for p in recorded.parts}
    unknown = sorted(names - ALLOWED_FIELDS[endpoint])
    if unknown:
        return f"{unknown[0]}: unrecognized parameter for the {endpoint} endpoint"
    prompt = fields.get("prompt", "")
    if not prompt or len(prompt) > 10_000:
        return "prompt: is required and must be 1 to 10000 characters"
    if "aspect_ratio" in fields and fields["aspect_ratio"] not in ASPECT_RATIOS:
        return f"aspect_ratio: must be one of {', '.join(ASPECT_RATIOS)}"
    if "seed" in fields and not (fields["seed"].isdigit() and 0 <= int(fields["seed"]) <= MAX_SEED):
        return f"seed: must be an integer from 0 to {MAX_SEED}"
    formats = ("png", "jpeg") if endpoint == "sd3" else ("png", "jpeg", "webp")
    if fields.get("output_format", "png") not in formats:
        return f"output_format: must be one of {', '.join(formats)}"
    if "style_preset" in fields and fields["style_preset"] not in STYLE_PRESETS:
        return "style_preset: unknown preset"
    if endpoint == "sd3":
        if fields.get("model", "sd3.5-large") not in SD3_MODELS:
            return f"model: must be one of {', '.join(SD3_MODELS)}"
        if fields.get("mode", "text-to-image") not in ("text-to-image", "image-to-image"):
            return "mode: must be text-to-image or image-to-image"
        if "cfg_scale" in fields and not 1 <= float(fields["cfg_scale"]) <= 10:
            return "cfg_scale: must be between 1 and 10"
    img2img = fields.get("mode") == "image-to-image" or (endpoint == "ultra" and "image" in names)
    if img2img:
        image = recorded.file("image")
        if image is None:
            return "image: required for image-to-image"
        try:
            mime = sniff(image.data)
        except Exception:
            mime = ""
        if mime not in ("image/jpeg", "image/png", "image/webp"):  # GIF too: "jpeg, png, webp" (docs)
            return "image: must be a png, jpeg or webp file"
        if "strength" not in fields or not 0 <= float(fields["strength"]) <= 1:
            return "strength: required for image-to-image, between 0 and 1"
    elif "image" in names or "strength" in names:
        return "image: only allowed with mode image-to-image"
    return None


async def _read_parts(request: web.Request) -> tuple[Part, ...]:
    reader = await request.multipart()
    parts: list[Part] = []
    while True:
        part = await reader.next()
        if part is None:
            return tuple(parts)
        assert isinstance(part, BodyPartReader)
        data = await part.read()
        parts.append(Part(part.name or "", bytes(data), part.filename, part.headers.get("Content-Type")))


def _headers(request: web.Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}


def make_reference(width: int = 64, height: int = 48) -> bytes:
    return make_image(width, height, "png", (200, 120, 40))


__all__ = ["ASPECT_RATIOS", "FakeStability", "Recorded", "make_image", "make_reference"]
