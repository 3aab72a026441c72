"""Pillow helpers the core needs: recognise, safely open and deterministically encode images.

Only Pillow is imported here. Every failure is raised as :class:`bot.core.errors.ImageError`, whose
``user_message`` is safe to show in a chat; Pillow's own exceptions are converted with ``raise ... from``.
"""

from __future__ import annotations

import contextlib
import io
import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageOps

from bot.core.errors import ImageError
from bot.core.i18n import N_, _

__all__ = [
    "EXTENSIONS",
    "MAX_PIXELS",
    "MAX_UPLOAD_BYTES",
    "PIXEL_BUDGET",
    "SERIAL_DECODE_PIXELS",
    "SUPPORTED_MIMES",
    "BoundedImage",
    "bound_upload",
    "encode_png",
    "image_size",
    "open_image",
    "set_release_hook",
    "sniff",
]

NOT_AN_IMAGE = N_("That file is not an image I can read (PNG, JPEG, WebP or GIF).")

SUPPORTED_MIMES: dict[str, str] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}
"""MIME type → Pillow format name, for the types :func:`sniff` recognises."""
EXTENSIONS: dict[str, str] = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
}
"""MIME type → file name extension, for the same types."""

# EXIF orientations 5..8 rotate by 90 degrees, so the displayed width and height swap.
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})
_EXIF_ORIENTATION_TAG = 0x0112
_PNG_COMPRESS_LEVEL = 3  # about 3x faster than zlib's default 6 for ~10% more bytes on grainy renders
_UPLOAD_JPEG_QUALITY = 90

MAX_UPLOAD_BYTES = 20_000_000
MAX_PIXELS = 50_000_000
"""Hard cap: an image whose header declares more pixels is refused before any pixel is decoded."""
PIXEL_BUDGET = 4096 * 4096
"""Uploads with more pixels (16.7 MP) are reduced while decoding to at most this, and kept reduced."""
SERIAL_DECODE_PIXELS = 4_000_000
"""Decodes of more pixels than this (16 MB and up as RGB) run one at a time in the whole process.

A 49 MP RGB PNG needs ~200 MB while it is decoded (Pillow keeps 4 bytes a pixel), however small the
file: six decoded at once peaked at 1.1 GB, one at a time at ~270 MB. Decoding runs in worker
threads (``asyncio.to_thread``), so this is a thread semaphore, taken only there, never on the event
loop's thread. Waiting decodes do occupy their worker threads."""

_LARGE_DECODES = threading.BoundedSemaphore(1)
_release_hook: Callable[[], None] | None = None
_STRIP_PIXELS = 1 << 20  # source pixels per output strip when a mode must be converted to be reduced


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
    raise ImageError("unrecognised image signature", user_message=_(NOT_AN_IMAGE))


def open_image(
    data: bytes,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
    budget: int | None = PIXEL_BUDGET,
) -> Image.Image:
    """Decode ``data`` safely into a loaded RGB image (RGBA when it has transparency).

    The byte size is checked first, then the signature, then the pixel count from the header (before
    any pixels are decoded): more than ``max_pixels`` is refused. An image with more pixels than
    ``budget`` comes back reduced by a whole factor to at most ``budget`` pixels (JPEG is decoded at
    1/2, 1/4 or 1/8 scale directly; other formats are decoded, then reduced); ``budget=None`` keeps
    the full size for the rare caller that needs it. EXIF orientation is applied, so the result is
    the way people see it. At most one full-size buffer is alive at a time. CPU-bound: call it in a
    thread; large decodes run one at a time in the whole process (see :data:`SERIAL_DECODE_PIXELS`).
    """
    return _decode(data, max_bytes=max_bytes, max_pixels=max_pixels, budget=budget)[0]


@dataclass(frozen=True, slots=True)
class BoundedImage:
    """An upload made safe to keep: ``data`` is the original bytes, or a reduced re-encoding."""

    data: bytes
    mime: str
    width: int
    height: int
    downscaled: bool


def bound_upload(
    data: bytes,
    *,
    budget: int = PIXEL_BUDGET,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
) -> BoundedImage:
    """Check an uploaded image by decoding it once, and bound it to ``budget`` pixels.

    Within the budget the original bytes are kept; above it the reduced image is re-encoded (JPEG
    for JPEG and opaque WebP sources, PNG otherwise), so every later step works with a bounded image.
    Raises :class:`ImageError` as :func:`open_image` does. CPU-bound: call it in a thread.
    """
    img, reduced = _decode(data, max_bytes=max_bytes, max_pixels=max_pixels, budget=budget)
    mime = sniff(data)
    if not reduced:
        return BoundedImage(data, mime, img.width, img.height, downscaled=False)
    icc_profile = img.info.get("icc_profile")
    img.info = {}  # ours alone: drop the source's metadata (EXIF, text) rather than copy the pixels
    if img.mode == "RGB" and mime in ("image/jpeg", "image/webp"):
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=_UPLOAD_JPEG_QUALITY, icc_profile=icc_profile)
        out, out_mime = buf.getvalue(), "image/jpeg"
    else:
        out, out_mime = encode_png(img), "image/png"
    width, height = img.size
    img.close()
    return BoundedImage(out, out_mime, width, height, downscaled=True)


def set_release_hook(hook: Callable[[], None] | None) -> None:
    """Call ``hook`` (in the decoding thread) after every large decode has freed its full-size buffers.

    The process-memory adapter (``bot.process_memory``) uses it to hand freed memory back to the
    operating system; the core itself knows nothing about allocators.
    """
    global _release_hook
    _release_hook = hook


def _decode(data: bytes, *, max_bytes: int, max_pixels: int, budget: int | None) -> tuple[Image.Image, bool]:
    """The decoded image and whether it was reduced to fit ``budget``."""
    if len(data) > max_bytes:
        raise ImageError(
            f"image is {len(data)} bytes, limit {max_bytes}",
            user_message=_("That image is too large, max {size} MB.").format(size=_megabytes(max_bytes)),
        )
    mime = sniff(data)
    large = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            src = Image.open(io.BytesIO(data), formats=[SUPPORTED_MIMES[mime]])
            header = src.size
            _check_pixels(header, max_pixels)
            factor = _reduction(header, budget)
            if factor > 1 and mime == "image/jpeg":
                scale = min(8, 1 << (factor - 1).bit_length())  # the power of two >= factor, at most 8
                src.draft(None, (max(1, src.width // scale), max(1, src.height // scale)))
                factor = _reduction(src.size, budget)
            large = src.width * src.height > SERIAL_DECODE_PIXELS
            with _LARGE_DECODES if large else contextlib.nullcontext():
                return _load(src, factor), factor > 1 or src.size != header
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(
            f"decompression bomb: {exc}", user_message=_("That image has too many pixels to open.")
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise ImageError(f"cannot decode image: {exc}", user_message=_(NOT_AN_IMAGE)) from exc
    finally:
        if large and _release_hook is not None:
            _release_hook()


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0 or width * height > max_pixels:
        raise ImageError(
            f"image claims {width}x{height} pixels, limit {max_pixels}",
            user_message=_(
                "That image has too many pixels: {width}x{height} is {megapixels} MP, "
                "and {limit} MP is the most I take."
            ).format(
                width=width,
                height=height,
                megapixels=_megapixels(width * height),
                limit=_megapixels(max_pixels),
            ),
        )


def _reduction(size: tuple[int, int], budget: int | None) -> int:
    """The smallest whole factor that brings ``size`` within ``budget`` pixels (1: it already is)."""
    width, height = size
    if budget is None or width * height <= budget:
        return 1
    factor = max(2, math.isqrt(width * height // max(1, budget)))
    while -(-width // factor) * -(-height // factor) > budget:  # reduce() rounds sizes up
        factor += 1
    return factor


def _load(src: Image.Image, factor: int) -> Image.Image:
    """Decode ``src``, reduce it by ``factor``, orient and convert it, keeping one big buffer alive.

    Whenever a smaller copy is made, the bigger image is closed at once (freeing its pixels) instead
    of waiting for the caller to drop it; nothing is copied when nothing changes.
    """
    img = src
    try:
        src.load()
        if factor > 1:
            img = _reduce(src, factor)
        target = "RGBA" if _has_alpha(img) else "RGB"
        if img.mode != target:
            img = _replace(img, img.convert(target))
        ImageOps.exif_transpose(img, in_place=True)
        return img
    except BaseException:
        img.close()
        raise
    finally:
        if img is not src:
            src.close()


def _reduce(img: Image.Image, factor: int) -> Image.Image:
    """``img`` reduced by a box filter, in RGB or RGBA (or L) as :func:`open_image` returns it.

    RGB and L are reduced in one step. Other modes (palette, RGBA, 16-bit, CMYK) need converting
    first, which would be a second full-size copy, so they are converted and reduced in strips of
    whole blocks of rows; transparency is averaged premultiplied, as Pillow's ``reduce`` does.
    """
    if img.mode in ("RGB", "L"):
        return _replace(img, img.reduce(factor))
    mode = "RGBA" if _has_alpha(img) else "RGB"
    width, height = img.size
    out = Image.new(mode, (-(-width // factor), -(-height // factor)))
    out.info = dict(img.info)
    step = factor * max(1, _STRIP_PIXELS // width // factor)  # whole blocks of source rows
    for top in range(0, height, step):
        strip = img.crop((0, top, width, min(height, top + step))).convert(mode)
        out.paste(strip.reduce(factor), (0, top // factor))
    return _replace(img, out)


def _replace(old: Image.Image, new: Image.Image) -> Image.Image:
    """``new``, after freeing ``old``'s pixels (an ImageFile keeps ``old.info`` and ``old.mode``)."""
    if new is not old:
        old.close()
    return new


def encode_png(img: Image.Image) -> bytes:
    """PNG bytes that depend only on the pixels: no metadata, no timestamps, fixed settings."""
    if img.mode not in ("RGB", "RGBA", "L", "LA"):
        img = img.convert("RGBA" if _has_alpha(img) else "RGB")
    clean = img
    if img.info:  # copy the pixels only when there is metadata to leave behind
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
        raise ImageError(f"cannot read image header: {exc}", user_message=_(NOT_AN_IMAGE)) from exc
    if orientation in _SWAPPING_ORIENTATIONS:
        return height, width
    return width, height


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info)


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:g}"


def _megapixels(n: int) -> str:
    return f"{n / 1_000_000:.3g}"
