"""How the built-in renderer's images become bytes: lossless PNG, or JPEG or WebP for chat photos.

PNG is the slow part of a new image (about 70 ms for 1024², twice the drawing; JPEG takes about
4 ms). Telegram re-encodes photos as JPEG anyway, so for chat photos a lossy encoding costs little.
Every encoding here depends only on the pixels and the render's recipe (fixed settings, no other
metadata): the same render gives the same bytes.
"""

from __future__ import annotations

import io

from PIL import Image

from bot.core.imaging import encode_png
from bot.providers.builtin.recipe import Recipe, embed, webp_xmp
from bot.providers.builtin.settings import Format

__all__ = ["JPEG_QUALITY", "MIMES", "WEBP_QUALITY", "Format", "encode"]

MIMES: dict[Format, str] = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
JPEG_QUALITY = 90
"""With full-resolution colour (4:4:4): thin neon lines keep their colour (+1 ms, 15-30% more bytes)."""
WEBP_QUALITY = 90
_WEBP_METHOD = 0  # libwebp's fastest: ~20 ms for a 1024² render, ~15% bigger than its default (4, ~70 ms)


def encode(img: Image.Image, fmt: Format, recipe: Recipe | None = None) -> tuple[bytes, str]:
    """``img`` encoded as ``fmt``, and the MIME type of what was encoded; ``recipe``, if any, is kept
    in the file (see :mod:`bot.providers.builtin.recipe`), the same recipe giving the same bytes.

    An image with an alpha channel (an edit of a transparent reference) is PNG when ``fmt`` is JPEG,
    which has no transparency; WebP keeps it.
    """
    data, mime = _encode(img, fmt, recipe)
    return (embed(data, mime, recipe) if recipe is not None else data), mime


def _encode(img: Image.Image, fmt: Format, recipe: Recipe | None) -> tuple[bytes, str]:
    if fmt == "png":
        return encode_png(img), MIMES["png"]
    clean = img
    if img.mode not in ("RGB", "RGBA"):
        clean = img.convert("RGBA" if img.has_transparency_data else "RGB")
    if clean.mode == "RGBA" and fmt == "jpeg":
        return encode_png(clean), MIMES["png"]
    if clean.info:  # leave the metadata (EXIF, comments) of an edited upload behind
        clean = clean.copy() if clean is img else clean
        clean.info = {}
    buf = io.BytesIO()
    if fmt == "jpeg":
        clean.save(buf, format="JPEG", quality=JPEG_QUALITY, subsampling=0)
    else:
        xmp = webp_xmp(recipe) if recipe is not None else None
        clean.save(
            buf, format="WEBP", quality=WEBP_QUALITY, method=_WEBP_METHOD, **({"xmp": xmp} if xmp else {})
        )
    return buf.getvalue(), MIMES[fmt]
