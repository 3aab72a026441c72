"""A loopback fake of StepFun's image API: ``POST /v1/images/generations`` (JSON), ``POST /v1/images/edits``
(multipart), ``GET /v1/models``.

Built from the StepFun docs (platform.stepfun.com, platform.stepfun.ai) "Generate images" and "Image
editing": Bearer key; ``model`` and ``prompt`` required; generation models step-image-edit-2 (prompt
at most 512 characters; sizes 1024x1024, 768x1360, 896x1184, 1360x768, 1184x896, written height x
width; ``seed`` 0-2147483647; ``steps`` 1-50; ``cfg_scale`` 1-10; ``negative_prompt`` at most 512;
``text_mode`` boolean) and step-1x-medium (prompt at most 1024; sizes 256x256, 512x512, 768x768,
1024x1024, 1280x800, 800x1280; ``steps`` 1-100; ``cfg_scale`` 1-10; ``style_reference``); ``n`` only
1; ``response_format`` b64_json or url (default url); the answer ``{"created", "data": [{"seed",
"finish_reason": "success" | "content_filtered", "b64_json" | "url"}]}``. Edits: models
step-image-edit-2 and step-1x-edit, one ``image`` file (step-1x-edit: jpg/png/webp, 64-4096 px, at
most 10 MB, aspect 1:3 to 3:1), ``prompt`` at most 512, the result the input's size on
step-image-edit-2::

    async with FakeStepFun(api_key="step-test") as fake:
        fake.filter_next()     # HTTP 200, finish_reason content_filtered; fail_next(503), malformed_next()

Unverified: the error envelope (OpenAI's ``{"error": {"message", "type"}}`` here) and its statuses,
``GET /v1/models`` (assumed OpenAI's), that a width-first size for step-image-edit-2 is read height
first (it is, here: "768x1360" is drawn 1360 wide), step-2x-large's sizes (step-1x-medium's here), and
whether a content-filtered item also carries an image (it does not, here).
"""

from __future__ import annotations

import base64
import time
from typing import Any

from aiohttp import web

from bot.core.errors import ImageError
from bot.core.imaging import image_size, sniff
from tests.fakes.providers.loopback import LoopbackFake, json_error, make_image
from tests.fakes.providers.openai_images import _parse_multipart

GENERATE = {
    "step-image-edit-2": ("1024x1024", "768x1360", "896x1184", "1360x768", "1184x896"),
    "step-1x-medium": ("256x256", "512x512", "768x768", "1024x1024", "1280x800", "800x1280"),
    "step-2x-large": ("256x256", "512x512", "768x768", "1024x1024", "1280x800", "800x1280"),
}
EDIT = ("step-image-edit-2", "step-1x-edit")
PROMPT_LIMIT = {"step-image-edit-2": 512, "step-1x-edit": 512, "step-1x-medium": 1024, "step-2x-large": 1024}
FIELDS = {
    "model", "prompt", "size", "n", "response_format", "seed", "steps", "cfg_scale", "negative_prompt",
    "text_mode", "style_reference",
}  # fmt: skip


def step_error(message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind}}


class FakeStepFun(LoopbackFake):
    """``base_url`` ends in ``/v1``; images are tiny real PNGs (1/16 of the drawn size)."""

    def __init__(self, *, api_key: str = "step-test-key-0123456789", delay_s: float = 0.0) -> None:
        super().__init__(delay_s=delay_s)
        self.api_key = api_key
        self.served: list[bytes] = []
        self.edited: list[bytes] = []
        self._filter_next = False

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/images/generations", self._generations)
        app.router.add_post("/v1/images/edits", self._edits)
        app.router.add_get("/v1/models", self._models)

    # -------------------------------------------------------------------------------------- scripting

    def filter_next(self) -> None:
        """The next image request answers HTTP 200 with ``finish_reason: content_filtered``."""
        self._filter_next = True

    def fail_next(self, status: int = 500) -> None:
        self.fault(status, step_error("internal server error", "server_error"))

    def malformed_next(self) -> None:
        self.fault(200, raw=b'{"created": 1, "data": [{"b64_json": "iVB')

    # ----------------------------------------------------------------------------------------- routes

    def _denied(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization", "") != f"Bearer {self.api_key}":
            return json_error(401, step_error("Incorrect API key provided", "authentication_error"))
        return None

    async def _models(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        return web.json_response({"object": "list", "data": [{"id": m, "object": "model"} for m in GENERATE]})

    async def _generations(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        try:
            body = await request.json()
        except ValueError:
            return json_error(400, step_error("request body is not valid JSON"))
        problem = _check_generation(body)
        if problem:
            return json_error(400, step_error(problem))
        first, second = (int(side) for side in body.get("size", "1024x1024").split("x"))
        height_first = body["model"] == "step-image-edit-2"
        width, height = (second, first) if height_first else (first, second)
        return web.json_response(self._answer(body, width, height))

    async def _edits(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        if not request.content_type.startswith("multipart/form-data"):
            return json_error(400, step_error("image edits take multipart/form-data"))
        parts = _parse_multipart(await request.read(), request.headers["Content-Type"])
        images = [p for p in parts if p.name == "image" and p.filename is not None]
        fields = {p.name: p.data.decode() for p in parts if p.filename is None}
        model = fields.get("model")
        if model not in EDIT:
            return json_error(400, step_error(f"model {model!r} does not support image editing"))
        if len(images) != 1:
            return json_error(400, step_error("exactly one image file is required"))
        data = images[0].data
        try:
            mime, (width, height) = sniff(data), image_size(data)
        except ImageError:
            return json_error(400, step_error("the image could not be read"))
        if model == "step-1x-edit" and (
            mime not in ("image/jpeg", "image/png", "image/webp")
            or len(data) > 10 * 1024 * 1024
            or not min(width, height) >= 64
            or max(width, height) > 4096
            or not 1 / 3 <= width / height <= 3
        ):
            return json_error(
                400, step_error("image must be jpg/png/webp, 64-4096 px, at most 10MB, 1:3 to 3:1")
            )
        if max(width, height) > 4096:
            return json_error(400, step_error("image must be at most 4096x4096"))
        prompt = fields.get("prompt", "")
        if not prompt or len(prompt) > PROMPT_LIMIT[model]:
            return json_error(
                400, step_error(f"prompt is required and at most {PROMPT_LIMIT[model]} characters")
            )
        if fields.get("response_format", "url") not in ("url", "b64_json"):
            return json_error(400, step_error("response_format must be url or b64_json"))
        self.edited.append(data)
        return web.json_response(self._answer(fields, width * 16, height * 16))

    def _answer(self, body: dict[str, Any], width: int, height: int) -> dict[str, Any]:
        seed = int(body.get("seed") or 123838)
        if self._filter_next:
            self._filter_next = False
            return {
                "created": int(time.time()),
                "data": [{"seed": seed, "finish_reason": "content_filtered"}],
            }
        image = make_image(
            max(1, width // 16), max(1, height // 16), colour=(200, 60 + len(self.served) % 150, 40)
        )
        self.served.append(image)
        item: dict[str, Any] = {"seed": seed, "finish_reason": "success"}
        if body.get("response_format", "url") == "b64_json":
            item["b64_json"] = base64.b64encode(image).decode()
        else:
            item["url"] = self.add_file(image, "image/png")
        return {"created": int(time.time()), "data": [item]}


def _check_generation(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    unknown = set(body) - FIELDS
    if unknown:
        return f"unknown parameter: {sorted(unknown)[0]}"
    model = body.get("model")
    if model not in GENERATE:
        return f"model {model!r} does not support image generation"
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt or len(prompt) > PROMPT_LIMIT[model]:
        return f"prompt is required and at most {PROMPT_LIMIT[model]} characters"
    if body.get("size", "1024x1024") not in GENERATE[model]:
        return f"size {body['size']!r} is not supported by {model}"
    if body.get("n", 1) != 1:
        return "n: only one image per request is supported"
    if body.get("response_format", "url") not in ("url", "b64_json"):
        return "response_format must be url or b64_json"
    seed = body.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= 2147483647:
        return "seed must be an integer in [0, 2147483647]"
    steps = body.get("steps", 1)
    if not isinstance(steps, int) or not 1 <= steps <= (50 if model == "step-image-edit-2" else 100):
        return "steps out of range"
    cfg = body.get("cfg_scale", 1.0)
    if not isinstance(cfg, int | float) or not 1 <= cfg <= 10:
        return "cfg_scale must be within [1, 10]"
    if model != "step-image-edit-2" and ("negative_prompt" in body or "text_mode" in body):
        return f"negative_prompt and text_mode are not supported by {model}"
    if "style_reference" in body and model == "step-image-edit-2":
        return "style_reference is not supported by step-image-edit-2"
    return None
