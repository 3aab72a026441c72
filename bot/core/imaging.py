"""Pillow helpers the core needs: recognise, safely open and deterministically encode images.

Only Pillow is imported here. Every failure is raised as :class:`bot.core.errors.ImageError`, whose
``user_message`` is safe to show in a chat; Pillow's own exceptions are converted with ``raise ... from``.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from bot.core.errors import ImageError

__all__ = [
    "SUPPORTED_MIMES",
    "PhotoLimits",
    "encode_png",
    "fit_photo",
    "image_size",
    "open_image",
    "sniff",
]

NOT_AN_IMAGE = "That file is not an image I can read (PNG, JPEG, WebP or GIF)."

SUPPORTED_MIMES: dict[str, str] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}
"""MIME type → Pillow format name, for the types :func:`sniff` recognises."""

# EXIF orientations 5..8 rotate by 90 degrees, so the displayed width and height swap.
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})
_EXIF_ORIENTATION_TAG = 0x0112
_PNG_COMPRESS_LEVEL = 3  # about 3x faster than zlib's default 6 for ~10% more bytes on grainy renders


def sniff(data: bytes) -> str:
    """The MIME type of ``data`` from its magic bytes; :class:`ImageError` if it is not a known image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    raise ImageError("unrecognised image signature", user_message=NOT_AN_IMAGE)


def open_image(data: bytes, *, max_bytes: int = 20_000_000, max_pixels: int = 50_000_000) -> Image.Image:
    """Decode ``data`` safely into a loaded RGB image (RGBA when it has transparency).

    The byte size is checked first, then the signature, then the pixel count from the header (before
    any pixels are decoded). EXIF orientation is applied, so the result is the way people see it.
    """
    if len(data) > max_bytes:
        raise ImageError(
            f"image is {len(data)} bytes, limit {max_bytes}",
            user_message=f"That image is too large, max {_megabytes(max_bytes)} MB.",
        )
    mime = sniff(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[SUPPORTED_MIMES[mime]]) as src:
                width, height = src.size
                if width <= 0 or height <= 0 or width * height > max_pixels:
                    raise ImageError(
                        f"image claims {width}x{height} pixels, limit {max_pixels}",
                        user_message=f"That image has too many pixels (max {max_pixels // 1_000_000} MP).",
                    )
                src.load()
                img = ImageOps.exif_transpose(src)
                return img.convert("RGBA" if _has_alpha(img) else "RGB")
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(
            f"decompression bomb: {exc}", user_message="That image has too many pixels to open."
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise ImageError(f"cannot decode image: {exc}", user_message=NOT_AN_IMAGE) from exc


def encode_png(img: Image.Image) -> bytes:
    """PNG bytes that depend only on the pixels: no metadata, no timestamps, fixed settings."""
    if img.mode not in ("RGB", "RGBA", "L", "LA"):
        img = img.convert("RGBA" if _has_alpha(img) else "RGB")
    clean = Image.new(img.mode, img.size)
    clean.paste(img)
    buf = io.BytesIO()
    clean.save(buf, format="PNG", optimize=False, compress_level=_PNG_COMPRESS_LEVEL)
    return buf.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) as displayed (EXIF orientation applied), read from the header only.

    Raises ImageError for bytes that are not a supported image, and for headers so large that Pillow
    itself calls them a decompression bomb.
    """
    mime = sniff(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[SUPPORTED_MIMES[mime]]) as src:
                width, height = src.size
                raw_exif = src.info.get("exif")  # what the header held; getexif() may decode a PNG
        orientation = None
        if isinstance(raw_exif, bytes):
            exif = Image.Exif()
            exif.load(raw_exif)
            orientation = exif.get(_EXIF_ORIENTATION_TAG)
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"cannot read image header: {exc}", user_message=NOT_AN_IMAGE) from exc
    if orientation in _SWAPPING_ORIENTATIONS:
        return height, width
    return width, height


@dataclass(frozen=True, slots=True)
class PhotoLimits:
    """What a platform accepts as a photo (Telegram's sendPhoto limits by default)."""

    max_bytes: int = 10 * 1024 * 1024
    max_side_sum: int = 10_000
    max_ratio: float = 20.0
    mimes: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp")


TELEGRAM_PHOTO = PhotoLimits()
_JPEG_QUALITIES = (90, 82, 72)


def fit_photo(data: bytes, limits: PhotoLimits = TELEGRAM_PHOTO) -> bytes:
    """``data`` unchanged when it meets ``limits``, else a re-encoded copy that does.

    Too extreme a ratio is padded (nothing cropped), too many pixels scaled down, too many bytes
    re-encoded as JPEG at falling quality and then size. CPU-bound: call it in a thread.
    """
    mime = sniff(data)
    width, height = image_size(data)
    if (
        mime in limits.mimes
        and len(data) <= limits.max_bytes
        and width + height <= limits.max_side_sum
        and max(width, height) / min(width, height) <= limits.max_ratio
    ):
        return data
    img = open_image(data, max_bytes=max(len(data), 20_000_000), max_pixels=200_000_000)
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


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info)


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:g}"
