"""fit_photo: unchanged when within the photo limits, re-encoded to fit otherwise."""

from __future__ import annotations

import io
import os

from PIL import Image as PILImage

from bot.core.imaging import image_size
from bot.core.imaging_fit import PhotoLimits, fit_photo
from bot.platforms.telegram.delivery import PHOTO_LIMITS


def encoded(img: PILImage.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt)
    return buffer.getvalue()


def test_image_within_limits_is_returned_unchanged() -> None:
    """A small PNG is sent as it is (same bytes)."""
    data = encoded(PILImage.new("RGB", (640, 360), (1, 2, 3)))
    assert fit_photo(data, PHOTO_LIMITS) is data


def test_too_wide_ratio_is_padded_to_twenty() -> None:
    """A 2100x100 image (ratio 21) is padded, not cropped, to a ratio of at most 20."""
    width, height = image_size(fit_photo(encoded(PILImage.new("RGB", (2100, 100))), PHOTO_LIMITS))
    assert width == 2100 and width / height <= 20


def test_too_many_pixels_is_scaled_to_the_side_sum() -> None:
    """9000x1500 (sum 10500) is scaled down to a width + height of at most 10000, same shape."""
    width, height = image_size(fit_photo(encoded(PILImage.new("RGB", (9000, 1500))), PHOTO_LIMITS))
    assert width + height <= 10_000 and abs(width / height - 6) < 0.01


def test_too_many_bytes_is_reencoded_under_the_limit() -> None:
    """Noise over the byte limit comes back as a JPEG under it."""
    noise = PILImage.frombytes("RGB", (400, 400), os.urandom(400 * 400 * 3))
    data = encoded(noise)
    limits = PhotoLimits(max_bytes=len(data) // 2, max_side_sum=10_000, max_ratio=20.0)
    out = fit_photo(data, limits)
    assert len(out) <= limits.max_bytes and out.startswith(b"\xff\xd8")


def test_gif_is_reencoded_as_a_photo_format() -> None:
    """A GIF is not a photo format: it comes back as PNG or JPEG."""
    out = fit_photo(encoded(PILImage.new("RGB", (50, 50)), "GIF"), PHOTO_LIMITS)
    assert out.startswith((b"\x89PNG", b"\xff\xd8"))


def test_a_large_png_goes_to_telegram_as_a_smaller_jpeg() -> None:
    """A photo-like PNG over 512 KiB becomes a JPEG of the same size in pixels (Telegram recompresses
    photos anyway); the stored PNG is not touched."""
    gradient = PILImage.linear_gradient("L").resize((1024, 1024)).convert("RGB")
    noise = PILImage.frombytes("RGB", (1024, 1024), os.urandom(1024 * 1024 * 3))
    data = encoded(PILImage.blend(gradient, noise, 0.15))
    assert len(data) > 512 * 1024
    sent = fit_photo(data, PHOTO_LIMITS)
    assert sent[:2] == b"\xff\xd8" and len(sent) < len(data) and image_size(sent) == (1024, 1024)


def test_a_transparent_large_png_is_flattened_on_white() -> None:
    """Recompressing a PNG with transparency puts it on white, not black."""
    noise = PILImage.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)).convert("RGBA")
    noise.putalpha(0)  # invisible noise: a large PNG that shows nothing
    sent = fit_photo(encoded(noise), PhotoLimits(10 * 2**20, 10_000, 20.0, recompress_over=1))
    picture = PILImage.open(io.BytesIO(sent))
    assert picture.format == "JPEG" and min(picture.convert("L").getextrema()) > 245
