"""Fitting a request to a provider: what it cannot take is dropped or moved to the nearest it can, and said.

Also the note for a set of images that came back byte for byte the same.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bot.core.i18n import _
from bot.core.ports import Provider
from bot.core.types import Aspect, Image, ImageRequest


def fit_to_capabilities(request: ImageRequest, provider: Provider) -> tuple[ImageRequest, list[str]]:
    """Adjust ``request`` to what ``provider`` supports and say what changed."""
    caps = provider.capabilities
    notes: list[str] = []
    changes: dict[str, object] = {}
    if request.negative and not caps.negative_prompt:
        changes["negative"] = None
        notes.append(_("{provider} has no negative prompt; --no was ignored.").format(provider=provider.name))
    if request.seed is not None and request.seed_given and not caps.seed:
        notes.append(_("{provider} does not take a seed; results will vary.").format(provider=provider.name))
    if caps.aspects and request.aspect not in caps.aspects:
        nearest = nearest_aspect(request.aspect, caps.aspects)
        changes["aspect"] = nearest
        notes.append(
            _("{provider} has no {aspect}; used the nearest, {nearest}.").format(
                provider=provider.name, aspect=request.aspect, nearest=nearest
            )
        )
    if len(request.reference_images) > caps.max_reference_images:
        changes["reference_images"] = request.reference_images[: caps.max_reference_images]
        notes.append(
            _("{provider} takes at most {count} reference image(s).").format(
                provider=provider.name, count=caps.max_reference_images
            )
        )
    return dataclasses.replace(request, **changes) if changes else request, notes  # type: ignore[arg-type]


def nearest_aspect(wanted: Aspect, available: Sequence[Aspect]) -> Aspect:
    return min(available, key=lambda a: abs(a.ratio - wanted.ratio))


def identical_notes(images: Sequence[Image], name: str) -> tuple[str, ...]:
    """Several images that are byte for byte the same (a workflow or cache that ignores the seed)."""
    if len(images) > 1 and len({image.data for image in images}) == 1:
        return (
            _("{provider} made {count} identical images (it ignores the seed).").format(
                provider=name, count=len(images)
            ),
        )
    return ()
