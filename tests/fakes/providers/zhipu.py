"""A loopback fake of Zhipu AI's image generation: ``POST /api/paas/v4/images/generations``.

Built from docs.bigmodel.cn / docs.z.ai "Generate Image" (Bearer key; ``model`` and ``prompt``
required; models cogview-4-250304, cogview-4, cogview-3-flash; ``quality`` hd|standard, only on
cogview-4-250304; ``size`` default 1024x1024, recommended 1024x1024, 768x1344, 864x1152, 1344x768,
1152x864, 1440x720, 720x1440, or custom with both sides 512-2048, divisible by 16, at most 2^21
pixels; ``user_id`` 6-128 characters; the answer ``{"created", "data": [{"url"}], "content_filter":
[{"role", "level"}]}``, one image, a URL) and bigmodel.cn's error pages (``{"error": {"code",
"message"}}``; 401 with code 1002 for a wrong token, as the page's example shows; 429 for
concurrency; business codes 1211 unknown model, 1213 a parameter not received, 1214 an invalid
parameter, 1301 unsafe content, 1302 concurrency). ``watermark_enabled`` (a boolean) is from a
third-party SDK's copy of the docs::

    async with FakeZhipu(api_key="zp-test") as fake:
        fake.refuse_next()   # 1301; throttle_next(), fail_next(503), malformed_next(), expire_files()

Unverified: the HTTP status of a 1301 refusal (400 here) and of 1211/1213/1214 (400), whether
unknown fields are refused (they are ignored here), that custom sizes apply to ``cogview-4`` as well
as ``cogview-4-250304`` (they do here) and to nothing else, and the messages' exact wording.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from tests.fakes.providers.loopback import LoopbackFake, json_error, make_image

MODELS = ("cogview-4-250304", "cogview-4", "cogview-3-flash")
RECOMMENDED = ("1024x1024", "768x1344", "864x1152", "1344x768", "1152x864", "1440x720", "720x1440")


def zhipu_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class FakeZhipu(LoopbackFake):
    """``base_url`` ends in ``/api/paas/v4``; results are URLs under ``/files`` (tiny real JPEGs)."""

    def __init__(self, *, api_key: str = "zp-test-key-0123456789", delay_s: float = 0.0) -> None:
        super().__init__(delay_s=delay_s)
        self.api_key = api_key
        self.served: list[bytes] = []

    @property
    def base_url(self) -> str:
        return self.origin + "/api/paas/v4"

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/api/paas/v4/images/generations", self._generations)

    # -------------------------------------------------------------------------------------- scripting

    def refuse_next(self) -> None:
        message = (
            "System detected potentially unsafe or sensitive content in input or generation. Please avoid "
            "using prompts that may generate sensitive content. Thank you for your cooperation."
        )
        self.fault(400, zhipu_error("1301", message))

    def throttle_next(self) -> None:
        self.fault(
            429,
            zhipu_error(
                "1302",
                "High concurrency usage of this API, please reduce concurrency or contact customer service",
            ),
        )

    def fail_next(self, status: int = 500) -> None:
        self.fault(status, zhipu_error("500", "Internal Error"))

    def malformed_next(self) -> None:
        self.fault(200, raw=b'{"created": 1703485556, "data": [{"url": "ht')

    # ----------------------------------------------------------------------------------------- routes

    async def _generations(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        if not header:
            return json_error(
                401,
                zhipu_error(
                    "1001", "Authentication parameter not received in Header, unable to authenticate"
                ),
            )
        if header != f"Bearer {self.api_key}":
            message = "Invalid Authorization Token, please confirm the correct Authorization Token is passed."
            return json_error(401, zhipu_error("1002", message))
        try:
            body = await request.json()
        except ValueError:
            return json_error(
                400, zhipu_error("1214", "Incorrect API call parameters, please check the documentation")
            )
        if not isinstance(body, dict):
            return json_error(
                400, zhipu_error("1214", "Incorrect API call parameters, please check the documentation")
            )
        problem = _validate(body)
        if problem is not None:
            return json_error(400, zhipu_error(*problem))
        width, height = (int(side) for side in str(body.get("size", "1024x1024")).split("x"))
        image = make_image(width // 16, height // 16, "jpeg", colour=(120, 40 + len(self.served), 90))
        self.served.append(image)
        return web.json_response(
            {
                "created": int(time.time()),
                "data": [{"url": self.add_file(image, "image/jpeg")}],
                "content_filter": [{"role": "assistant", "level": 3}],
            }
        )


def _validate(body: dict[str, Any]) -> tuple[str, str] | None:
    model = body.get("model")
    if not model:
        return "1213", "model parameter not received properly"
    if model not in MODELS:
        return "1211", "Model does not exist, please check the model code"
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return "1213", "prompt parameter not received properly"
    if "quality" in body:
        if model != "cogview-4-250304":
            return "1214", "Invalid quality parameter. Please check the documentation"
        if body["quality"] not in ("hd", "standard"):
            return "1214", "Invalid quality parameter. Please check the documentation"
    if "size" in body and not _size_ok(str(body["size"]), model):
        return "1214", "Invalid size parameter. Please check the documentation"
    user_id = body.get("user_id")
    if user_id is not None and (not isinstance(user_id, str) or not 6 <= len(user_id) <= 128):
        return "1214", "Invalid user_id parameter. Please check the documentation"
    if "watermark_enabled" in body and not isinstance(body["watermark_enabled"], bool):
        return "1214", "Invalid watermark_enabled parameter. Please check the documentation"
    return None


def _size_ok(size: str, model: str) -> bool:
    if size in RECOMMENDED:
        return True
    if not model.startswith("cogview-4"):
        return False
    try:
        width, height = (int(side) for side in size.split("x"))
    except ValueError:
        return False
    sides_ok = all(512 <= side <= 2048 and side % 16 == 0 for side in (width, height))
    return sides_ok and width * height <= 2**21
