"""A loopback fake of xAI's image API (``/v1/images/generations``, JSON ``/v1/images/edits``).

Strict like the real one: Bearer key; JSON only (edits too, never multipart); ``prompt`` required;
``n`` 1-10; ``aspect_ratio``, ``resolution``, ``response_format`` and ``quality`` from their enums
(``quality`` low/medium, on grok-imagine-image-2.0 only, as xai-sdk 1.19 says); references JPEG or PNG
(docs.x.ai); the error wording for both is not verified [unv];
``size`` and ``style`` rejected; edits take ``image`` ``{url, type: image_url}`` or up to three
``images``. Errors are ``{"code", "error"}``. Results are base64 JPEG or URLs under ``/files`` (which
can expire). Scripted misbehaviour: :meth:`rate_limit_next`, :meth:`fail_next`, :meth:`refuse_next`
(a 400), :meth:`moderate_next` (HTTP 200 with ``respect_moderation: false``), :meth:`empty_next`,
:meth:`malformed_next`, ``delay_s``, ``expire_files()``.

Sources (per rule group; ``[unv]`` = not confirmed, ``[3p]`` = read only in a third-party copy). The
enums and limits are read from ``tests/fakes/specs/xai/images.json`` (xai-sdk 1.19.0; README there):

- Models, ``aspect_ratio`` (13 + ``auto``), ``resolution`` 1k/2k, ``quality`` low/medium on
  grok-imagine-image-2.0 only: xai-sdk ``types/image.py``, ``types/model.py``, ``sync/image.py``;
  ``auto`` from the proto enum and docs.x.ai's REST reference [3p copy]. The REST reference also lists
  ``quality: high`` and says other models ignore the field; the fake follows the SDK (issue 17 item 4).
- ``n`` 1-10, ``response_format`` url/b64_json, ``user``, ``size``/``style`` "not supported":
  docs.x.ai/developers/rest-api-reference (images) [3p copies of the schema]. That ``size``/``style``
  and unknown fields are a 400 rather than ignored: [unv].
- Edits are ``application/json`` (the OpenAI SDK's multipart ``images.edit()`` does not work): docs.x.ai/
  developers/model-capabilities/images/generation. Up to three source images, URL or base64 data URI,
  output aspect follows the first image: docs.x.ai/developers/model-capabilities/images/
  multi-image-editing. The ``{"url", "type": "image_url"}`` object shape: [3p].
- Reference types jpg/png (20 MiB): docs.x.ai/developers/model-capabilities/images/understanding, stated
  for image understanding; for edits [unv]. The 20 MiB limit is not enforced here.
- Errors: 400 for a bad request or a wrong key and 422 for an unprocessable body are in the REST
  reference [3p copy]; which of the two a bad enum value gets (the fake answers 400), the 401 without a
  key, the 404 for an unknown model, the 415, the ``{"code", "error"}`` body and its wording: [unv].
- Answers: ``data[].url``/``b64_json``, ``mime_type``, ``revised_prompt``, ``respect_moderation``
  (``GeneratedImage.respect_moderation`` in the SDK proto; the SDK raises when it is false), ``usage.
  cost_in_usd_ticks`` [3p copy of the REST reference]; JPEG output and temporary URLs: docs.x.ai
  images/generation ("URLs are temporary").
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.core.errors import ImageError
from bot.core.imaging import sniff
from tests.fakes.providers.loopback import LoopbackFake, json_error, make_image

SPEC: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "specs" / "xai" / "images.json").read_text()
)
"""The vendored enums and limits (xai-sdk 1.19.0; sources in the JSON and the module docstring)."""
MODELS = tuple(SPEC["models"])
ASPECTS = (*SPEC["aspect_ratios"], *SPEC["aspect_ratio_rest_extra"])
_SIZES = {"1k": 1024, "2k": 2048}
assert set(_SIZES) == set(SPEC["resolutions"])
QUALITIES = tuple(SPEC["qualities"])
"""xai-sdk 1.19 ``ImageQuality``: "low" and "medium" (its proto also has HIGH, which the SDK never sends)."""
QUALITY_MODELS = tuple(SPEC["quality_models"])
"""xai-sdk: "The parameter is only supported for grok-imagine-image-2.0"."""
INPUT_TYPES = tuple(SPEC["input_image_types"])
"""docs.x.ai, image input limits: "Supported image file types: jpg/jpeg or png"."""
_ALLOWED = set(SPEC["generation_fields"])
_EDIT_ALLOWED = _ALLOWED | set(SPEC["edit_image_fields"])
N_MIN, N_MAX = SPEC["n"]["minimum"], SPEC["n"]["maximum"]
MAX_EDIT_IMAGES = SPEC["max_edit_images"]
INVALID = "Client specified an invalid argument"


def xai_error(message: str, code: str = INVALID) -> dict[str, str]:
    return {"code": code, "error": message}


class FakeXAI(LoopbackFake):
    """``base_url`` ends in ``/v1``. Images are served 64 px on the long side (tiny, real JPEGs)."""

    def __init__(
        self,
        *,
        api_key: str = "xai-test-key-0123456789",
        response_format: str | None = None,
        revised_prompt: str | None = "A revised prompt",
        delay_s: float = 0.0,
    ) -> None:
        super().__init__(delay_s=delay_s)
        self.api_key = api_key
        self.response_format = response_format
        """Force this result shape (as if the server ignored the request's response_format)."""
        self.revised_prompt = revised_prompt
        self.served: list[bytes] = []
        """Every image served, in order."""

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/images/generations", self._generations)
        app.router.add_post("/v1/images/edits", self._edits)
        app.router.add_get("/v1/image-generation-models", self._models)

    # -------------------------------------------------------------------------------------- scripting

    def rate_limit_next(self, retry_after: str | None = "7") -> None:
        headers = {"Retry-After": retry_after} if retry_after else {}
        message = "Your team has exceeded its rate limit for grok-imagine-image. Please try again later."
        self.fault(429, xai_error(message, "Too many requests"), headers=headers)

    def fail_next(self, status: int = 500) -> None:
        code = "Service unavailable" if status == 503 else "Internal error"
        self.fault(
            status,
            xai_error("The service is currently unavailable." if status == 503 else "Internal error", code),
        )

    def refuse_next(self) -> None:
        self.fault(400, xai_error("Generated image rejected by content moderation."))

    def moderate_next(self) -> None:
        self.fault(200, {"data": [{"url": None, "respect_moderation": False}]})

    def empty_next(self) -> None:
        self.fault(200, {"data": []})

    def malformed_next(self) -> None:
        self.fault(200, raw=b'{"data": [{"b64_json": "AAA')

    # ----------------------------------------------------------------------------------------- routes

    def _authorized(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if header != f"Bearer {self.api_key}":
            message = "Incorrect API key provided: ***. You can obtain an API key from https://console.x.ai."
            return json_error(
                400 if header else 401, xai_error(message, "Client specified an invalid argument")
            )
        return None

    async def _models(self, request: web.Request) -> web.Response:
        if (denied := self._authorized(request)) is not None:
            return denied
        models = [
            {"id": m, "object": "model", "owned_by": "xai", "created": 1750000000, "aliases": []}
            for m in MODELS
        ]
        return web.json_response({"models": models})

    async def _generations(self, request: web.Request) -> web.Response:
        return await self._answer(request, edit=False)

    async def _edits(self, request: web.Request) -> web.Response:
        return await self._answer(request, edit=True)

    async def _answer(self, request: web.Request, *, edit: bool) -> web.Response:
        if (denied := self._authorized(request)) is not None:
            return denied
        if request.content_type != "application/json":
            return json_error(
                415, xai_error(f"Unsupported content type {request.content_type!r}; use application/json.")
            )
        try:
            body = await request.json()
        except ValueError:
            return json_error(400, xai_error("Failed to parse the request body as JSON."))
        problem = self._validate(body, edit=edit)
        if problem is not None:
            return json_error(*problem) if isinstance(problem, tuple) else json_error(400, xai_error(problem))
        return web.json_response(self._result(body))

    def _validate(self, body: Any, *, edit: bool) -> str | tuple[int, dict[str, str]] | None:
        if not isinstance(body, dict):
            return "The request body must be a JSON object."
        for key in body:
            if key not in (_EDIT_ALLOWED if edit else _ALLOWED):
                return f"Argument not supported: {key}"
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            return "Missing required argument: prompt"
        model = body.get("model", MODELS[0])
        if model not in MODELS:
            message = f"The model {model} does not exist or your team does not have access to it."
            return 404, xai_error(message, "Some requested entity was not found")
        checks: dict[str, Callable[[Any], bool]] = {
            "n": lambda v: isinstance(v, int) and not isinstance(v, bool) and N_MIN <= v <= N_MAX,
            "response_format": lambda v: v in SPEC["response_formats"],
            "aspect_ratio": lambda v: v in ASPECTS,
            "resolution": lambda v: v in _SIZES,
            "quality": lambda v: v in QUALITIES,
        }
        for key, ok in checks.items():
            if key in body and not ok(body[key]):
                return f"Invalid value for {key}: {body[key]!r}"
        if "quality" in body and model not in QUALITY_MODELS:
            return f"Argument not supported on model {model}: quality"
        if edit:
            return _validate_images(body)
        return None

    def _result(self, body: dict[str, Any]) -> dict[str, Any]:
        width, height = _size(body.get("aspect_ratio", "1:1"))
        form = self.response_format or body.get("response_format", "url")
        data = []
        for index in range(body.get("n", 1)):
            image = make_image(width, height, "jpeg", colour=(40 + 20 * index, 90, 160))
            self.served.append(image)
            item: dict[str, Any] = {"mime_type": "image/jpeg", "respect_moderation": True}
            if form == "b64_json":
                item["b64_json"] = base64.b64encode(image).decode()
            else:
                item["url"] = self.add_file(image, "image/jpeg")
            if self.revised_prompt:
                item["revised_prompt"] = self.revised_prompt
            data.append(item)
        return {"created": int(time.time()), "data": data, "usage": {"cost_in_usd_ticks": 200000000}}


def _validate_images(body: dict[str, Any]) -> str | None:
    if ("image" in body) == ("images" in body):
        return "Exactly one of image or images must be provided."
    images = body["images"] if "images" in body else [body["image"]]
    if not isinstance(images, list) or not 1 <= len(images) <= MAX_EDIT_IMAGES:
        return f"images must hold 1 to {MAX_EDIT_IMAGES} images."
    for image in images:
        if (
            not isinstance(image, dict)
            or image.get("type") != "image_url"
            or not isinstance(image.get("url"), str)
        ):
            return 'Each image must be {"url": ..., "type": "image_url"}.'
        url = image["url"]
        if url.startswith("data:image/"):
            header, _, payload = url.partition(",")
            if not header.endswith(";base64") or not payload:
                return "Invalid data URL for image."
            try:
                raw = base64.b64decode(payload, validate=True)
            except ValueError:
                return "Invalid base64 in image data URL."
            try:
                mime = sniff(raw)
            except ImageError:
                mime = "unknown"
            if mime not in INPUT_TYPES or header != f"data:{mime};base64":
                return f"Unsupported image format {mime}: supported image file types are jpg/jpeg and png."
        elif not url.startswith("https://"):
            return "Image URL must be https or a data URL."
    return None


def _size(aspect: str) -> tuple[int, int]:
    """64 px on the long side (the real service makes ~1024), keeping the ratio."""
    if aspect == "auto":
        return 64, 64
    w, h = (float(x) for x in aspect.split(":"))
    return (64, max(1, round(64 * h / w))) if w >= h else (max(1, round(64 * w / h)), 64)
