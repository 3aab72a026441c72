"""A loopback fake of the Black Forest Labs API: submit, poll the returned ``polling_url``, fetch a sample.

``POST /v1/<model>`` (header ``x-key``) → ``{"id", "polling_url"}`` pointing back at this fake's
``GET /v1/get_result?id=``, which answers ``Pending`` (with ``progress`` when ``report_progress``) for
``pending_polls`` looks, then ``Ready`` with ``result.sample`` (a URL under ``/files`` that
``expire_files()`` makes stale), ``result.seed`` and ``result.prompt``. Validation follows BFL: FLUX.2
width/height in 16s (64 px up, at most 4 MP), flux-pro-1.1 width/height 256-1440 in 32s, Ultra and
Kontext an ``aspect_ratio`` in range; FastAPI-style 422 ``{"detail": [{"loc", "msg", "type"}]}``.

Scripting: :meth:`end_next` (``Request Moderated``, ``Content Moderated``, ``Error``, ``Failed``,
``Task not found`` instead of Ready), :meth:`fault` from the base (402, 429, 5xx, malformed JSON), and
``delay_s``.

Sources (per rule group; ``[unv]`` = not confirmed, ``[3p]`` = read only in a third-party copy). The
limits are read from ``tests/fakes/specs/bfl/endpoints.json`` (README there):

- FLUX.2 fields (``prompt`` required; ``input_image`` ... ``input_image_8``, four on [klein];
  ``width``/``height`` >= 64; ``safety_tolerance`` 0-5, default 2; ``output_format`` jpeg/png; the submit
  answer ``{id, polling_url, cost, input_mp, output_mp}``): docs.bfl.ai/api-reference/models/
  generate-or-edit-an-image-with-flux2-[pro] (and the [max], [flex], [klein] pages; generated from
  api.bfl.ai/openapi.json). Multiples of 16 and at most 4 MP: BFL's guides and skills repo [3p]; that
  the API refuses (422) rather than rounds other sizes, and that a fifth reference on [klein] is refused
  rather than ignored: [unv].
- flux-pro-1.1 ``width``/``height`` 256-1440 in 32s (default 1024x768), Ultra ``aspect_ratio`` between
  21:9 and 9:21 (default 16:9), Kontext ``aspect_ratio`` "between 21:9 and 9:21" (the SDK's own
  validator is looser, 1:4-4:1), Kontext ``input_image_2``..``_4`` ("Experimental Multiref") and its PNG
  default, ``safety_tolerance`` 0-6, ``output_format`` jpeg/png: BFL's SDK ``blackforest``
  0.1.4a1 (``types/inputs/*.py``).
- Reference images: "Base64 encoded image or URL" (docs.bfl.ai, SDK); which image types the API decodes
  (the fake takes jpeg/png/webp, no GIF): [unv]. A negative ``seed`` refused: [unv].
- Errors: 400/402/403/422/429/500/503 and the poll statuses ``Pending``, ``Ready``, ``Request
  Moderated``, ``Content Moderated``, ``Error``, ``Task not found``: help.bfl.ai "Why did my request
  fail?". The FastAPI 422 ``{"detail": [{"loc", "msg", "type"}]}`` body is FastAPI's (BFL's API is
  FastAPI-generated: ``operationId`` ``generate_flux_2_pro_v1_flux_2_pro_post``); its ``msg`` wording
  here, the 403 body and the 429 text: [unv]. ``Failed``: [unv].
- Polling: ``GET polling_url`` (``/v1/get_result?id=``) with ``x-key``; ``result.sample`` a signed URL
  valid for 10 minutes (SDK ``GenerationResult``); ``progress`` while Pending and ``details`` on
  moderation: [3p].
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.core.imaging import image_size, sniff
from tests.fakes.providers.loopback import LoopbackFake, json_error, make_image

SPEC: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "specs" / "bfl" / "endpoints.json").read_text()
)
"""The vendored per-endpoint limits (sources in the JSON and the module docstring)."""
FLUX2 = tuple(SPEC["flux2"]["endpoints"])
PRO = ("flux-pro-1.1",)
KONTEXT = tuple(SPEC["flux-kontext"]["endpoints"])
ASPECT_MODELS = {
    "flux-pro-1.1-ultra": (9 / 21, 21 / 9),
    "flux-kontext-pro": (9 / 21, 21 / 9),
    "flux-kontext-max": (9 / 21, 21 / 9),
}
FLUX2_REFERENCES = tuple(SPEC["flux2"]["reference_fields"])
KONTEXT_REFERENCES = tuple(SPEC["flux-kontext"]["reference_fields"])
SCALE = 16
INPUT_TYPES = ("image/jpeg", "image/png", "image/webp")
"""Reference types taken as base64 (not verified in BFL's docs [unv]; no GIF, as for every image API)."""
"""Samples are served 1/16 of the asked size (tiny, real images)."""
DEFAULT_SEED = 1234567


@dataclass
class _Task:
    prompt: str
    seed: int
    width: int
    height: int
    fmt: str
    end: str = "Ready"
    polls: int = 0


def _missing(field: str) -> dict[str, Any]:
    return {"type": "missing", "loc": ["body", field], "msg": "Field required", "input": None}


def _invalid(field: str, message: str, value: Any) -> dict[str, Any]:
    return {"type": "value_error", "loc": ["body", field], "msg": message, "input": value}


class FakeBFL(LoopbackFake):
    """``base_url`` is the origin (BFL paths start with ``/v1``)."""

    def __init__(
        self,
        *,
        api_key: str = "bfl-test-key-0123456789",
        pending_polls: int = 2,
        report_progress: bool = True,
        delay_s: float = 0.0,
    ) -> None:
        super().__init__(delay_s=delay_s)
        self.api_key = api_key
        self.pending_polls = pending_polls
        self.report_progress = report_progress
        self.polling_url: str | None = None
        """When set, submits hand out this polling URL instead of the fake's own."""
        self.tasks: dict[str, _Task] = {}
        self.served: list[bytes] = []
        self._ends: list[str] = []

    @property
    def base_url(self) -> str:
        return self.origin

    def _routes(self, app: web.Application) -> None:
        for model in (*FLUX2, *PRO, *ASPECT_MODELS):
            app.router.add_post(f"/v1/{model}", self._submit)
        app.router.add_get("/v1/get_result", self._get_result)
        app.router.add_get("/v1/credits", self._credits)

    # -------------------------------------------------------------------------------------- scripting

    def end_next(self, status: str) -> None:
        """The next submitted task ends in ``status`` instead of Ready."""
        self._ends.append(status)

    def rate_limit_next(self, retry_after: str | None = "5") -> None:
        headers = {"Retry-After": retry_after} if retry_after else {}
        self.fault(429, {"detail": "You have exceeded the number of active tasks (24)."}, headers=headers)

    # ----------------------------------------------------------------------------------------- routes

    def _denied(self, request: web.Request) -> web.Response | None:
        if request.headers.get("x-key") != self.api_key:
            return json_error(403, {"detail": "Not authenticated - Invalid Authentication"})
        return None

    async def _credits(self, request: web.Request) -> web.Response:
        denied = self._denied(request)
        return denied if denied is not None else web.json_response({"credits": 42.5})

    async def _submit(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        try:
            body = await request.json()
        except ValueError:
            return json_error(
                422, {"detail": [{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error"}]}
            )
        if not isinstance(body, dict):
            return json_error(
                422,
                {
                    "detail": [
                        {"type": "model_attributes_type", "loc": ["body"], "msg": "Input should be an object"}
                    ]
                },
            )
        model = request.path.removeprefix("/v1/")
        problems = _validate(model, body)
        if problems:
            return json_error(422, {"detail": problems})
        width, height = self._size(model, body)
        task_id = self.next_id("task-")
        seed = body.get("seed", DEFAULT_SEED)
        end = self._ends.pop(0) if self._ends else "Ready"
        default_format = SPEC["flux-kontext"]["output_format_default"] if model in KONTEXT else "jpeg"
        self.tasks[task_id] = _Task(
            body["prompt"], seed, width, height, body.get("output_format", default_format), end
        )
        polling_url = self.polling_url or f"{self.origin}/v1/get_result?id={task_id}"
        answer: dict[str, Any] = {"id": task_id, "polling_url": polling_url, "cost": 3.0}
        if model in FLUX2:
            answer |= {"input_mp": 0.0, "output_mp": round(width * height / 1e6, 2)}
        return web.json_response(answer)

    async def _get_result(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        task_id = request.query.get("id", "")
        task = self.tasks.get(task_id)
        if task is None or task.end == "Task not found":
            return web.json_response({"id": task_id, "status": "Task not found"})
        task.polls += 1
        if task.polls <= self.pending_polls:
            progress = round(task.polls / (self.pending_polls + 1), 3) if self.report_progress else None
            return web.json_response(
                {"id": task_id, "status": "Pending", "result": None, "progress": progress}
            )
        if task.end != "Ready":
            details = {"Moderation Reasons": ["Derivative Works Filter"]} if "Moderated" in task.end else None
            return web.json_response({"id": task_id, "status": task.end, "result": None, "details": details})
        image = make_image(max(1, task.width // SCALE), max(1, task.height // SCALE), task.fmt)
        self.served.append(image)
        url = self.add_file(image, f"image/{task.fmt}")
        result = {
            "sample": url,
            "prompt": task.prompt,
            "seed": task.seed,
            "start_time": 1.0,
            "end_time": 5.0,
            "duration": 4.0,
        }
        return web.json_response({"id": task_id, "status": "Ready", "result": result, "progress": None})

    def _size(self, model: str, body: dict[str, Any]) -> tuple[int, int]:
        if "input_image" in body and model not in (*PRO, "flux-pro-1.1-ultra"):
            return _reference_size(body["input_image"])
        if model in ASPECT_MODELS:
            w, h = (
                int(x)
                for x in str(body.get("aspect_ratio", "16:9" if model.endswith("ultra") else "1:1")).split(
                    ":"
                )
            )
            return (1024, round(1024 * h / w)) if w >= h else (round(1024 * w / h), 1024)
        default = (1024, 768) if model in PRO else (1024, 1024)
        return int(body.get("width", default[0])), int(body.get("height", default[1]))


def _validate(model: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        problems.append(_missing("prompt"))
    seed = body.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        problems.append(_invalid("seed", "Input should be a valid non-negative integer", seed))
    if body.get("output_format", "jpeg") not in ("jpeg", "png"):
        problems.append(_invalid("output_format", "Input should be 'jpeg' or 'png'", body["output_format"]))
    low_tol, high_tol = (
        SPEC["flux2"]["safety_tolerance"] if model in FLUX2 else SPEC["flux-pro-1.1"]["safety_tolerance"]
    )
    tolerance = body.get("safety_tolerance", 2)
    if not isinstance(tolerance, int) or isinstance(tolerance, bool) or not low_tol <= tolerance <= high_tol:
        message = f"Input should be less than or equal to {high_tol}"
        problems.append(_invalid("safety_tolerance", message, tolerance))
    if model in FLUX2:
        flux2 = SPEC["flux2"]
        problems += _check_size(
            body,
            multiple=flux2["multiple_of"],
            low=flux2["width_height_minimum"],
            high=flux2["max_side"],
            max_pixels=flux2["max_pixels"],
        )
        allowed = FLUX2_REFERENCES[: flux2["max_references"].get(model, len(FLUX2_REFERENCES))]
        problems += _check_references(body, allowed, FLUX2_REFERENCES)
    elif model in PRO:
        problems += _check_size(body, multiple=32, low=256, high=1440, max_pixels=None)
    else:
        low, high = ASPECT_MODELS[model]
        ratio = body.get("aspect_ratio")
        if ratio is not None and not _ratio_ok(ratio, low, high):
            problems.append(_invalid("aspect_ratio", "Aspect ratio must be between the allowed range", ratio))
        references = KONTEXT_REFERENCES if model in KONTEXT else ("input_image",)
        problems += _check_references(body, references, references)
    return problems


def _check_references(
    body: dict[str, Any], allowed: tuple[str, ...], known: tuple[str, ...]
) -> list[dict[str, Any]]:
    problems = []
    for field in known:
        if field not in body or body[field] is None:
            continue
        if field not in allowed:
            problems.append(_invalid(field, f"This model takes at most {len(allowed)} input images", "..."))
        elif not _image_ok(body[field]):
            problems.append(_invalid(field, "Input should be a base64 image or an https URL", "..."))
    return problems


def _check_size(
    body: dict[str, Any], *, multiple: int, low: int, high: int, max_pixels: int | None
) -> list[dict[str, Any]]:
    problems = []
    for field in ("width", "height"):
        value = body.get(field)
        if value is None:
            continue
        if not isinstance(value, int) or value % multiple or not low <= value <= high:
            message = f"Input should be a multiple of {multiple} between {low} and {high}"
            problems.append(_invalid(field, message, value))
    width, height = body.get("width"), body.get("height")
    if max_pixels and isinstance(width, int) and isinstance(height, int) and width * height > max_pixels:
        problems.append(_invalid("width", "Image must be at most 4 megapixels", width))
    return problems


def _ratio_ok(value: Any, low: float, high: float) -> bool:
    try:
        w, h = (int(x) for x in str(value).split(":"))
    except ValueError:
        return False
    return w > 0 and h > 0 and low - 1e-9 <= w / h <= high + 1e-9


def _image_ok(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if value.startswith("https://"):
        return True
    try:
        data = base64.b64decode(value, validate=True)
        image_size(data)
        return sniff(data) in INPUT_TYPES
    except (binascii.Error, ValueError, Exception):
        return False


def _reference_size(value: str) -> tuple[int, int]:
    try:
        width, height = image_size(base64.b64decode(value))
    except Exception:
        return 1024, 1024
    return width * SCALE, height * SCALE
