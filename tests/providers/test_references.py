"""Reference images converted to what a provider takes (bot.providers._http.references)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image as PILImage

from bot.core.errors import InvalidRequest
from bot.core.imaging import sniff
from bot.core.types import GenerationKind, ImageRequest
from bot.providers._http.references import PNG_JPEG, PNG_JPEG_WEBP, convert, prepare
from tests.fakes.providers.chat_image_base import animated_gif, make_image


def first_pixel(data: bytes) -> tuple[int, ...]:
    with PILImage.open(io.BytesIO(data)) as img:
        return tuple(img.convert("RGB").getpixel((0, 0)))  # type: ignore[arg-type]


def animated_webp() -> bytes:
    frames = [PILImage.new("RGB", (8, 8), colour) for colour in ((0, 200, 0), (0, 0, 200))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="WEBP", save_all=True, append_images=frames[1:], lossless=True)
    return buffer.getvalue()


def huge_png(width: int = 10_000, height: int = 10_000) -> bytes:
    """A PNG whose header claims 100 MP (over the 50 MP cap); its pixel data is not even there."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"\x00\x00\x00\x00IEND\xaeB`\x82"


async def test_gif_becomes_the_first_frame_as_png() -> None:
    """An animated GIF → a PNG of its first frame, same size, with a note saying so."""
    prepared = await convert([animated_gif(24, 16)], PNG_JPEG_WEBP, provider="openai")
    [data] = prepared.images
    assert sniff(data) == "image/png" and first_pixel(data) == (200, 30, 30)
    assert PILImage.open(io.BytesIO(data)).size == (24, 16)
    assert prepared.notes == (
        "openai takes still images only; the first frame of the animated GIF was sent.",
    )


async def test_accepted_still_images_are_sent_byte_for_byte() -> None:
    """PNG, JPEG and WebP go unchanged to a provider that takes them, with no note."""
    originals = [make_image(8, 8, "png"), make_image(8, 8, "jpeg"), make_image(8, 8, "webp")]
    prepared = await convert(originals, PNG_JPEG_WEBP, provider="gemini")
    assert prepared.images == tuple(originals) and prepared.notes == ()


async def test_webp_becomes_png_where_webp_is_not_taken() -> None:
    """xAI takes PNG and JPEG only: a WebP reference goes as PNG, and the note names both types."""
    prepared = await convert([make_image(8, 8, "webp")], PNG_JPEG, provider="xai")
    assert sniff(prepared.images[0]) == "image/png"
    assert prepared.notes == ("xai does not take WebP images; it was sent as PNG.",)


async def test_an_animation_of_an_accepted_type_is_still_reduced_to_one_frame() -> None:
    """An animated WebP (a type Gemini takes) goes as the still first frame."""
    prepared = await convert([animated_webp()], PNG_JPEG_WEBP, provider="gemini")
    assert sniff(prepared.images[0]) == "image/png" and first_pixel(prepared.images[0]) == (0, 200, 0)


async def test_jpeg_is_the_target_when_png_is_not_taken() -> None:
    """A provider that takes JPEG only gets JPEG (transparency flattened on white)."""
    prepared = await convert([animated_gif()], frozenset({"image/jpeg"}), provider="x")
    assert sniff(prepared.images[0]) == "image/jpeg"


async def test_notes_name_the_reference_among_several() -> None:
    """With several references, the note says which one was converted."""
    prepared = await convert([make_image(8, 8), animated_gif()], PNG_JPEG_WEBP, provider="openai")
    assert prepared.images[0] == make_image(8, 8)
    assert prepared.notes[0].startswith("reference 2: ")


async def test_decompression_bomb_budget_applies() -> None:
    """A reference that must be decoded is refused by its header when it claims too many pixels."""
    with pytest.raises(InvalidRequest) as caught:
        await convert([huge_png()], frozenset({"image/jpeg"}), provider="x")
    assert "too many pixels" in caught.value.user_message


async def test_not_an_image_is_invalid_request() -> None:
    """Bytes that are no image are an InvalidRequest with the imaging message."""
    with pytest.raises(InvalidRequest):
        await convert([b"not an image at all"], PNG_JPEG_WEBP, provider="x")


async def test_prepare_keeps_the_request_when_nothing_changes() -> None:
    """prepare returns the very same request when every reference is already fine."""
    request = ImageRequest("p", kind=GenerationKind.EDIT, reference_images=(make_image(8, 8),))
    prepared, notes = await prepare(request, PNG_JPEG_WEBP, provider="openai")
    assert prepared is request and notes == ()


async def test_prepare_replaces_converted_references() -> None:
    """prepare puts the converted bytes into the request, other fields untouched."""
    request = ImageRequest("p", kind=GenerationKind.EDIT, reference_images=(animated_gif(),), n=2)
    prepared, _ = await prepare(request, PNG_JPEG_WEBP, provider="openai")
    assert sniff(prepared.reference_images[0]) == "image/png" and prepared.n == 2
