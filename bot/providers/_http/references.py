"""Reference images in a form the provider takes: converted once, here, for every HTTP provider.

Each provider declares the image types its API accepts as input (:data:`PNG_JPEG_WEBP` for most of
them; xAI takes only PNG and JPEG). A reference of another type (GIF above all: Telegram and Discord
users send them) or an animation of any type (animated GIF, WebP or PNG: these APIs read still
images) is decoded to its first frame and re-encoded as PNG (JPEG where PNG is not accepted). The
decode goes through :func:`bot.core.imaging.open_image`, so the byte, pixel and decompression-bomb
limits of uploads apply, and it runs in a worker thread (``asyncio.to_thread``), never on the event
loop. References that are already fine are sent byte for byte, untouched.

:func:`prepare` returns the request with its references replaced and the notes that say what was
changed (also logged); a provider hands those notes to the user by attaching them to the images it
returns (:func:`noted`, :attr:`bot.core.types.Image.notes`), which the chain merges into the result.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image as PILImage

from bot.core.errors import ImageError, InvalidRequest
from bot.core.i18n import _
from bot.core.imaging import MAX_PIXELS, NOT_AN_IMAGE, SUPPORTED_MIMES, encode_png, open_image, sniff
from bot.core.types import Image, ImageRequest

__all__ = [
    "PNG_JPEG",
    "PNG_JPEG_WEBP",
    "Prepared",
    "convert",
    "noted",
    "prepare",
]

log = logging.getLogger(__name__)

PNG_JPEG_WEBP = frozenset({"image/png", "image/jpeg", "image/webp"})
"""OpenAI edits, Gemini (which also takes HEIC/HEIF, never sent), Stability, BFL, OpenRouter."""
PNG_JPEG = frozenset({"image/png", "image/jpeg"})
"""xAI ("Supported image file types: jpg/jpeg or png", docs.x.ai image understanding)."""
MAX_REFERENCE_BYTES = 32 * 1024 * 1024
"""A reference may be an image a provider made (up to the 32 MB download cap), not only an upload."""
_JPEG_QUALITY = 90
_LABELS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WebP", "image/gif": "GIF"}


@dataclass(frozen=True, slots=True)
class Prepared:
    """References ready to send, and what was changed to make them so (one note per change)."""

    images: tuple[bytes, ...]
    notes: tuple[str, ...] = ()


async def prepare(
    request: ImageRequest, accepted: frozenset[str], *, provider: str
) -> tuple[ImageRequest, tuple[str, ...]]:
    """``request`` with every reference image in a type of ``accepted`` (the request itself when all
    already are), and a note per conversion for the user (also logged)."""
    if not request.reference_images:
        return request, ()
    prepared = await convert(request.reference_images, accepted, provider=provider)
    for note in prepared.notes:
        log.info("%s: %s", provider, note)
    if prepared.images == request.reference_images:
        return request, prepared.notes
    return dataclasses.replace(request, reference_images=prepared.images), prepared.notes


def noted(images: Sequence[Image], notes: Sequence[str]) -> list[Image]:
    """``images`` carrying ``notes`` for the user (:attr:`Image.notes`), after any they already have."""
    if not notes:
        return list(images)
    return [dataclasses.replace(image, notes=(*image.notes, *notes)) for image in images]


async def convert(images: Sequence[bytes], accepted: frozenset[str], *, provider: str) -> Prepared:
    """Each image as it is when ``accepted`` and still, else its first frame as PNG (or JPEG)."""
    if not accepted & {"image/png", "image/jpeg"}:
        raise ValueError(f"{provider}: accepted types must include PNG or JPEG: {sorted(accepted)}")
    out: list[bytes] = []
    notes: list[str] = []
    for index, data in enumerate(images, start=1):
        converted, note = await asyncio.to_thread(_convert_one, data, accepted, provider)
        out.append(converted)
        if note:
            notes.append(
                note if len(images) == 1 else _("reference {index}: {note}").format(index=index, note=note)
            )
    return Prepared(tuple(out), tuple(notes))


def _convert_one(data: bytes, accepted: frozenset[str], provider: str) -> tuple[bytes, str | None]:
    """(bytes to send, a note or None). CPU-bound: runs in a worker thread."""
    try:
        mime = sniff(data)
        animated = mime != "image/jpeg" and _frames(data, mime) > 1
        if mime in accepted and not animated:
            return data, None
        img = open_image(data, max_bytes=MAX_REFERENCE_BYTES)  # the first frame, within the budgets
    except ImageError as exc:
        raise InvalidRequest(
            f"{provider}: the reference image cannot be read: {exc}",
            provider=provider,
            user_message=exc.user_message,
        ) from exc
    try:
        target = "image/png" if "image/png" in accepted else "image/jpeg"
        out = encode_png(img) if target == "image/png" else _encode_jpeg(img)
    finally:
        img.close()
    label, to = _LABELS.get(mime, mime), _LABELS[target]
    if animated:
        return out, _(
            "{provider} takes still images only; the first frame of the animated {label} was sent."
        ).format(provider=provider, label=label)
    return out, _("{provider} does not take {label} images; it was sent as {to}.").format(
        provider=provider, label=label, to=to
    )


def _frames(data: bytes, mime: str) -> int:
    """The frame count from the header (1 for still images); the pixel cap is checked first."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
        try:
            with PILImage.open(io.BytesIO(data), formats=[SUPPORTED_MIMES[mime]]) as src:
                width, height = src.size
                if width * height > MAX_PIXELS:
                    return 1  # open_image refuses it with the user-facing message
                return int(getattr(src, "n_frames", 1))
        except (PILImage.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageError(f"cannot read image header: {exc}", user_message=_(NOT_AN_IMAGE)) from exc


def _encode_jpeg(img: PILImage.Image) -> bytes:
    if img.mode != "RGB":
        background = PILImage.new("RGB", img.size, (255, 255, 255))
        if img.mode == "RGBA":
            background.paste(img, mask=img.getchannel("A"))
        else:
            background.paste(img.convert("RGB"))
        img = background
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=_JPEG_QUALITY)
    return buffer.getvalue()
