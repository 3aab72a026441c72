"""bot.core.imaging: recognising, safely opening and deterministically encoding images."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image, PngImagePlugin

from bot.core.errors import ImageError
from bot.core.imaging import encode_png, image_size, open_image, sniff


def _encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose IHDR was rewritten (with a valid CRC) to claim another size."""
    data = bytearray(_encode(Image.new("RGB", (1, 1)), "PNG"))
    ihdr = bytearray(data[16:29])
    ihdr[0:4], ihdr[4:8] = width.to_bytes(4, "big"), height.to_bytes(4, "big")
    data[16:29] = ihdr
    data[29:33] = zlib.crc32(b"IHDR" + ihdr).to_bytes(4, "big")
    return bytes(data)


def _oriented_jpeg(orientation: int) -> bytes:
    """40x20 JPEG, left half red and right half blue, with an EXIF orientation tag."""
    img = Image.new("RGB", (40, 20), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _encode(img, "JPEG", exif=exif, quality=95)


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_sniff_recognises_supported_formats(fmt: str, mime: str) -> None:
    """sniff names PNG, JPEG, WebP and GIF from their magic bytes."""
    assert sniff(_encode(Image.new("RGB", (4, 4), "teal"), fmt)) == mime


def test_sniff_rejects_text_with_a_friendly_message() -> None:
    """Bytes that are not an image raise ImageError with a message fit for a chat."""
    with pytest.raises(ImageError) as info:
        sniff(b"hello, this is not a picture")
    assert info.value.user_message == "That file is not an image I can read (PNG, JPEG, WebP or GIF)."


def test_open_image_rejects_oversized_bytes_before_reading_them() -> None:
    """The byte limit is checked first, even for bytes that are not an image at all."""
    with pytest.raises(ImageError, match="limit 100") as info:
        open_image(b"x" * 101, max_bytes=100)
    assert "too large" in info.value.user_message


def test_open_image_rejects_too_many_pixels_from_the_header() -> None:
    """A header claiming more than max_pixels is refused before any pixel is decoded."""
    with pytest.raises(ImageError) as info:
        open_image(_png_claiming(8000, 8000))  # 64 MP: below Pillow's own limit, above ours
    assert "too many pixels" in info.value.user_message


def test_open_image_converts_pillows_decompression_bomb_error() -> None:
    """Pillow's DecompressionBombError becomes ImageError, chained with ``from``."""
    with pytest.raises(ImageError) as info:
        open_image(_png_claiming(30000, 30000), max_pixels=10**10)
    assert isinstance(info.value.__cause__, Image.DecompressionBombError)


def test_open_image_honours_a_small_max_pixels() -> None:
    """A real image larger than a tiny max_pixels is refused."""
    with pytest.raises(ImageError):
        open_image(_encode(Image.new("RGB", (100, 100)), "PNG"), max_pixels=1000)


def test_open_image_converts_truncated_data_to_image_error() -> None:
    """A valid signature followed by garbage raises ImageError chained to Pillow's error."""
    data = _encode(Image.new("RGB", (64, 64), "red"), "PNG")[:60] + b"\x00" * 40
    with pytest.raises(ImageError) as info:
        open_image(data)
    assert info.value.__cause__ is not None


def test_open_image_applies_exif_orientation() -> None:
    """Orientation 6 (rotate 90 clockwise) turns a 40x20 photo into 20x40 with its left side on top."""
    img = open_image(_oriented_jpeg(6))
    assert img.size == (20, 40)
    top, bottom = img.getpixel((10, 5)), img.getpixel((10, 35))
    assert isinstance(top, tuple)
    assert isinstance(bottom, tuple)
    assert top[0] > 200
    assert top[2] < 60
    assert bottom[2] > 200
    assert bottom[0] < 60


def test_open_image_returns_rgb_for_opaque_images() -> None:
    """JPEG and palette images come back as loaded RGB."""
    assert open_image(_encode(Image.new("RGB", (8, 8), "red"), "JPEG")).mode == "RGB"
    assert open_image(_encode(Image.new("P", (8, 8)), "GIF")).mode == "RGB"


def test_open_image_keeps_transparency_as_rgba() -> None:
    """An image with alpha comes back RGBA with its alpha intact."""
    img = open_image(_encode(Image.new("RGBA", (8, 8), (10, 20, 30, 77)), "PNG"))
    assert img.mode == "RGBA"
    assert img.getpixel((3, 3)) == (10, 20, 30, 77)


def test_encode_png_is_deterministic() -> None:
    """The same pixels give the same bytes, whatever metadata the source carried."""
    plain = Image.new("RGB", (32, 32), (200, 120, 40))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "made at 12:00")
    tagged = Image.open(io.BytesIO(_encode(plain, "PNG", pnginfo=info, dpi=(300, 300))))
    assert encode_png(plain) == encode_png(Image.new("RGB", (32, 32), (200, 120, 40)))
    assert encode_png(tagged) == encode_png(plain)
    assert b"tEXt" not in encode_png(tagged)


def test_encode_png_round_trips_pixels() -> None:
    """Decoding encode_png's output gives back the same pixels and mode."""
    img = Image.new("RGBA", (5, 3), (1, 2, 3, 4))
    decoded = Image.open(io.BytesIO(encode_png(img)))
    assert decoded.mode == "RGBA"
    assert decoded.tobytes() == img.tobytes()


def test_image_size_reads_the_header() -> None:
    """image_size returns (width, height) without decoding the pixels."""
    assert image_size(_encode(Image.new("RGB", (33, 17)), "WEBP")) == (33, 17)
    assert image_size(_png_claiming(9000, 7000)) == (9000, 7000)


def test_image_size_applies_exif_orientation() -> None:
    """A photo rotated by its EXIF tag reports its displayed size."""
    assert image_size(_oriented_jpeg(6)) == (20, 40)


def test_image_size_rejects_non_images() -> None:
    """image_size raises ImageError for bytes that are not an image."""
    with pytest.raises(ImageError):
        image_size(b"GIF but not really")
