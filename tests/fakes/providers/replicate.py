"""A loopback fake of Replicate's predictions API.

``POST /v1/models/{owner}/{name}/predictions`` (``{"input"}``) and ``POST /v1/predictions``
(``{"version", "input"}``; a ``model`` key is 422 "Additional property model is not allowed"), Bearer
token, ``Prefer: wait[=1..60]``. With ``Prefer: wait`` and ``processing_polls == 0`` (a fast model) the
answer is the finished prediction; otherwise it is ``starting`` and ``GET /v1/predictions/{id}`` (the
``urls.get`` it hands out) answers ``processing`` with tqdm-style ``logs`` for ``processing_polls``
looks, then ``succeeded``. Outputs are URLs under ``/files`` (``expire_files()`` makes them stale): a
list or a single URL, as each model's output schema says. Inputs are checked against each catalogue
model's published input schema, written out in ``tests/fakes/specs/replicate/models.json`` (sources and
what is unverified: the README there): types, enums, minimum/maximum, required ``prompt``, image inputs
as URIs, with problem+json 422 ``invalid_fields``. Unknown inputs are ignored (whether Replicate rejects
them is unverified) and recorded in ``ignored_inputs``.

Scripting: :meth:`fail_prediction_next` (``failed`` with an error, e.g. NSFW), :meth:`cancel_next`,
:meth:`empty_output_next`, :meth:`rate_limit_next` (429 ``Request was throttled ... ~30s``), the base's
:meth:`fault` (5xx, malformed JSON), ``delay_s``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes.providers.loopback import LoopbackFake, json_error, make_image

SPEC: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "specs" / "replicate" / "models.json").read_text()
)
SCHEMAS: dict[str, dict[str, Any]] = SPEC["models"]
VERSION = "5599ed30703defd1d160a25a63321b4dec97101d98b4674bcc56e41f62f35637"
VERSIONS = {VERSION: "black-forest-labs/flux-schnell"}
DEFAULT_SEED = 42424
_PREFER = re.compile(r"wait(?:=(\d+))?")


def problem(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"title": title, "detail": detail, "status": status, **extra}


class FakeReplicate(LoopbackFake):
    """``base_url`` ends in ``/v1``."""

    def __init__(
        self, *, api_key: str = "r8_test_token_0123456789", processing_polls: int = 0, delay_s: float = 0.0
    ) -> None:
        super().__init__(delay_s=delay_s)
        self.api_key = api_key
        self.processing_polls = processing_polls
        """0: a fast model (finished within Prefer: wait); more: looks at urls.get before it is done."""
        self.predictions: dict[str, dict[str, Any]] = {}
        self.cancelled: list[str] = []
        self.served: list[bytes] = []
        self.ignored_inputs: list[str] = []
        """Input keys the model's schema does not have."""
        self._ends: list[tuple[str, str | None]] = []
        self._polls: dict[str, int] = {}

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/models/{owner}/{name}/predictions", self._create_for_model)
        app.router.add_post("/v1/predictions", self._create_for_version)
        app.router.add_get("/v1/predictions/{id}", self._get)
        app.router.add_post("/v1/predictions/{id}/cancel", self._cancel)
        app.router.add_get("/v1/account", self._account)

    # -------------------------------------------------------------------------------------- scripting

    def fail_prediction_next(
        self, error: str = "NSFW content detected. Try running it again, or try a different prompt."
    ) -> None:
        self._ends.append(("failed", error))

    def cancel_next(self) -> None:
        self._ends.append(("canceled", None))

    def empty_output_next(self) -> None:
        self._ends.append(("empty", None))

    def rate_limit_next(self, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after else {}
        body = problem(429, "Request was throttled", "Request was throttled. Your rate limit resets in ~30s.")
        self.fault(429, body, headers=headers)

    # ----------------------------------------------------------------------------------------- routes

    def _denied(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            body = problem(401, "Unauthenticated", "You did not pass a valid authentication token")
            return json_error(401, body)
        return None

    async def _account(self, request: web.Request) -> web.Response:
        denied = self._denied(request)
        return (
            denied
            if denied is not None
            else web.json_response({"type": "user", "username": "easel", "name": "Easel"})
        )

    async def _create_for_model(self, request: web.Request) -> web.Response:
        model = f"{request.match_info['owner']}/{request.match_info['name']}"
        if model not in SCHEMAS:
            return json_error(404, problem(404, "Not found", "The requested resource could not be found."))
        return await self._create(
            request, model, allowed={"input", "webhook", "webhook_events_filter", "stream"}
        )

    async def _create_for_version(self, request: web.Request) -> web.Response:
        return await self._create(
            request, None, allowed={"version", "input", "webhook", "webhook_events_filter", "stream"}
        )

    async def _create(self, request: web.Request, model: str | None, *, allowed: set[str]) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        prefer = request.headers.get("Prefer")
        match = _PREFER.fullmatch(prefer) if prefer is not None else None
        if prefer is not None and (match is None or (match[1] is not None and not 1 <= int(match[1]) <= 60)):
            return json_error(400, problem(400, "Invalid Prefer header", "Prefer must be wait or wait=1..60"))
        try:
            body = await request.json()
        except ValueError:
            return json_error(400, problem(400, "Invalid JSON", "The request body is not valid JSON."))
        if not isinstance(body, dict):
            return json_error(422, problem(422, "Input validation failed", "body must be an object"))
        for key in body:
            if key not in allowed:
                return json_error(
                    422, problem(422, "Input validation failed", f"Additional property {key} is not allowed")
                )
        if model is None:
            version = str(body.get("version", "")).rsplit(":", 1)[-1]
            model = VERSIONS.get(version)
            if model is None:
                return json_error(
                    422,
                    problem(
                        422,
                        "Invalid version or not permitted",
                        "The specified version does not exist (or perhaps you don't have permission "
                        "to use it?)",
                    ),
                )
        inputs = body.get("input")
        if not isinstance(inputs, dict):
            return json_error(
                422,
                problem(
                    422,
                    "Input validation failed",
                    "input is required",
                    invalid_fields=[
                        {"type": "required", "field": "input", "description": "input is required"}
                    ],
                ),
            )
        self.ignored_inputs.extend(key for key in inputs if key not in SCHEMAS[model]["input"]["properties"])
        invalid = _validate(model, inputs)
        if invalid:
            detail = "\n".join(f"- {f['field']}: {f['description']}" for f in invalid)
            return json_error(422, problem(422, "Input validation failed", detail, invalid_fields=invalid))
        prediction = self._new(model, inputs)
        if match is not None and self.processing_polls == 0:
            self._finish(prediction)
        return web.json_response(_public(prediction), status=201)

    async def _get(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        prediction = self.predictions.get(request.match_info["id"])
        if prediction is None:
            return json_error(404, problem(404, "Not found", "The requested resource could not be found."))
        if prediction["status"] in ("starting", "processing"):
            looks = self._polls[prediction["id"]] = self._polls.get(prediction["id"], 0) + 1
            if looks > self.processing_polls:
                self._finish(prediction)
            else:
                steps = self.processing_polls + 1
                percent = round(100 * looks / steps)
                prediction["status"] = "processing"
                prediction["logs"] = (
                    f"Using seed: {prediction['_seed']}\n{percent}%|{'#' * (percent // 10)}| {looks}/{steps}"
                )
        return web.json_response(_public(prediction))

    async def _cancel(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        prediction = self.predictions.get(request.match_info["id"])
        if prediction is None:
            return json_error(404, problem(404, "Not found", "The requested resource could not be found."))
        self.cancelled.append(prediction["id"])
        prediction["status"] = "canceled"
        return web.json_response(_public(prediction))

    # -------------------------------------------------------------------------------------- internals

    def _new(self, model: str, inputs: dict[str, Any]) -> dict[str, Any]:
        prediction_id = self.next_id("p")
        base = f"{self.base_url}/predictions/{prediction_id}"
        prediction = {
            "id": prediction_id,
            "model": model,
            "version": next((v for v, m in VERSIONS.items() if m == model), "hidden"),
            "input": inputs,
            "logs": "",
            "output": None,
            "data_removed": False,
            "error": None,
            "status": "starting",
            "created_at": "2026-01-01T00:00:00.000Z",
            "urls": {
                "get": base,
                "cancel": f"{base}/cancel",
                "web": f"https://replicate.com/p/{prediction_id}",
            },
            "_seed": inputs.get("seed", DEFAULT_SEED),
            "_end": self._ends.pop(0) if self._ends else ("succeeded", None),
        }
        self.predictions[prediction_id] = prediction
        return prediction

    def _finish(self, stored: dict[str, Any]) -> None:
        status, error = stored["_end"]
        stored["logs"] = f"Using seed: {stored['_seed']}\n100%|##########| 4/4"
        if status == "empty":
            stored.update(status="succeeded", output=[])
        elif status != "succeeded":
            stored.update(status=status, error=error)
        else:
            stored.update(
                status="succeeded",
                output=self._output(stored["model"], stored["input"]),
                metrics={"predict_time": 1.2},
            )

    def _output(self, model: str, inputs: dict[str, Any]) -> str | list[str]:
        schema = SCHEMAS[model]
        fmt = inputs.get("output_format", schema["input"]["properties"]["output_format"]["default"])
        fmt = "jpeg" if fmt == "jpg" else fmt
        ratio = str(inputs.get("aspect_ratio", "1:1"))
        w, h = (int(x) for x in ratio.split(":")) if ":" in ratio else (1, 1)
        size = (64, round(64 * h / w)) if w >= h else (round(64 * w / h), 64)
        urls = []
        for index in range(int(inputs.get("num_outputs", 1))):
            image = make_image(*size, fmt, colour=(120, 60 + 30 * index, 90))
            self.served.append(image)
            urls.append(self.add_file(image, f"image/{fmt}"))
        return urls if schema["output"] == "array" else urls[0]


def _public(prediction: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in prediction.items() if not k.startswith("_")}


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def _validate(model: str, inputs: dict[str, Any]) -> list[dict[str, str]]:
    """The model's input schema, as Replicate checks it (JSON Schema): the failures, in field order."""
    schema = SCHEMAS[model]["input"]
    invalid: list[dict[str, str]] = []

    def bad(field: str, kind: str, description: str) -> None:
        invalid.append({"type": kind, "field": f"input.{field}", "description": description})

    for name in schema["required"]:
        if name not in inputs:
            bad(name, "required", f"{name} is required")
    for name, value in inputs.items():
        rule = schema["properties"].get(name)
        if rule is None:
            continue
        kinds = _TYPES[rule["type"]]
        if not isinstance(value, kinds) or (isinstance(value, bool) and rule["type"] != "boolean"):
            bad(
                name, "invalid_type", f"Invalid type. Expected: {rule['type']}, given: {type(value).__name__}"
            )
            continue
        if "enum" in rule and value not in rule["enum"]:
            allowed = ", ".join(f'"{option}"' for option in rule["enum"])
            bad(name, "enum", f"{name} must be one of the following: {allowed}")
        if "minimum" in rule and value < rule["minimum"]:
            bad(name, "number_gte", f"Must be greater than or equal to {rule['minimum']}")
        if "maximum" in rule and value > rule["maximum"]:
            bad(name, "number_lte", f"Must be less than or equal to {rule['maximum']}")
        if rule.get("format") == "uri" and not value.startswith(("data:", "https://", "http://")):
            bad(name, "format", "Does not match format 'uri'")
    return invalid
