"""What a job made, said truthfully: the parameters recorded with a generation describe its images
(their aspect and count as they came back, not only as asked), and what the provider did not do of
what was asked is said to the user as a note.

A request's aspect is a wish: an edit keeps its picture's shape unless the instruction changes it ("try
a 16:9 version" crops to 16:9), and a provider may ignore ``--ar`` on an edit; so the recorded aspect is
read from the first image's size (the asked one when the size is that aspect within rounding). The
caption, the gallery's detail view and the API all read it from there.

A reroll that comes back byte for byte the same as the picture it rerolls (a provider whose edits do not
depend on the seed) is not delivered as if it were new: :func:`check_reroll` says why it cannot work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from bot.core.errors import InvalidInput
from bot.core.i18n import _
from bot.core.messages import Edit, Generate, JobIntent
from bot.core.types import Aspect, GenerationKind, GenerationRecord, GenerationResult, Image, ImageRequest

ASPECT_TOLERANCE = 0.03
"""Sizes are rounded (to multiples of 8, 16 or 64): within 3 % of the asked ratio is the asked aspect."""
ROUNDING_PX = 8
"""... and so is a size whose short side is within one rounding step of the asked shape (96x56: 16:9)."""
MAX_TERM = 32
"""An aspect read from a size is written with terms up to this (1000x563 → 16:9, not 1000:563)."""


@dataclass(frozen=True, slots=True)
class Made:
    params: dict[str, Any]
    """Entries to record over the request's own (``params_of``)."""
    notes: tuple[str, ...]
    """What was asked and not done, for the user."""


def aspect_of(width: int, height: int) -> Aspect:
    """The aspect of a size in small terms: 1024x576 → 16:9, 1216x832 → 19:13, 1000x563 → 16:9."""
    ratio = Fraction(max(1, width), max(1, height))
    if ratio.numerator > MAX_TERM or ratio.denominator > MAX_TERM:
        ratio = ratio.limit_denominator(MAX_TERM)
        while ratio.numerator > MAX_TERM:  # a wide ratio: bound the numerator too
            ratio = Fraction(ratio.numerator // 2, max(1, ratio.denominator // 2))
    return Aspect(ratio.numerator, ratio.denominator)


def same_aspect(a: Aspect, b: Aspect) -> bool:
    return abs(a.ratio - b.ratio) <= ASPECT_TOLERANCE * b.ratio


def made_aspect(asked: Aspect, images: Sequence[Image]) -> Aspect:
    """The aspect the images have: ``asked`` when the first one is that shape, else read from its size."""
    if not images:
        return asked
    width, height = images[0].width, images[0].height
    seen = aspect_of(width, height)
    if same_aspect(seen, asked):
        return asked
    wide, asked_wide = width >= height, asked.width >= asked.height
    exact_short = max(width, height) / max(asked.ratio, 1 / asked.ratio)
    if (wide == asked_wide or asked.width == asked.height) and abs(
        min(width, height) - exact_short
    ) <= ROUNDING_PX:
        return asked
    return seen


def describe(intent: JobIntent, request: ImageRequest, result: GenerationResult) -> Made:
    """The truthful parameters and the notes for what ``result`` made of ``request``."""
    images, provider = result.images, result.provider
    aspect = made_aspect(request.aspect, images)
    params: dict[str, Any] = {"aspect": str(aspect), "n": len(images) or request.n}
    if aspect != request.aspect:
        params["asked_aspect"] = str(request.aspect)
    notes: list[str] = []
    options = intent.options if isinstance(intent, Generate | Edit) else None
    asked = options.aspect if options is not None else None
    already = any(str(aspect) in note for note in result.notes)  # e.g. "used the nearest, 3:2"
    if images and asked is not None and not same_aspect(aspect, asked) and not already:
        if request.kind == GenerationKind.EDIT:
            notes.append(
                _(
                    "{provider} kept the picture's {aspect} shape for this edit; --ar {asked} was ignored."
                ).format(provider=provider, aspect=aspect, asked=asked)
            )
        else:
            notes.append(
                _("{provider} made a {aspect} picture; --ar {asked} was not possible.").format(
                    provider=provider, aspect=aspect, asked=asked
                )
            )
    if request.model and result.model and not _same_model(request.model, result.model):
        notes.append(
            _("{provider} has no model {model}; {used} made this.").format(
                provider=provider, model=repr(request.model), used=result.model
            )
        )
    if images and len(images) < request.n:
        notes.append(
            _("{provider} made {count} of the {asked} images asked for.").format(
                provider=provider, count=len(images), asked=request.n
            )
        )
    return Made(params, tuple(notes))


def check_reroll(source: GenerationRecord | None, images: Sequence[Image], provider: str) -> None:
    """Raise when a reroll came back identical to the picture it rerolls: the provider ignores the seed
    for it (the offline renderer's edits are exact operations), so no reroll can change it."""
    if source is None or not source.images or not images:
        return
    before = {image.sha256 for image in source.images}
    if all(hashlib.sha256(image.data).hexdigest() in before for image in images):
        same = (
            _(
                "{provider} made exactly the same picture again: it does not use the seed for this edit, "
                "so a reroll cannot change it. Try Vary, or ask for the change in other words."
            )
            if source.kind == GenerationKind.EDIT
            else _(
                "{provider} made exactly the same picture again: it does not use the seed for this picture, "
                "so a reroll cannot change it. Try Vary, or ask for the change in other words."
            )
        )
        raise InvalidInput(
            f"reroll of #{source.id} came back identical from {provider}",
            user_message=same.format(provider=provider),
        )


def recorded(params: Mapping[str, Any], made: Made, source: Mapping[str, Any] | None) -> dict[str, Any]:
    """The request's parameters with what was made over them, and the image it started from."""
    merged = {**params, **made.params}
    if source is not None:
        merged["source"] = dict(source)
    return merged


def _same_model(asked: str, used: str) -> bool:
    """Providers write model names their own way (``models/x``, ``owner/name:version``)."""
    a, b = asked.strip().lower(), used.strip().lower()
    return a in b or b in a
