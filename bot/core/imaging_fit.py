"""Fitting an image to what a platform accepts as a photo: ratio, pixels and bytes.

Only Pillow is imported here; decoding, sniffing and PNG encoding come from :mod:`bot.core.imaging`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from bot.core.imaging import _has_alpha, encode_png, image_size, open_image, sniff

__all__ = ["PhotoLimits", "fit_photo"]


@dataclass(frozen=True, slots=True)
class PhotoLimits:
    """What a platform accepts as a photo; each platform adapter declares its own."""

    max_bytes: int
    max_side_sum: int
    max_ratio: float
    mimes: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp")
    recompress_over: int | None = None
    """A PNG larger than this is sent as JPEG (quality 90): for a platform that recompresses photos
    to JPEG anyway, the lossless bytes are only a slower upload (the original file stays as it is)."""


_JPEG_QUALITIES = (90, 82, 72)


def fit_photo(data: bytes, limits: PhotoLimits) -> bytes:
    """``data`` unchanged when it meets ``limits``, else a re-encoded copy that does.

    Too extreme a ratio is padded (nothing cropped), too many pixels scaled down, too many bytes
    re-encoded as JPEG at falling quality and then size. CPU-bound: call it in a thread.
    """
    mime = sniff(data)
    width, height = image_size(data)
    fits = (
        mime in limits.mimes
        and len(data) <= limits.max_bytes
        and width + height <= limits.max_side_sum
        and max(width, height) / min(width, height) <= limits.max_ratio
    )
    recompress = (
        mime == "image/png" and limits.recompress_over is not None and len(data) > limits.recompress_over
    )
    if fits and not recompress:
        return data
    img = open_image(data, max_bytes=max(len(data), 20_000_000), max_pixels=200_000_000, budget=None)
    if fits:  # only too many lossless bytes for a platform that makes a JPEG of it anyway
        buf = io.BytesIO()
        opaque = _flatten(img.convert("RGBA")) if _has_alpha(img) else img.convert("RGB")
        opaque.save(buf, format="JPEG", quality=_JPEG_QUALITIES[0])
        return buf.getvalue() if buf.tell() < len(data) else data
    img = _pad_to_ratio(img, limits.max_ratio)
    if img.width + img.height > limits.max_side_sum:
        scale = limits.max_side_sum / (img.width + img.height)
        img = img.resize(
            (max(1, int(img.width * scale)), max(1, int(img.height * scale))), Image.Resampling.LANCZOS
        )
    if img.mode == "RGBA":
        out = encode_png(img)
        if len(out) <= limits.max_bytes:
            return out
        img = _flatten(img)
    while True:
        for quality in _JPEG_QUALITIES:
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=quality, optimize=True)
            if buf.tell() <= limits.max_bytes:
                return buf.getvalue()
        img = img.resize((max(1, img.width * 3 // 4), max(1, img.height * 3 // 4)), Image.Resampling.LANCZOS)


def _pad_to_ratio(img: Image.Image, max_ratio: float) -> Image.Image:
    long_side, short_side = max(img.size), min(img.size)
    if long_side / short_side <= max_ratio:
        return img
    needed = -(-long_side // int(max_ratio))  # ceil: the short side that brings the ratio to the limit
    size = (img.width, needed) if img.width >= img.height else (needed, img.height)
    fill = (0, 0, 0, 0) if img.mode == "RGBA" else (0, 0, 0)
    canvas = Image.new(img.mode, size, fill)
    canvas.paste(img, ((size[0] - img.width) // 2, (size[1] - img.height) // 2))
    return canvas


def _flatten(img: Image.Image) -> Image.Image:
    background = Image.new("RGB", img.size, (255, 255, 255))
    background.paste(img, mask=img.getchannel("A"))
    return background
