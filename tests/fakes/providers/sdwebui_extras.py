"""The A1111 fake's Extras routes: ``GET /sdapi/v1/upscalers`` and ``POST /sdapi/v1/extra-single-image``.

Held to upstream 1.10 (``modules/api/models.py`` ``ExtrasBaseRequest`` / ``ExtrasSingleImageRequest``,
``modules/api/api.py`` ``extras_single_image_api``, ``scripts/postprocessing_upscale.py``,
``modules/upscaler.py``; see ``tests/fakes/specs/a1111/README.md``):

- the request model's fields, types and bounds (pydantic v1: a bad value is a 422 with ``ensure this
  value is ...``; ``resize_mode`` is ``Literal[0, 1]``); unknown fields ignored (recorded);
- the image is decoded with ``decode_base64_to_image`` (a ``data:`` prefix allowed): anything else is
  ``500 "Invalid encoded image"``;
- ``upscaler_1`` "None" leaves the image as it is; a name the server does not have fails the postprocessing
  script's assertion: 500 ``{"error": "AssertionError", ..., "errors": "could not find upscaler named X"}``;
- ``Upscaler.upscale`` makes ``int(side * scale) // 8 * 8`` (rounded down to a multiple of 8).
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import TYPE_CHECKING, Any

from aiohttp import web
from PIL import Image as PILImage

if TYPE_CHECKING:
    from tests.fakes.providers.sdwebui import FakeSDWebUI

UPSCALERS = (
    ("None", None, 4.0),
    ("Lanczos", None, 4.0),
    ("Nearest", None, 4.0),
    ("ESRGAN_4x", "ESRGAN_4x", 4.0),
    ("LDSR", None, 4.0),
    ("R-ESRGAN 4x+", "RealESRGAN_x4plus", 4.0),
    ("R-ESRGAN 4x+ Anime6B", "RealESRGAN_x4plus_anime_6B", 4.0),
    ("ScuNET GAN", "ScuNET", 4.0),
    ("SwinIR 4x", "SwinIR 4x", 4.0),
)
"""(name, model_name, scale) of a default install's ``shared.sd_upscalers``."""

# name -> (JSON kind, default, low, high); the bounds are the Field(ge=, le=) of ExtrasBaseRequest
FIELDS: dict[str, tuple[str, Any, float | None, float | None]] = {
    "resize_mode": ("literal01", 0, None, None),
    "show_extras_results": ("boolean", True, None, None),
    "gfpgan_visibility": ("number", 0, 0, 1),
    "codeformer_visibility": ("number", 0, 0, 1),
    "codeformer_weight": ("number", 0, 0, 1),
    "upscaling_resize": ("number", 2, 1, 8),
    "upscaling_resize_w": ("integer", 512, 1, None),
    "upscaling_resize_h": ("integer", 512, 1, None),
    "upscaling_crop": ("boolean", True, None, None),
    "upscaler_1": ("string", "None", None, None),
    "upscaler_2": ("string", "None", None, None),
    "extras_upscaler_2_visibility": ("number", 0, 0, 1),
    "upscale_first": ("boolean", False, None, None),
    "image": ("string", "", None, None),
}


class _Invalid(Exception):
    def __init__(self, loc: str, msg: str, type_: str, ctx: dict[str, Any] | None = None) -> None:
        self.loc, self.msg, self.type, self.ctx = loc, msg, type_, ctx


async def upscalers(fake: FakeSDWebUI, request: web.Request) -> web.Response:
    names = fake.upscalers
    return web.json_response(
        [
            {"name": name, "model_name": model, "model_path": None, "model_url": None, "scale": scale}
            for name, model, scale in UPSCALERS
            if name in names
        ]
    )


async def extra_single_image(fake: FakeSDWebUI, request: web.Request) -> web.Response:
    from tests.fakes.providers.sdwebui import _coerce, _validation_error, a1111_error

    body = fake.requests[-1].json
    if not isinstance(body, dict):
        return _validation_error("body", "value is not a valid dict", "type_error.dict")
    params = {name: spec[1] for name, spec in FIELDS.items()}
    fake.ignored_fields.extend(name for name in body if name not in FIELDS)
    try:
        for name, value in body.items():
            if name in FIELDS:
                params[name] = _field(name, value, _coerce)
    except _Invalid as exc:
        return _invalid(exc)
    fake.extras_requests.append(body)
    if fake.faults:
        fault = fake.faults.pop(0)
        return web.json_response(fault.body or {}, status=fault.status, headers=fault.headers)
    image = _decode(params["image"])
    if image is None:
        return a1111_error(500, "Invalid encoded image")
    name = params["upscaler_1"]
    if name != "None" and name not in fake.upscalers:
        return web.json_response(
            {
                "error": "AssertionError",
                "detail": "",
                "body": "",
                "errors": f"could not find upscaler named {name}",
            },
            status=500,
        )
    if name != "None":
        scale = float(params["upscaling_resize"])
        if params["resize_mode"] == 1:
            scale = max(
                params["upscaling_resize_w"] / image.width, params["upscaling_resize_h"] / image.height
            )
        size = (int(image.width * scale // 8 * 8), int(image.height * scale // 8 * 8))
        image = image.resize(size, PILImage.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG")
    fake.upscaled.append(out.getvalue())
    html = f"<p>Postprocess upscale by: {params['upscaling_resize']}, Postprocess upscaler: {name}</p>"
    return web.json_response({"html_info": html, "image": base64.b64encode(out.getvalue()).decode()})


def _field(name: str, value: Any, coerce: Any) -> Any:
    kind, _, low, high = FIELDS[name]
    if kind == "literal01":
        if value in (0, 1) and not isinstance(value, bool):
            return int(value)
        raise _Invalid(
            name,
            "unexpected value; permitted: 0, 1",
            "value_error.const",
            {"given": value, "permitted": [0, 1]},
        )
    if value is None:  # not Optional in this model
        raise _Invalid(name, "none is not an allowed value", "type_error.none.not_allowed")
    try:
        coerced = coerce(kind, value)
    except (ValueError, TypeError):
        msg = {"integer": "value is not a valid integer", "number": "value is not a valid float"}.get(
            kind, "str type expected" if kind == "string" else "value could not be parsed to a boolean"
        )
        raise _Invalid(
            name,
            msg,
            f"type_error.{ {'number': 'float', 'boolean': 'bool', 'string': 'str'}.get(kind, kind) }",
        ) from None
    if low is not None and coerced < low:
        raise _Invalid(
            name,
            f"ensure this value is greater than or equal to {low:g}",
            "value_error.number.not_ge",
            {"limit_value": low},
        )
    if high is not None and coerced > high:
        raise _Invalid(
            name,
            f"ensure this value is less than or equal to {high:g}",
            "value_error.number.not_le",
            {"limit_value": high},
        )
    return coerced


def _invalid(exc: _Invalid) -> web.Response:
    error: dict[str, Any] = {"loc": ["body", exc.loc], "msg": exc.msg, "type": exc.type}
    if exc.ctx is not None:
        error["ctx"] = exc.ctx
    return web.json_response({"detail": [error]}, status=422)


def _decode(encoded: str) -> PILImage.Image | None:
    """``decode_base64_to_image``: a ``data:image/...;base64,`` prefix is cut off; bad bytes are None."""
    if encoded.startswith("data:image/"):
        encoded = encoded.split(";")[1].split(",")[1] if ";" in encoded and "," in encoded else ""
    try:
        data = base64.b64decode(encoded)
        with PILImage.open(io.BytesIO(data)) as img:
            img.load()
            return img.convert("RGB")
    except (binascii.Error, ValueError, OSError):
        return None
