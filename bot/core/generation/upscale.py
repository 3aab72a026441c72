"""Upscaling an image: who may do it, how large it may get, and the Lanczos fallback.

An upscale (``GenerationKind.UPSCALE``) asks the provider that made the image first (``made_by``),
then any other provider that has an upscaler of its own (``Capabilities.upscale`` and the
``Upscaler`` port: A1111's extras, ComfyUI's upscale nodes, the offline renderer drawing its scene
again at twice the size). When none can, or the one that can fails, the core enlarges the pixels with
Lanczos (Pillow, in a worker thread) and says so in a note. The result is never larger than
:data:`MAX_UPSCALED_SIDE` on its long side, which is also the decode budget of
``bot.core.imaging`` (4096 x 4096 pixels), and the check is made before anything is loaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from PIL import Image as PILImage

from bot.core.errors import InvalidInput
from bot.core.i18n import _
from bot.core.imaging import PIXEL_BUDGET, encode_png, open_image
from bot.core.ports import Provider, Upscaler
from bot.core.types import Image, ImageRequest

MAX_UPSCALED_SIDE = 4096
"""The longest side an upscale may produce (4096 x 4096 is ``imaging.PIXEL_BUDGET``)."""
LANCZOS = "lanczos"
"""The name recorded as the provider of an image the core enlarged itself."""


def check_upscale_size(width: int, height: int, factor: int, *, name: str) -> None:
    """Refuse an upscale whose result would be larger than :data:`MAX_UPSCALED_SIDE` on a side."""
    long_side = max(width, height) * factor
    if long_side > MAX_UPSCALED_SIDE or width * height * factor * factor > PIXEL_BUDGET:
        raise InvalidInput(
            f"upscale of {name} ({width}x{height}) by {factor} would be {long_side} px",
            user_message=_(
                "Picture {name} is {width}x{height}: upscaled {factor}x it would be "
                "{new_width}x{new_height}, and {most} px on the long side is the largest I make."
            ).format(
                name=name,
                width=width,
                height=height,
                factor=factor,
                new_width=width * factor,
                new_height=height * factor,
                most=MAX_UPSCALED_SIDE,
            ),
        )


def upscalers(request: ImageRequest, providers: Sequence[Provider]) -> list[Provider]:
    """The providers to ask, in order: the pinned one alone (``provider``), else the one that made the
    image (``made_by``) and then the others, each only when it has an upscaler."""
    able = [p for p in providers if p.capabilities.upscale and isinstance(p, Upscaler)]
    if request.provider:
        return [p for p in able if p.name == request.provider]
    return sorted(able, key=lambda p: p.name != request.made_by)


def lanczos_note(request: ImageRequest, *, failed: Sequence[str], declined: Sequence[str]) -> str:
    """What the user is told when the core enlarged the image itself, and why."""
    factor = request.upscale_factor
    if failed:
        return _("upscaled {factor}x with Lanczos; {failed} could not upscale it").format(
            factor=factor, failed=", ".join(failed)
        )
    made_by = request.made_by
    if made_by and made_by in declined:
        return _("upscaled {factor}x with Lanczos; {provider} cannot upscale this picture").format(
            factor=factor, provider=made_by
        )
    if made_by:
        return _("upscaled {factor}x with Lanczos; {provider} has no upscaler").format(
            factor=factor, provider=made_by
        )
    return _("upscaled {factor}x with Lanczos; the provider that made it has no upscaler").format(
        factor=factor
    )


async def lanczos(data: bytes, factor: int) -> Image:
    """``data`` enlarged ``factor`` times with Lanczos, as PNG (in a worker thread)."""
    return await asyncio.to_thread(_lanczos, data, factor)


def _lanczos(data: bytes, factor: int) -> Image:
    img = open_image(data)
    check_upscale_size(img.width, img.height, factor, name=_("this picture"))
    size = (img.width * factor, img.height * factor)
    big = img.resize(size, PILImage.Resampling.LANCZOS)
    return Image(
        data=encode_png(big), mime="image/png", width=size[0], height=size[1], provider=LANCZOS, model=None
    )
