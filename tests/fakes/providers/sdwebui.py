"""A loopback fake of the AUTOMATIC1111 / Forge ``/sdapi/v1`` API (aiohttp.web on 127.0.0.1).

Like the real server: one job at a time behind a queue lock; ``txt2img``/``img2img`` block until the
images are done while ``GET progress`` reports a rising fraction and a preview; ``POST interrupt``
makes the running job return early with what it has; optional HTTP Basic auth (``--api-auth``);
errors in A1111's envelope ``{"error", "detail", "body", "errors"}`` and FastAPI's 422 shape.

Held to upstream's rules (sources and licence: ``tests/fakes/specs/a1111/README.md``): request fields
and types come from ``tests/fakes/specs/a1111/request_fields.json`` (pydantic v1 coercions; unknown
fields ignored as upstream does, and recorded in ``ignored_fields``); a grid comes first only when
``save_images`` is true, grids are returned (``return_grid``) and more than one image was made, with
``info.index_of_first_image`` 1; extension outputs (:meth:`extension_images_next`, e.g. ControlNet
detect maps) are appended at the end; an unknown sampler is replaced by the default one (1.10) or is
``404 "Sampler not found"`` (``version="1.9"``)::

    async with FakeSDWebUI(auth="user:pass", job_s=0.2) as fake:
        fake.fail_next(500)       # also fail_next(429, retry_after="7"), malformed_next(), empty_next()
        fake.requests             # every request; fake.jobs: the generation bodies; fake.served: images
        fake.extras_requests      # Extras upscales (``tests/fakes/providers/sdwebui_extras.py``)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import functools
import io
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiohttp import web
from PIL import Image as PILImage

from tests.fakes.providers import sdwebui_extras

API = "/sdapi/v1"
DEFAULT_MODELS = (
    ("sd_xl_base_1.0.safetensors [31e35c80fc]", "sd_xl_base_1.0"),
    ("v1-5-pruned-emaonly.safetensors [6ce0161689]", "v1-5-pruned-emaonly"),
)
SAMPLERS = ("DPM++ 2M", "DPM++ SDE", "Euler a", "Euler", "DDIM", "UniPC")
"""The first is the default one (1.10: ``samplers[0]``), which replaces an unknown name."""
SCHEDULERS = ("Automatic", "Uniform", "Karras", "Exponential", "Polyexponential", "SGM Uniform", "Simple")
SPEC: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "specs" / "a1111" / "request_fields.json").read_text()
)
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
        return_grid: bool = True,
        grid_only_if_multiple: bool = True,
        version: Literal["1.9", "1.10"] = "1.10",
        seed_override: int | None = None,
        image_format: Literal["png", "jpeg", "webp"] = "png",
        previews: bool = True,
        host: str = "127.0.0.1",
    ) -> None:
        self.auth = auth
        self.job_s = job_s
        self.models = models
        self.return_grid = return_grid
        """The ``return_grid`` option (upstream default on); a grid is made only with ``save_images``."""
        self.grid_only_if_multiple = grid_only_if_multiple
        self.version = version
        self.seed_override = seed_override
        """Report this seed whatever was asked (some scripts and extensions change the seed)."""
        self.image_format = image_format
        self.previews = previews
        self.requests: list[Recorded] = []
        self.jobs: list[Recorded] = []
        """txt2img/img2img requests that passed auth, in arrival order."""
        self.served: list[bytes] = []
        """Every generated image returned (grids and extension outputs excluded), in order."""
        self.extras: list[bytes] = []
        """Extension outputs returned after the generated images."""
        self.omit_info: set[str] = set()
        """``info`` keys to leave out (a server of another lineage or age that does not report them)."""
        self.ignored_fields: list[str] = []
        """Request fields the request models do not have (upstream ignores them silently)."""
        self._extension_images: list[int] = []
        self.responses: list[dict[str, Any]] = []
        """The JSON bodies of successful generations."""
        self.faults: list[Fault] = []
        self.upscalers: set[str] = {name for name, _, _ in sdwebui_extras.UPSCALERS}
        """The Extras upscalers this server has (``GET upscalers``); remove some to test choices."""
        self.extras_requests: list[dict[str, Any]] = []
        """Valid ``extra-single-image`` bodies; ``upscaled``: the images those answered."""
        self.upscaled: list[bytes] = []
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
        app.router.add_get(f"{API}/upscalers", functools.partial(sdwebui_extras.upscalers, self))
        app.router.add_post(
            f"{API}/extra-single-image", functools.partial(sdwebui_extras.extra_single_image, self)
        )
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

    def extension_images_next(self, count: int = 1) -> None:
        """The next job's scripts append ``count`` images at the end (ControlNet's detect maps)."""
        self._extension_images.append(count)

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
            params, ignored = _validate(body, img2img=img2img)
        except _Invalid as exc:
            return _validation_error(exc.loc, exc.msg, exc.type)
        self.ignored_fields.extend(ignored)
        self.jobs.append(recorded)
        sampler = self._sampler(params.get("sampler_name") or params.get("sampler_index"))
        if sampler is None:
            return a1111_error(404, "Sampler not found")
        params["sampler_name"] = sampler
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

    def _sampler(self, name: str | None) -> str | None:
        """The sampler the job runs with; None for 1.9's 404 (1.10 falls back to the default)."""
        if self.version == "1.9":
            return name if name in SAMPLERS else None
        name = name or SAMPLERS[0]
        for scheduler in SCHEDULERS:
            name = name.removesuffix(" " + scheduler)
        return name if name in SAMPLERS else SAMPLERS[0]

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
        infotexts = [f"{params['prompt']}\nSteps: {params.get('steps', 50)}, Seed: {s}" for s in seeds]
        index_of_first_image = 0
        # processing.py: do_not_save_grid = not save_images; grid_only_if_multiple counts the images made
        wanted_grid = bool(params.get("save_images")) and not (count < 2 and self.grid_only_if_multiple)
        if self.return_grid and wanted_grid:
            cols = min(count, params["batch_size"]) or 1
            rows = -(-count // cols)
            grid = make_image(width * cols, height * rows, (0, 0, 0), self.image_format)
            encoded.insert(0, base64.b64encode(grid).decode())
            infotexts.insert(0, infotexts[0])
            index_of_first_image = 1
        for index in range(self._extension_images.pop(0) if self._extension_images else 0):
            extra = make_image(width, height, (255, 255, 255 - 40 * index), self.image_format)
            self.extras.append(extra)
            encoded.append(base64.b64encode(extra).decode())
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
            "sampler_name": params["sampler_name"],
            "cfg_scale": params.get("cfg_scale", 7.0),
            "steps": params.get("steps", 50),
            "batch_size": params["batch_size"],
            "sd_model_name": model_name,
            "denoising_strength": params.get("denoising_strength"),
            "index_of_first_image": index_of_first_image,
            "infotexts": infotexts,
            "job_timestamp": "20260101120000",
        }
        info = {key: value for key, value in info.items() if key not in self.omit_info}
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

_COERCE_ERRORS = {
    "integer": ("value is not a valid integer", "type_error.integer"),
    "number": ("value is not a valid float", "type_error.float"),
    "boolean": ("value could not be parsed to a boolean", "type_error.bool"),
    "string": ("str type expected", "type_error.str"),
    "array": ("value is not a valid list", "type_error.list"),
    "object": ("value is not a valid dict", "type_error.dict"),
}
_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no"}


def _coerce(kind: str, value: Any) -> Any:
    """Pydantic v1's lax conversion to ``kind``; raises ValueError where pydantic would fail."""
    if value is None:
        return None  # every generated field is Optional
    if kind == "integer":
        if isinstance(value, bool | int):
            return int(value)
        if isinstance(value, float) or (isinstance(value, str) and value.strip()):
            return int(float(value)) if isinstance(value, float) else int(value)
    elif kind == "number":
        if isinstance(value, bool | int | float):
            return float(value)
        if isinstance(value, str):
            return float(value)
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
    elif kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    elif kind == "array":
        if isinstance(value, list | tuple):
            return list(value)
    elif kind == "object" and isinstance(value, dict):
        return value
    raise ValueError(kind)


def _validate(body: dict[str, Any], *, img2img: bool) -> tuple[dict[str, Any], list[str]]:
    """The request model's checks (types, with its defaults filled in) and the fields it ignores."""
    fields: dict[str, Any] = SPEC["img2img" if img2img else "txt2img"]["properties"]
    params = {name: spec["default"] for name, spec in fields.items()}
    ignored = [name for name in body if name not in fields]
    for name, value in body.items():
        if name not in fields:
            continue
        kind = fields[name]["type"]
        try:
            params[name] = _coerce(kind, value)
        except (ValueError, TypeError):
            msg, type_ = _COERCE_ERRORS[kind]
            raise _Invalid(name, msg, type_) from None
    for name in ("seed", "batch_size", "n_iter", "steps", "width", "height"):
        if params[name] is None:
            params[name] = fields[name]["default"]
    return params, ignored


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
