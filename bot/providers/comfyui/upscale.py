"""The ComfyUI workflows of an upscale (``Upscaler.upscale``), built from core nodes only.

Without ``providers.comfyui.upscale_model`` no model is needed (any server runs it):
``LoadImage → ImageScaleBy (upscale_method "lanczos", scale_by = the factor) → SaveImage``.

With it, the model does the enlarging and the size is then made exact (an upscale model has its own
fixed scale, often 4x): ``LoadImage → UpscaleModelLoader (model_name) → ImageUpscaleWithModel →
ImageScale (lanczos, width x height = the factor times the source, crop "disabled") → SaveImage``.
``UpscaleModelLoader`` and ``ImageUpscaleWithModel`` come with ComfyUI (``comfy_extras/
nodes_upscale_model.py``); the model file lives in its ``models/upscale_models``.

Node names and inputs as upstream's ``nodes.py``: ``ImageScaleBy`` takes ``image``, ``upscale_method``
(one of nearest-exact, bilinear, area, bicubic, lanczos) and ``scale_by`` (0.01 to 8.0); ``ImageScale``
takes ``image``, ``upscale_method``, ``width``, ``height`` (0 to 16384) and ``crop`` (disabled, center).
"""

from __future__ import annotations

from typing import Any

__all__ = ["METHOD", "upscale_workflow"]

METHOD = "lanczos"
PREFIX = "easel-upscale"


def upscale_workflow(
    image: str, factor: int, *, width: int, height: int, model: str | None = None
) -> dict[str, Any]:
    """The API-format workflow enlarging the uploaded ``image`` (``width`` x ``height``) ``factor`` times."""
    load = {"class_type": "LoadImage", "inputs": {"image": image}}
    if model is None:
        return {
            "1": load,
            "2": {
                "class_type": "ImageScaleBy",
                "inputs": {"image": ["1", 0], "upscale_method": METHOD, "scale_by": float(factor)},
            },
            "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": PREFIX}},
        }
    return {
        "1": load,
        "2": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": model}},
        "3": {
            "class_type": "ImageUpscaleWithModel",
            "inputs": {"upscale_model": ["2", 0], "image": ["1", 0]},
        },
        "4": {
            "class_type": "ImageScale",
            "inputs": {
                "image": ["3", 0],
                "upscale_method": METHOD,
                "width": width * factor,
                "height": height * factor,
                "crop": "disabled",
            },
        },
        "5": {"class_type": "SaveImage", "inputs": {"images": ["4", 0], "filename_prefix": PREFIX}},
    }
