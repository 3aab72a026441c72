"""A loopback fake of the AUTOMATIC1111 / Forge ``/sdapi/v1`` API (aiohttp.web on 127.0.0.1).

Like the real server: one job at a time behind a queue lock; ``txt2img``/``img2img`` block until the
images are done while ``GET progress`` reports a rising fraction and a preview; ``POST interrupt``
makes the running job return early with what it has; optional HTTP Basic auth (``--api-auth``);
errors in A1111's envelope ``{"error", "detail", "body", "errors"}`` and FastAPI's 422 shape::

    async with FakeSDWebUI(auth="user:pass", job_s=0.2) as fake:
        fake.fail_next(500)       # also fail_next(429, retry_after="7"), malformed_next(), empty_next()
        fake.requests             # every request; fake.jobs: the generation bodies; fake.served: images
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import io
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from PIL import Image as PILImage

API = "/sdapi/v1"
DEFAULT_MODELS = (
    ("sd_xl_base_1.0.safetensors [31e35c80fc]", "sd_xl_base_1.0"),
    ("v1-5-pruned-emaonly.safetensors [6ce0161689]", "v1-5-pruned-emaonly"),
)
SAMPLERS = ("Euler", "Euler a", "DPM++ 2M", "DPM++ SDE", "DDIM", "UniPC")
TICKS = 5
"""Progress steps a fake job goes through (spread over ``job_s``)."""
_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Lower-case names."""
    json: Any = None


@dataclass(frozen=True)
class Fault:
    kind: Literal["status", "malformed", "empty"]
    status: int = 500
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def make_image(width: int, height: int, colour: tuple[int, int, int], fmt: str = "png") -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(buffer, format=_FORMATS[fmt])
    return buffer.getvalue()


def colour_for(seed: int) -> tuple[int, int, int]:
    return (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256)


def a1111_error(status: int, detail: str, error: str = "HTTPException") -> web.Response:
    """A1111's exception envelope."""
    return web.json_response({"error": error, "detail": detail, "body": "", "errors": ""}, status=status)


class _Invalid(Exception):
    def __init__(self, loc: str, msg: str, type_: str) -> None:
        self.loc, self.msg, self.type = loc, msg, type_


class FakeSDWebUI:
    """The fake server; ``base_url`` is its root (``http://127.0.0.1:<port>``)."""

    def __init__(
        self,
        *,
        auth: str | None = None,
        job_s: float = 0.0,
        models: tuple[tuple[str, str], ...] = DEFAULT_MODELS,
        return_grid: bool = False,
        seed_override: int | None = None,
        image_format: Literal["png", "jpeg", "webp"] = "png",
        previews: bool = True,
        host: str = "127.0.0.1",
    ) -> None:
        self.auth = auth
        self.job_s = job_s
        self.models = models
        self.return_grid = return_grid
        self.seed_override = seed_override
        """Report this seed whatever was asked (some scripts and extensions change the seed)."""
        self.image_format = image_format
        self.previews = previews
        self.requests: list[Recorded] = []
        self.jobs: list[Recorded] = []
        """txt2img/img2img requests that passed auth, in arrival order."""
        self.served: list[bytes] = []
        """Every image returned (grids excluded), in order."""
        self.responses: list[dict[str, Any]] = []
        """The JSON bodies of successful generations."""
        self.faults: list[Fault] = []
        self.interrupts = 0
        self._host = host
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._lock = asyncio.Lock()
        self._progress = 0.0
        self._job_count = 0
        self._step = 0
        self._interrupted = False
        self._interrupt_event = asyncio.Event()
        self._current_image: str | None = None
        self._random_seeds = itertools.count(1_234_567, 1_111)

    # ------------------------------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def __aenter__(self) -> FakeSDWebUI:
        app = web.Application(middlewares=[self._record], client_max_size=64 * 1024 * 1024)
        app.router.add_post(f"{API}/txt2img", self._txt2img)
        app.router.add_post(f"{API}/img2img", self._img2img)
        app.router.add_get(f"{API}/progress", self._progress_route)
        app.router.add_post(f"{API}/interrupt", self._interrupt)
        app.router.add_get(f"{API}/sd-models", self._sd_models)
        app.router.add_get(f"{API}/options", self._options)
        app.router.add_get(f"{API}/samplers", self._samplers)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, 0).start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -------------------------------------------------------------------------------------- scripting

    def fail_next(
        self, status: int = 500, *, retry_after: str | None = None, detail: str | None = None
    ) -> None:
        """The next generation gets ``status`` (429 is what a rate-limiting proxy in front would say)."""
        text = detail or {500: "RuntimeError: CUDA out of memory", 503: "Service Unavailable"}.get(
            status, f"Error {status}"
        )
        headers = {"Retry-After": retry_after} if retry_after else {}
        body = {
            "error": "RuntimeError" if status >= 500 else "HTTPException",
            "detail": text,
            "body": "",
            "errors": "",
        }
        self.faults.append(Fault("status", status, body, headers))

    def malformed_next(self) -> None:
        self.faults.append(Fault("malformed"))

    def empty_next(self) -> None:
        """HTTP 200 with no images (send_images false, or a script that ate them)."""
        self.faults.append(Fault("empty"))

    # ------------------------------------------------------------------------------------------- HTTP

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
        recorded = Recorded(
            request.method,
            request.path,
            dict(request.query),
            {k.lower(): v for k, v in request.headers.items()},
            body,
        )
        self.requests.append(recorded)
        if self.auth is not None:
            denied = self._check_auth(request.headers.get("Authorization", ""))
            if denied is not None:
                return denied
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPNotFound:
            return web.json_response({"detail": "Not Found"}, status=404)
        except web.HTTPMethodNotAllowed:
            return web.json_response({"detail": "Method Not Allowed"}, status=405)
        return response

    def _check_auth(self, header: str) -> web.Response | None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return web.json_response(
                {"detail": "Not authenticated"}, status=401, headers={"WWW-Authenticate": "Basic"}
            )
        try:
            given = base64.b64decode(token, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            given = ""
        if given != self.auth:
            response = a1111_error(401, "Incorrect username or password")
            response.headers["WWW-Authenticate"] = "Basic"
            return response
        return None

    async def _txt2img(self, request: web.Request) -> web.Response:
        return await self._generate(request, img2img=False)

    async def _img2img(self, request: web.Request) -> web.Response:
        return await self._generate(request, img2img=True)

    async def _generate(self, request: web.Request, *, img2img: bool) -> web.Response:
        recorded = self.requests[-1]
        body = recorded.json
        if not isinstance(body, dict):
            return _validation_error("body", "value is not a valid dict", "type_error.dict")
        try:
            params = _validate(body, img2img=img2img)
        except _Invalid as exc:
            return _validation_error(exc.loc, exc.msg, exc.type)
        self.jobs.append(recorded)
        sampler = params.get("sampler_name")
        if sampler is not None and sampler not in SAMPLERS:
            return a1111_error(404, "Sampler not found")
        if img2img:
            if not params.get("init_images"):
                return a1111_error(404, "Init image not found")
            for encoded in [*params["init_images"], *([params["mask"]] if params.get("mask") else [])]:
                if not _is_image(encoded):
                    return a1111_error(500, "Invalid encoded image", error="HTTPException")
        if self.faults:
            fault = self.faults.pop(0)
            if fault.kind == "status":
                return web.json_response(fault.body or {}, status=fault.status, headers=fault.headers)
            if fault.kind == "malformed":
                return web.Response(text="<html>Internal Server Error", content_type="text/html")
            return web.json_response({"images": [], "parameters": body, "info": "{}"})
        async with self._lock:  # A1111's queue_lock: one job at a time
            return await self._run(params, body)

    async def _run(self, params: dict[str, Any], body: dict[str, Any]) -> web.Response:
        width, height = params["width"], params["height"]
        count = params["batch_size"] * params["n_iter"]
        seed = params["seed"] if params["seed"] != -1 else next(self._random_seeds)
        if self.seed_override is not None:
            seed = self.seed_override
        seeds = [seed + i for i in range(count)]
        self._interrupted, self._job_count, self._step, self._progress = False, 1, 0, 0.0
        self._interrupt_event = asyncio.Event()
        try:
            for tick in range(1, TICKS + 1):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._interrupt_event.wait(), self.job_s / TICKS)
                if self._interrupted:
                    break
                self._step, self._progress = tick, tick / TICKS
                if self.previews:
                    preview = make_image(16, 16, (tick * 40 % 256, 80, 80), "jpeg")
                    self._current_image = base64.b64encode(preview).decode()
        finally:
            self._job_count, self._progress, self._current_image = 0, 0.0, None
        images = [make_image(width, height, colour_for(s), self.image_format) for s in seeds]
        self.served.extend(images)
        encoded = [base64.b64encode(image).decode() for image in images]
        if self.return_grid and count > 1:
            grid = make_image(width * 2, height, (0, 0, 0), self.image_format)
            encoded.insert(0, base64.b64encode(grid).decode())
        checkpoint = (params.get("override_settings") or {}).get("sd_model_checkpoint")
        model_name = next(
            (name for title, name in self.models if checkpoint in (title, name)), self.models[0][1]
        )
        info = {
            "prompt": params["prompt"],
            "all_prompts": [params["prompt"]] * count,
            "negative_prompt": params.get("negative_prompt", ""),
            "all_negative_prompts": [params.get("negative_prompt", "")] * count,
            "seed": seeds[0],
            "all_seeds": seeds,
            "subseed": 42,
            "all_subseeds": [42 + i for i in range(count)],
            "width": width,
            "height": height,
            "sampler_name": params.get("sampler_name") or "Euler",
            "cfg_scale": params.get("cfg_scale", 7.0),
            "steps": params.get("steps", 50),
            "batch_size": params["batch_size"],
            "sd_model_name": model_name,
            "denoising_strength": params.get("denoising_strength"),
            "infotexts": [f"{params['prompt']}\nSteps: {params.get('steps', 50)}, Seed: {s}" for s in seeds],
            "job_timestamp": "20260101120000",
        }
        answer = {"images": encoded, "parameters": body, "info": json.dumps(info)}
        self.responses.append(answer)
        return web.json_response(answer)

    async def _progress_route(self, request: web.Request) -> web.Response:
        skip = request.query.get("skip_current_image", "false").lower() == "true"
        return web.json_response(
            {
                "progress": self._progress,
                "eta_relative": 0.0 if not self._job_count else self.job_s * (1 - self._progress),
                "state": {
                    "skipped": False,
                    "interrupted": self._interrupted,
                    "job": "",
                    "job_count": self._job_count,
                    "job_timestamp": "20260101120000",
                    "job_no": 0,
                    "sampling_step": self._step,
                    "sampling_steps": TICKS,
                },
                "current_image": None if skip else self._current_image,
                "textinfo": None,
            }
        )

    async def _interrupt(self, request: web.Request) -> web.Response:
        self.interrupts += 1
        if self._job_count:
            self._interrupted = True
            self._interrupt_event.set()
        return web.json_response({})

    async def _sd_models(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "title": title,
                    "model_name": name,
                    "hash": title[-11:-1],
                    "sha256": None,
                    "filename": f"/models/Stable-diffusion/{name}.safetensors",
                    "config": None,
                }
                for title, name in self.models
            ]
        )

    async def _options(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"sd_model_checkpoint": self.models[0][0], "samples_format": self.image_format}
        )

    async def _samplers(self, request: web.Request) -> web.Response:
        return web.json_response([{"name": name, "aliases": [], "options": {}} for name in SAMPLERS])


# ------------------------------------------------------------------------------------- validation

_INT_FIELDS = ("seed", "subseed", "batch_size", "n_iter", "steps", "width", "height")
_NUMBER_FIELDS = ("cfg_scale", "denoising_strength", "subseed_strength")
_STR_FIELDS = ("prompt", "negative_prompt", "sampler_name", "sampler_index", "scheduler", "mask")


def _validate(body: dict[str, Any], *, img2img: bool) -> dict[str, Any]:
    """Pydantic's checks on the request model (types), with A1111's defaults filled in."""
    params: dict[str, Any] = {
        "prompt": "",
        "seed": -1,
        "batch_size": 1,
        "n_iter": 1,
        "steps": 50,
        "width": 512,
        "height": 512,
        **body,
    }
    for name in _INT_FIELDS:
        value = params.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise _Invalid(name, "value is not a valid integer", "type_error.integer")
    for name in _NUMBER_FIELDS:
        value = params.get(name)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise _Invalid(name, "value is not a valid float", "type_error.float")
    for name in _STR_FIELDS:
        value = params.get(name)
        if value is not None and not isinstance(value, str):
            raise _Invalid(name, "str type expected", "type_error.str")
    if not isinstance(params.get("override_settings") or {}, dict):
        raise _Invalid("override_settings", "value is not a valid dict", "type_error.dict")
    if img2img and not isinstance(params.get("init_images") or [], list):
        raise _Invalid("init_images", "value is not a valid list", "type_error.list")
    if not 1 <= params["batch_size"] <= 8:
        raise _Invalid("batch_size", "ensure this value is less than or equal to 8", "value_error.number")
    return params


def _validation_error(loc: str, msg: str, type_: str) -> web.Response:
    return web.json_response({"detail": [{"loc": ["body", loc], "msg": msg, "type": type_}]}, status=422)


def _is_image(encoded: object) -> bool:
    if not isinstance(encoded, str):
        return False
    payload = encoded.split(",", 1)[1] if encoded.startswith("data:") else encoded
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        with PILImage.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception:
        return False
    return True
