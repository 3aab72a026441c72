"""What a request fills a ComfyUI workflow's placeholders with (see :mod:`bot.providers.comfyui.workflow`).

The sampler settings of ``providers.comfyui`` apply, else the defaults here (those of the built-in
SDXL-style templates); the canvas comes from the request's aspect and the model's native size.
"""

from __future__ import annotations

from typing import Any

from bot.core.types import GenerationKind, ImageRequest
from bot.providers._http.common import diffusion_prompt
from bot.providers._http.local_servers import canvas_for
from bot.providers.comfyui.settings import ComfyUISettings
from bot.providers.comfyui.workflow import fill

__all__ = ["DEFAULT_CHECKPOINT", "filled_workflow"]

DEFAULT_CHECKPOINT = "sd_xl_base_1.0.safetensors"
DEFAULT_STEPS = 25
DEFAULT_CFG = 7.0
DEFAULT_SAMPLER = "euler"
EDIT_DENOISE = 0.55
VARY_DENOISE = 0.35


def filled_workflow(
    template: Any,
    request: ImageRequest,
    settings: ComfyUISettings,
    *,
    model: str,
    seed: int,
    image: str | None,
) -> Any:
    """``template`` with every placeholder filled for ``request`` (``{{image}}`` is the uploaded name)."""
    width, height = canvas_for(request.aspect, model, settings.options)
    denoise = settings.denoising_strength
    if denoise is None:
        denoise = EDIT_DENOISE if request.kind is GenerationKind.EDIT else VARY_DENOISE
    values: dict[str, str | int | float] = {
        "prompt": diffusion_prompt(request),
        "negative": request.negative or "",
        "seed": seed,
        "width": width,
        "height": height,
        "steps": settings.steps or DEFAULT_STEPS,
        "cfg": settings.cfg_scale if settings.cfg_scale is not None else DEFAULT_CFG,
        "sampler": settings.sampler or DEFAULT_SAMPLER,
        "denoise": denoise,
        "model": model,
    }
    if image is not None:
        values["image"] = image
    return fill(template, values)
