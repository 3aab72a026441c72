"""``providers.comfyui``: a diffusion server's knobs plus the workflow file to run."""

from __future__ import annotations

from pathlib import Path

from bot.providers.settings import SamplerSettings

__all__ = ["ComfyUISettings"]


class ComfyUISettings(SamplerSettings):
    """ComfyUI: ``base_url`` (one server or a list), checkpoint ``model``, sampling, and a workflow."""

    workflow: Path | None = None
    """An API-format workflow JSON with placeholders ({{prompt}}, {{negative}}, {{seed}}, {{width}},
    {{height}}, {{steps}}, {{image}}, {{cfg}}, {{sampler}}, {{denoise}}, {{model}}); a built-in
    SDXL-style template when unset. With an {{image}} placeholder it is an edit workflow (and new
    images are refused) unless ``edit_workflow`` is set."""

    edit_workflow: Path | None = None
    """The API-format workflow for edits and variations (must use {{image}}); with it, ``workflow``
    makes new images (the built-in txt2img when unset) and chat offers edits."""

    upscale_model: str | None = None
    """An upscale model file in the server's ``models/upscale_models`` (``RealESRGAN_x4plus.pth``):
    /upscale runs it (UpscaleModelLoader, ImageUpscaleWithModel), then sizes the result to exactly the
    factor. Unset: ComfyUI's model-free ImageScaleBy with Lanczos."""
