"""What ``sdwebui`` sends and keeps: the txt2img/img2img body, and the generated images of the answer.

The answer's ``images`` are, upstream (``modules/processing.py``): a grid first only when the job saves
images (``save_images``, false unless set in ``options``), grids are returned and more than one image was
made (``info.index_of_first_image`` is then 1); then one image per generated picture; then whatever
extensions append (ControlNet's detect maps, ...). Exactly the ``n`` generated images are kept, in order.
A1111 1.10 replaces an unknown ``sampler`` with its default one; that is logged.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.core.errors import ImageError, Unavailable
from bot.core.i18n import _
from bot.core.imaging import image_size
from bot.core.types import GenerationKind, Image, ImageRequest
from bot.providers._http.common import diffusion_prompt, encode_reference
from bot.providers._http.local_servers import canvas_for
from bot.providers._http.media import decode_base64, to_image
from bot.providers.settings import SamplerSettings

__all__ = ["DEFAULT_STEPS", "EDIT_DENOISE", "VARY_DENOISE", "build_body", "pick_images"]

log = logging.getLogger(__name__)

DEFAULT_STEPS = 25
"""The API's own default is 50 steps (the UI's is 20); 25 is a reasonable middle."""
EDIT_DENOISE = 0.55
VARY_DENOISE = 0.35


def build_body(
    request: ImageRequest,
    settings: SamplerSettings,
    *,
    model: str | None,
    edit: bool,
    max_n: int,
    provider: str,
) -> dict[str, Any]:
    """The ``txt2img`` body, or the ``img2img`` one (the first reference as ``init_images``) for an edit."""
    options = dict(settings.options)
    width, height = canvas_for(request.aspect, model, options)
    options.pop("long_side", None)
    override = options.pop("override_settings", None)
    override = dict(override) if isinstance(override, dict) else {}
    body: dict[str, Any] = {
        **options,
        "prompt": diffusion_prompt(request),
        "seed": request.seed if request.seed is not None else -1,
        "batch_size": max(1, min(request.n, max_n)),
        "n_iter": 1,
        "width": width,
        "height": height,
        "steps": settings.steps or DEFAULT_STEPS,
    }
    if request.negative:
        body["negative_prompt"] = request.negative
    if settings.sampler:
        body["sampler_name"] = settings.sampler
    if settings.cfg_scale is not None:
        body["cfg_scale"] = settings.cfg_scale
    if model:
        override["sd_model_checkpoint"] = model
    if override:
        body["override_settings"] = override
    if edit:
        reference = request.reference_images[0]
        body["init_images"] = [encode_reference(reference, provider=provider, data_url=False)]
        default = EDIT_DENOISE if request.kind is GenerationKind.EDIT else VARY_DENOISE
        strength = settings.denoising_strength
        body["denoising_strength"] = strength if strength is not None else default
        if request.mask is not None:
            body["mask"] = encode_reference(request.mask, provider=provider, data_url=False, what="mask")
    return body


def pick_images(
    payload: Any,
    request: ImageRequest,
    *,
    model: str | None,
    sampler: str | None,
    max_n: int,
    provider: str,
) -> list[Image]:
    """The ``n`` generated images of an answer (no grid, no extension images), each with its seed."""
    raw = payload.get("images") if isinstance(payload, dict) else None
    items = [item for item in raw if isinstance(item, str) and item] if isinstance(raw, list) else []
    if not items:
        raise Unavailable(
            f"{provider}: answer has no images",
            provider=provider,
            user_message=_("The image service answered without any image."),
        )
    info = _info(payload.get("info"))
    wanted = max(1, min(request.n, max_n))
    first = _first_image(info, items, wanted)
    chosen = items[first : first + wanted]
    if not chosen:
        raise Unavailable(
            f"{provider}: answer has a grid but no images",
            provider=provider,
            user_message=_("The image service answered without any image."),
        )
    _note_sampler(sampler, info)
    seeds = _seeds(info, request.seed, len(chosen))
    model = model or _str(info.get("sd_model_name"))
    images = []
    for item, seed in zip(chosen, seeds, strict=True):
        data, mime = decode_base64(item, provider=provider)
        images.append(to_image(data, provider=provider, model=model, seed=seed, mime=mime))
    return images


def _note_sampler(asked: str | None, info: dict[str, Any]) -> None:
    """A1111 1.10 draws with its default sampler when the configured one is unknown: say so."""
    used = _str(info.get("sampler_name"))
    if asked and used and not asked.startswith(used):
        log.warning(
            "sdwebui: the server used sampler %r, not the configured %r (unknown there?)", used, asked
        )


def _info(value: object) -> dict[str, Any]:
    """``info`` is a JSON document inside a string; {} when it is missing or unreadable."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        return {}
    try:
        decoded = json.loads(value)
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _first_image(info: dict[str, Any], items: list[str], wanted: int) -> int:
    """Where the generated images start: ``index_of_first_image`` (1 after a grid), else 0 unless the
    first of more than ``wanted`` images is bigger than the second (a grid, from a server whose info
    does not say)."""
    index = info.get("index_of_first_image")
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(items):
        return index
    if len(items) > wanted > 1 and _size(items[0]) != _size(items[1]):
        return 1
    return 0


def _size(item: str) -> tuple[int, int] | None:
    try:
        data, _mime = decode_base64(item, provider="sdwebui")
        return image_size(data)
    except (Unavailable, ImageError):
        return None


def _seeds(info: dict[str, Any], requested: int | None, count: int) -> list[int | None]:
    """Each image's seed: ``all_seeds``, else ``seed`` + i as reported, else the requested one + i."""
    reported = info.get("all_seeds")
    if isinstance(reported, list) and len(reported) >= count and all(_is_int(s) for s in reported[:count]):
        return [int(s) for s in reported[:count]]
    first = info.get("seed")
    if isinstance(first, int) and not isinstance(first, bool) and first >= 0:
        return [first + i for i in range(count)]
    if requested is not None and requested >= 0:
        return [requested + i for i in range(count)]
    return [None] * count


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
