"""What OpenAI's image endpoints accept, for the fakes (written from providers.md §3-§4, not from the
code under test): models, sizes per model, quality words, the GPT-only and dall-e-only fields, and
the ``image_generation`` tool's fields. Each check returns ``None`` or ``(status, error body)``.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.specs import openapi

GPT_MODELS = (
    "gpt-image-1-mini",
    "gpt-image-1.5",
    "gpt-image-2",
    "gpt-image-2-2026-04-21",
    "gpt-image-2.5-sunburst",
    "gpt-image-2.5-sunburst-2026-09-08",
    "gpt-image-2.5-flare",
    "gpt-image-2.5-flare-2026-09-08",
    "gpt-image-2.6-sunburst",
    "gpt-image-2.6-flare",
    "chatgpt-image-latest",
)
"""The live GPT image models of the openai SDK 3.60 (``ImageModel``, the ``model`` docs of
images.generate/edit and the image_generation tool)."""
DALL_E = ("dall-e-2", "dall-e-3")
RETIRED = ("gpt-image-1", *DALL_E)
"""Shut down (dall-e on 2026-05-12; gpt-image-1 on 2026-10-23, "GPT Image 1 was shut down on October 23,
2026" in the SDK): requests get ``model_not_found`` (the code observed for dall-e; for gpt-image-1 it is
assumed the same [unv])."""
FLEX_MODELS = (
    "gpt-image-2",
    "gpt-image-2-2026-04-21",
    "gpt-image-2.5-sunburst",
    "gpt-image-2.5-sunburst-2026-09-08",
    "gpt-image-2.5-flare",
    "gpt-image-2.5-flare-2026-09-08",
)
"""Models that take any ``WxH`` (SDK 3.60 ``size``): sides divisible by 16, aspect 1:3 to 3:1, at most
3840x2160; other GPT models take the standard sizes only."""
EXTRA_QUALITY_MODELS = FLEX_MODELS[2:]
"""gpt-image-2.5-sunburst/flare and snapshots "also support xhigh and max"."""
GPT_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
DALL_E_SIZES = {
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
    "dall-e-3": ("1024x1024", "1792x1024", "1024x1792"),
}
GENERATION_FIELDS = frozenset(
    {"prompt", "model", "n", "size", "quality", "background", "output_format", "output_compression"}
    | {"moderation", "response_format", "style", "stream", "partial_images", "user"}
)
EDIT_FIELDS = frozenset(
    {"prompt", "model", "n", "size", "quality", "background", "output_format", "output_compression"}
    | {"input_fidelity", "response_format", "stream", "partial_images", "user"}
)
TOOL_FIELDS = frozenset(
    {"type", "model", "action", "size", "quality", "background", "output_format", "output_compression"}
    | {"moderation", "input_fidelity", "input_image_mask", "partial_images"}
)
Problem = tuple[int, dict[str, Any]]


def is_image_model(name: str) -> bool:
    return name.startswith(("gpt-image", "chatgpt-image", "dall-e"))


def error_body(
    message: str, *, type: str = "invalid_request_error", param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """OpenAI's error envelope."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def invalid(param: str, value: Any, allowed: tuple[str, ...] | None = None) -> Problem:
    supported = f" Supported values are: {', '.join(repr(a) for a in allowed)}." if allowed else ""
    return 400, error_body(f"Invalid value: {value!r}.{supported}", param=param, code="invalid_value")


def unknown(param: str) -> Problem:
    return 400, error_body(f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")


def check_model(model: Any, *, retired: tuple[str, ...] = RETIRED) -> Problem | None:
    if model in retired or (model not in GPT_MODELS and model not in DALL_E):
        message = f"The model '{model}' does not exist or you do not have access to it."
        return 404, error_body(message, param="model", code="model_not_found")
    return None


def check_size(model: str, size: Any) -> Problem | None:
    if model in DALL_E:
        return None if size in DALL_E_SIZES[model] else invalid("size", size, DALL_E_SIZES[model])
    if size in GPT_SIZES:
        return None
    if model in FLEX_MODELS:
        try:
            width, height = (int(v) for v in str(size).split("x"))
        except ValueError:
            return invalid("size", size)
        if width % 16 or height % 16 or not 1 / 3 <= width / height <= 3 or max(width, height) > 3840:
            return invalid("size", size)
        if min(width, height) > 2160:
            return invalid("size", size)
        return None
    return invalid("size", size, GPT_SIZES)


def size_pixels(size: Any) -> tuple[int, int]:
    if size in (None, "auto"):
        return (1024, 1024)
    width, height = (int(v) for v in str(size).split("x"))
    return width, height


def check_images_body(
    body: dict[str, Any], *, edit: bool, retired: tuple[str, ...] = RETIRED
) -> Problem | None:
    """An /images/generations JSON body or an /images/edits form (already typed), as OpenAI checks it."""
    body = {key: value for key, value in body.items() if value is not None}  # null: the default (nullable)
    allowed = EDIT_FIELDS if edit else GENERATION_FIELDS
    for key in body:
        if key not in allowed:
            return unknown(key)
    model = body.get("model", "gpt-image-1.5" if edit else "dall-e-2")
    problem = check_model(model, retired=retired)
    if problem is not None:
        return problem
    gpt = model in GPT_MODELS
    if gpt and "response_format" in body:
        return unknown("response_format")
    if "style" in body and model != "dall-e-3":
        return unknown("style")
    if model == "dall-e-3" and body.get("n", 1) != 1:
        return invalid("n", body.get("n"))
    if "size" in body and (problem := check_size(model, body["size"])) is not None:
        return problem
    if "quality" in body:
        qualities: tuple[str, ...] = ("low", "medium", "high", "auto")
        if model in EXTRA_QUALITY_MODELS:
            qualities = (*qualities, "xhigh", "max")
        if edit:
            qualities = ("standard", *qualities)
        if model == "dall-e-3":
            qualities = ("standard", "hd")
        elif model == "dall-e-2":
            qualities = ("standard",)
        if body["quality"] not in qualities:
            return invalid("quality", body["quality"], qualities)
    if "input_fidelity" in body and (
        model == "gpt-image-1-mini" or body["input_fidelity"] not in ("high", "low")
    ):
        return invalid("input_fidelity", body["input_fidelity"])
    return check_gpt_extras(body, gpt=gpt)


def check_gpt_extras(body: dict[str, Any], *, gpt: bool) -> Problem | None:
    """background, output_format, output_compression, moderation (GPT models only)."""
    for key, values in (
        ("background", ("transparent", "opaque", "auto")),
        ("output_format", ("png", "jpeg", "webp")),
        ("moderation", ("auto", "low")),
    ):
        if key in body:
            if not gpt:
                return unknown(key)
            if body[key] not in values:
                return invalid(key, body[key], values)
    if body.get("background") == "transparent" and body.get("output_format", "png") == "jpeg":
        return invalid("background", "transparent")
    compression = body.get("output_compression")
    if compression is not None and (not isinstance(compression, int) or not 0 <= compression <= 100):
        return invalid("output_compression", compression)
    return None


def check_tool(tool: dict[str, Any]) -> Problem | None:
    """One ``{"type": "image_generation", ...}`` tool of a Responses request (the vendored ``ImageGenTool``
    schema first, then the model's rules)."""
    problem = openapi.validate("openai", "images", "ImageGenTool", tool, prefix="tools[0].")
    if problem is not None:
        return problem
    for key in tool:
        if key not in TOOL_FIELDS:
            return unknown(f"tools[0].{key}")
    model = tool.get("model", "gpt-image-2.6-sunburst")  # the tool's default (SDK 3.60)
    if model in RETIRED:
        message = f"The model '{model}' does not exist or you do not have access to it."
        return 404, error_body(message, param="tools[0].model", code="model_not_found")
    if model not in GPT_MODELS:
        return invalid("tools[0].model", model, GPT_MODELS)
    if "size" in tool and (problem := check_size(model, tool["size"])) is not None:
        return problem
    if "quality" in tool and tool["quality"] not in ("low", "medium", "high", "auto"):
        return invalid("tools[0].quality", tool["quality"], ("low", "medium", "high", "auto"))
    if "action" in tool and tool["action"] not in ("generate", "edit", "auto"):
        return invalid("tools[0].action", tool["action"], ("generate", "edit", "auto"))
    mask = tool.get("input_image_mask")
    if mask is not None and not (
        isinstance(mask, dict)
        and (str(mask.get("image_url", "")).startswith("data:image/") or mask.get("file_id"))
    ):
        return invalid("tools[0].input_image_mask", "…")
    return check_gpt_extras(
        {
            k: v
            for k, v in tool.items()
            if k in ("background", "output_format", "moderation", "output_compression")
        },
        gpt=True,
    )
