"""The image models Bedrock's InvokeModel serves, and how each family's JSON looks.

Two request families:

* Amazon (Nova Canvas, Titan Image v2): ``{"taskType": "TEXT_IMAGE", "textToImageParams": {text,
  negativeText?}, "imageGenerationConfig": {numberOfImages, width, height, quality, cfgScale?, seed?}}``;
  edits and variations are ``IMAGE_VARIATION`` (``imageVariationParams{images, similarityStrength,
  text?, negativeText?}``). The answer is ``{"images": [b64], "error": null | str}``; content-filter
  refusals arrive as HTTP 400 ValidationException (handled where errors are read).
* Stability (SD3.5 Large, Stable Image Ultra / Core): ``{prompt, negative_prompt?, aspect_ratio, seed?,
  output_format}``; image-to-image adds ``image`` and ``strength`` (and drops ``aspect_ratio``). Only SD3.5
  Large documents ``mode`` (``text-to-image`` | ``image-to-image``, AWS's "Stable Diffusion 3.5 Large"
  page); Stable Image Ultra's page lists no ``mode``, so it is sent to SD3 models only. The answer is
  ``{"images", "seeds", "finish_reasons"}`` where a non-null finish reason ("Filter reason: prompt") is a
  refusal inside an HTTP 200.
"""

from __future__ import annotations

import base64
import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.errors import ImageError, InvalidRequest, Refused, Unavailable
from bot.core.i18n import _
from bot.core.imaging import encode_png, open_image, sniff
from bot.core.types import Aspect, Capabilities, GenerationKind, ImageRequest
from bot.providers._http.common import diffusion_prompt, merge_options
from bot.providers._http.errors import REFUSED_TEXT, UNAVAILABLE_TEXT, scrub
from bot.providers._http.stable_image import ASPECTS as STABILITY_ASPECTS
from bot.providers._http.stable_image import aspect_ratio, img2img_strength, wire_seed
from bot.providers.settings import DiffusionSettings

__all__ = ["CATALOG", "Family", "ModelSpec", "build_body", "is_filter_message", "read_images", "spec_for"]

CATALOG = (
    "amazon.nova-canvas-v1:0",
    "amazon.titan-image-generator-v2:0",
    "stability.sd3-5-large-v1:0",
    "stability.stable-image-ultra-v1:1",
    "stability.stable-image-core-v1:1",
)
MAX_AMAZON_IMAGES = 5
MAX_TEXT = 1024
_FILTERED = re.compile(
    r"content filters?|responsible ai|filtered words|invalid_prompts|filter reason|blocked by", re.IGNORECASE
)


class Family(enum.StrEnum):
    NOVA = "nova"
    TITAN = "titan"
    STABILITY = "stability"


def _nova_size(aspect: Aspect, area: int = 1024 * 1024) -> tuple[int, int]:
    """About one megapixel, sides multiples of 16 (Nova: 320-4096, ratio within 1:4..4:1)."""
    width = math.sqrt(area * aspect.ratio)
    return round(width / 16) * 16, round(area / width / 16) * 16


_NOVA_ASPECTS = (
    *(Aspect(1, 1), Aspect(16, 9), Aspect(9, 16), Aspect(3, 2), Aspect(2, 3), Aspect(4, 3), Aspect(3, 4)),
    *(Aspect(5, 4), Aspect(4, 5), Aspect(21, 9), Aspect(9, 21), Aspect(2, 1), Aspect(1, 2)),
)
NOVA_SIZES: Mapping[Aspect, tuple[int, int]] = {a: _nova_size(a) for a in _NOVA_ASPECTS}
TITAN_SIZES: Mapping[Aspect, tuple[int, int]] = {
    Aspect(1, 1): (1024, 1024),
    Aspect(3, 2): (1152, 768),
    Aspect(2, 3): (768, 1152),
    Aspect(5, 3): (1280, 768),
    Aspect(3, 5): (768, 1280),
    Aspect(9, 7): (1152, 896),
    Aspect(7, 9): (896, 1152),
    Aspect(11, 6): (1408, 768),
    Aspect(6, 11): (768, 1408),
    Aspect(11, 5): (1408, 640),
    Aspect(5, 11): (640, 1408),
    Aspect(9, 5): (1152, 640),
}
"""Titan's fixed list of sizes (the 1024x1024-priced ones)."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    family: Family
    capabilities: Capabilities
    max_seed: int
    sizes: Mapping[Aspect, tuple[int, int]]
    """Amazon models: aspect → (width, height). Empty for Stability (it takes aspect_ratio)."""
    takes_mode: bool = False
    """Stability: the body carries ``mode`` (documented for SD3 Large only)."""


def spec_for(model_id: str) -> ModelSpec:
    """What ``model_id`` (a plain id or an inference profile such as ``us.amazon...``) takes."""
    lowered = model_id.lower()
    if "nova-canvas" in lowered or "titan-image-generator" in lowered:
        nova = "nova-canvas" in lowered
        sizes = NOVA_SIZES if nova else TITAN_SIZES
        caps = Capabilities(
            edit=True,
            max_n=MAX_AMAZON_IMAGES,
            aspects=tuple(sizes),
            negative_prompt=True,
            seed=True,
            max_reference_images=5 if nova else 1,
        )
        return ModelSpec(
            Family.NOVA if nova else Family.TITAN, caps, 858_993_459 if nova else 2_147_483_646, sizes
        )
    if lowered.startswith(("stability.", "us.stability.", "eu.stability.", "apac.stability.")):
        img2img = "sd3" in lowered or "ultra" in lowered
        caps = Capabilities(
            edit=img2img,
            max_n=1,
            aspects=STABILITY_ASPECTS,
            negative_prompt=True,
            seed=True,
            max_reference_images=1 if img2img else 0,
        )
        return ModelSpec(Family.STABILITY, caps, 4_294_967_294, {}, takes_mode="sd3" in lowered)
    raise ValueError(model_id)


def is_filter_message(message: str) -> bool:
    """Whether a Bedrock error text is a content-filter refusal."""
    return bool(_FILTERED.search(message))


def build_body(spec: ModelSpec, request: ImageRequest, settings: DiffusionSettings, *, provider: str) -> Any:
    """The InvokeModel body for one request (``settings.options`` merged in)."""
    img2img = request.kind in (GenerationKind.EDIT, GenerationKind.VARY)
    if spec.family is Family.STABILITY:
        return _stability_body(request, settings, img2img=img2img, mode=spec.takes_mode, provider=provider)
    return _amazon_body(spec, request, settings, img2img=img2img, provider=provider)


def read_images(spec: ModelSpec, payload: Any, *, provider: str) -> list[tuple[str, int | None]]:
    """(base64, server seed) per image; Refused for a filtered 200, Unavailable for an empty one."""
    if not isinstance(payload, dict):
        raise Unavailable(
            f"{provider}: answer is not a JSON object", provider=provider, user_message=_(UNAVAILABLE_TEXT)
        )
    images = [item for item in payload.get("images") or [] if isinstance(item, str) and item]
    if spec.family is Family.STABILITY:
        reasons = [r for r in payload.get("finish_reasons") or [] if r is not None]
        if reasons:
            said = scrub(str(reasons[0]))
            if str(reasons[0]).lower().startswith("filter"):
                raise Refused(
                    f"{provider}: HTTP 200 with {said}", provider=provider, user_message=_(REFUSED_TEXT)
                )
            raise Unavailable(
                f"{provider}: HTTP 200 with {said}", provider=provider, user_message=_(UNAVAILABLE_TEXT)
            )
        seeds = payload.get("seeds") or []
        return [(b64, _int(seeds[i]) if i < len(seeds) else None) for i, b64 in enumerate(images)]
    error = payload.get("error")
    if not images:
        said = scrub(str(error)) if error else "no images"
        if error and is_filter_message(str(error)):
            raise Refused(f"{provider}: HTTP 200: {said}", provider=provider, user_message=_(REFUSED_TEXT))
        raise Unavailable(
            f"{provider}: HTTP 200 without images: {said}",
            provider=provider,
            user_message=_("Bedrock answered without an image; please try again."),
        )
    return [(b64, None) for b64 in images]


# ------------------------------------------------------------------------------------------ bodies


def _amazon_body(
    spec: ModelSpec, request: ImageRequest, settings: DiffusionSettings, *, img2img: bool, provider: str
) -> dict[str, Any]:
    options = dict(settings.options)
    width, height = spec.sizes.get(request.aspect) or spec.sizes[_nearest(request.aspect, spec.sizes)]
    config: dict[str, Any] = {
        "numberOfImages": max(1, min(request.n, MAX_AMAZON_IMAGES)),
        "width": width,
        "height": height,
        "quality": "premium" if (request.quality or "").lower() in ("hd", "high", "premium") else "standard",
    }
    if settings.cfg_scale is not None:
        config["cfgScale"] = min(10.0, max(1.1, settings.cfg_scale))
    if request.seed is not None:
        config["seed"] = request.seed % (spec.max_seed + 1)
    for key in ("numberOfImages", "width", "height", "quality", "cfgScale", "seed"):
        if key in options:
            config[key] = options.pop(key)
    params: dict[str, Any] = {}
    if img2img:
        references = request.reference_images[: spec.capabilities.max_reference_images]
        params["images"] = [_b64_png_or_jpeg(data, provider=provider) for data in references]
        strength = img2img_strength(request, settings.denoising_strength)
        params["similarityStrength"] = round(min(1.0, max(0.2, 1.0 - strength)), 3)
        params["text"] = diffusion_prompt(request)[:MAX_TEXT]
    else:
        params["text"] = request.prompt[:MAX_TEXT]
    if request.negative:
        params["negativeText"] = request.negative[:MAX_TEXT]
    params = merge_options(params, options)
    task = "IMAGE_VARIATION" if img2img else "TEXT_IMAGE"
    key = "imageVariationParams" if img2img else "textToImageParams"
    return {"taskType": task, key: params, "imageGenerationConfig": config}


def _stability_body(
    request: ImageRequest, settings: DiffusionSettings, *, img2img: bool, mode: bool, provider: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "prompt": diffusion_prompt(request),
        "output_format": "png",
    }
    if request.negative:
        body["negative_prompt"] = request.negative
    seed = wire_seed(request.seed)
    if seed is not None:
        body["seed"] = seed
    if img2img:
        if mode:
            body["mode"] = "image-to-image"
        body["image"] = _b64_png_or_jpeg(request.reference_images[0], provider=provider)
        body["strength"] = img2img_strength(request, settings.denoising_strength)
    else:
        body["aspect_ratio"] = aspect_ratio(request.aspect)
    return merge_options(body, settings.options)


def _nearest(aspect: Aspect, sizes: Mapping[Aspect, tuple[int, int]]) -> Aspect:
    return min(sizes, key=lambda a: abs(a.ratio - aspect.ratio))


def _b64_png_or_jpeg(data: bytes, *, provider: str) -> str:
    """Base64 of a reference image, re-encoded as PNG unless it already is PNG or JPEG."""
    try:
        if sniff(data) not in ("image/png", "image/jpeg"):
            data = encode_png(open_image(data))
    except ImageError as exc:
        raise InvalidRequest(
            f"{provider}: the reference is not a usable image",
            provider=provider,
            user_message=exc.user_message,
        ) from exc
    return base64.b64encode(data).decode("ascii")


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
