"""Pieces shared by the chat-style image APIs (Gemini ``generateContent``, OpenRouter chat completions).

Both take one user turn of text plus inline reference images, answer with base64 images next to
optional text, and refuse inside an HTTP 200. What is the same for them alone lives here: the aspect
label, the image size for ``--quality`` and the refusal texts (the rest is :mod:`bot.providers._http.common`).
"""

from __future__ import annotations

import math

from bot.core.i18n import N_, _
from bot.core.types import Aspect
from bot.providers._http.common import reduced
from bot.providers._http.errors import scrub

__all__ = [
    "NO_IMAGE_TEXT",
    "RECITATION_TEXT",
    "aspect_label",
    "image_size_for",
    "text_only_text",
]

NO_IMAGE_TEXT = N_("The image service answered without an image; try rephrasing the prompt.")
RECITATION_TEXT = N_(
    "The image service refused because the result would be too close to existing (copyrighted) work."
)
_IMAGE_SIZES = {"low": "1K", "high": "2K", "hd": "2K"}


def aspect_label(aspect: Aspect, allowed: tuple[Aspect, ...]) -> str:
    """``"16:9"``: the request's aspect if allowed (in any multiple, 32:18 is 16:9), else the nearest."""
    if reduced(aspect) in allowed:
        return str(reduced(aspect))
    return str(min(allowed, key=lambda a: abs(math.log(a.ratio / aspect.ratio))))


def image_size_for(quality: str | None) -> str | None:
    """``--quality`` → an image size (1K/2K); None keeps the server default (1K)."""
    return _IMAGE_SIZES.get((quality or "").lower())


def text_only_text(text: str) -> str:
    """The user message for an answer that has words but no image (often a soft refusal)."""
    said = scrub(text, limit=200)
    if not said:
        return _(NO_IMAGE_TEXT)
    return _(
        "The image service answered with text instead of an image: “{said}” Try rephrasing the prompt."
    ).format(said=said)
