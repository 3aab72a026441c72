"""Stability AI's image models, as both the ``stability`` REST provider and Bedrock's Stability models
see them: the aspect ratios they take, the seed range, and how strongly an edit may move away from
its reference image.

Diffusion img2img has no "instruction" input: an edit is the reference image plus a prompt describing
the result (:func:`bot.providers._http.common.diffusion_prompt`); ``strength`` (how far the result may move
from the reference) comes from ``providers.<name>.denoising_strength``.
"""

from __future__ import annotations

from bot.core.types import Aspect, GenerationKind, ImageRequest

__all__ = ["ASPECTS", "MAX_SEED", "aspect_ratio", "img2img_strength", "wire_seed"]

ASPECTS: tuple[Aspect, ...] = (
    Aspect(1, 1),
    Aspect(16, 9),
    Aspect(9, 16),
    Aspect(21, 9),
    Aspect(9, 21),
    Aspect(3, 2),
    Aspect(2, 3),
    Aspect(5, 4),
    Aspect(4, 5),
)
"""The ``aspect_ratio`` values every Stability generate endpoint accepts."""

MAX_SEED = 4_294_967_294
"""Seeds go from 0 to this; 0 means "pick one at random"."""

EDIT_STRENGTH = 0.6
"""Default img2img strength for an edit: the instruction must be able to change things."""
VARY_STRENGTH = 0.45
"""Default img2img strength for a variation: recognisably the same picture."""


def aspect_ratio(aspect: Aspect) -> str:
    """The wire value for ``aspect``: itself when supported, else the nearest supported ratio."""
    chosen = aspect if aspect in ASPECTS else min(ASPECTS, key=lambda a: abs(a.ratio - aspect.ratio))
    return str(chosen)


def wire_seed(seed: int | None) -> int | None:
    """``seed`` folded into 0..MAX_SEED (None stays None: the server picks and reports one)."""
    return None if seed is None else seed % (MAX_SEED + 1)


def img2img_strength(request: ImageRequest, configured: float | None) -> float:
    """How far the result may move from the reference (0 = keep it, 1 = ignore it)."""
    if configured is not None:
        return float(configured)
    return VARY_STRENGTH if request.kind is GenerationKind.VARY else EDIT_STRENGTH
