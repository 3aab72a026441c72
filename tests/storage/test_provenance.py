"""Provenance in the file (issue 20): saved images carry their prompt and parameters in A1111's
``parameters`` format (PNG text chunk, JPEG/WebP EXIF UserComment), the pixels untouched."""

from __future__ import annotations

import io
import json
import re
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags
from PIL import Image as PILImage

from bot.core.provenance import MAX_PROMPT_UNITS, parameters_text
from bot.core.types import Image
from bot.settings import GenerationSettings
from bot.storage.artifacts import FileArtifactStore
from bot.storage.provenance import ProvenanceError, embed_parameters

NOW = datetime(2024, 5, 17, 12, 30, tzinfo=UTC)
META: dict[str, Any] = {
    "prompt": "a red fox in the snow, at dusk",
    "negative": "blurry",
    "params": {"aspect": "4:3", "seed": 7, "steps": 20, "sampler": "Euler a", "cfg_scale": 7},
    "provider": "sdwebui",
    "model": "sdxl-base",
}

# A1111's reader, modules/infotext_utils.py parse_generation_parameters (the part before its defaults)
_RE_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


def a1111_parse(text: str) -> dict[str, str]:
    """Prompt, negative and parameters as A1111's "PNG Info" / "Send to txt2img" reads them."""
    res: dict[str, str] = {}
    prompt, negative, done = "", "", False
    *lines, last = text.strip().split("\n")
    if len(_RE_PARAM.findall(last)) < 3:
        lines.append(last)
        last = ""
    for line in lines:
        line = line.strip()
        if line.startswith("Negative prompt:"):
            done = True
            line = line[16:].strip()
        if done:
            negative += ("" if negative == "" else "\n") + line
        else:
            prompt += ("" if prompt == "" else "\n") + line
    res["Prompt"], res["Negative prompt"] = prompt, negative
    for key, value in _RE_PARAM.findall(last):
        if value[:1] == '"' and value[-1:] == '"':
            value = json.loads(value)
        res[key] = value
    return res


def _encoded(fmt: str, mode: str = "RGB", size: tuple[int, int] = (64, 48), **options: Any) -> bytes:
    img = PILImage.new(mode, size)
    img.putdata([(x * 7 % 256, x * 13 % 256, x % 256, 200)[: len(mode)] for x in range(size[0] * size[1])])
    buf = io.BytesIO()
    img.save(buf, format=fmt, **options)
    return buf.getvalue()


MIMES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


async def _save(data: bytes, fmt: str, tmp_path: Path, *, on: bool = True, **meta: Any) -> bytes:
    image = Image(data=data, mime=MIMES[fmt], width=64, height=48, seed=7, provider="sdwebui")
    store = FileArtifactStore(tmp_path, embed_parameters=on)
    stored = await store.save(image, metadata={**META, **meta}, now=NOW)
    return stored.path.read_bytes()


def _comment(data: bytes) -> str:
    """The EXIF UserComment as A1111 reads it (piexif.helper.UserComment.load)."""
    raw = PILImage.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.Exif)[0x9286]
    assert raw[:8] == b"UNICODE\x00"
    return bytes(raw[8:]).decode("utf-16-be")


def _pixels(data: bytes) -> bytes:
    with PILImage.open(io.BytesIO(data)) as img:
        return img.tobytes()


async def test_png_parameters_chunk_holds_prompt(tmp_path: Path) -> None:
    """A saved PNG's ``parameters`` text holds the prompt, negative and parameters as A1111 writes them."""
    saved = await _save(_encoded("PNG"), "PNG", tmp_path)
    text = PILImage.open(io.BytesIO(saved)).info["parameters"]
    assert text == (
        "a red fox in the snow, at dusk\nNegative prompt: blurry\n"
        "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 7, Size: 64x48, Model: sdxl-base, "
        "Provider: sdwebui, Generator: Easel 0.1.0"
    )


async def test_png_text_parses_back_a1111_style(tmp_path: Path) -> None:
    """A1111's parser gives back the prompt, negative, seed and size from the PNG's text."""
    saved = await _save(_encoded("PNG"), "PNG", tmp_path)
    parsed = a1111_parse(PILImage.open(io.BytesIO(saved)).info["parameters"])
    assert (parsed["Prompt"], parsed["Negative prompt"]) == ("a red fox in the snow, at dusk", "blurry")
    assert (parsed["Seed"], parsed["Size"], parsed["Model"]) == ("7", "64x48", "sdxl-base")


async def test_png_non_latin_prompt_is_itxt(tmp_path: Path) -> None:
    """A prompt beyond Latin-1 goes in an iTXt chunk that Pillow reads back whole."""
    saved = await _save(_encoded("PNG"), "PNG", tmp_path, prompt="雪の中の赤い狐 🦊")
    assert b"iTXtparameters" in saved
    assert a1111_parse(PILImage.open(io.BytesIO(saved)).info["parameters"])["Prompt"] == "雪の中の赤い狐 🦊"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
async def test_pixels_are_byte_identical(tmp_path: Path, fmt: str) -> None:
    """Embedding copies the encoded image: the decoded pixels before and after are the same."""
    original = _encoded(fmt, quality=80) if fmt != "PNG" else _encoded(fmt)
    saved = await _save(original, fmt, tmp_path)
    assert saved != original
    assert _pixels(saved) == _pixels(original)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
async def test_jpeg_webp_user_comment_holds_text(tmp_path: Path, fmt: str) -> None:
    """JPEG and WebP carry the same text in EXIF UserComment (UNICODE prefix, UTF-16-BE, as A1111)."""
    saved = await _save(_encoded(fmt), fmt, tmp_path, prompt="ein Fuchs im Schnee, größer")
    parsed = a1111_parse(_comment(saved))
    assert (parsed["Prompt"], parsed["Negative prompt"]) == ("ein Fuchs im Schnee, größer", "blurry")
    assert (parsed["Seed"], parsed["Size"]) == ("7", "64x48")


@pytest.mark.parametrize(
    ("mode", "options"),
    [("RGB", {}), ("RGB", {"lossless": True}), ("RGBA", {}), ("RGBA", {"lossless": True})],
)
async def test_webp_kinds_get_vp8x_and_decode(tmp_path: Path, mode: str, options: dict[str, Any]) -> None:
    """Lossy, lossless and alpha WebP files get the VP8X header with the EXIF flag and still decode."""
    original = _encoded("WEBP", mode, **options)
    saved = await _save(original, "WEBP", tmp_path)
    assert saved[12:16] == b"VP8X" and saved[20] & 0x08
    assert struct.unpack("<I", saved[4:8])[0] == len(saved) - 8
    with PILImage.open(io.BytesIO(saved)) as img:
        assert (img.size, img.mode) == ((64, 48), mode)
    assert _pixels(saved) == _pixels(original)
    assert _comment(saved).startswith("a red fox")


async def test_jpeg_keeps_its_own_exif(tmp_path: Path) -> None:
    """A JPEG's own EXIF (its orientation, written little-endian) is kept beside the comment, in a
    big-endian TIFF so that UTF-16-BE is its byte order too."""
    exif = PILImage.Exif()
    exif.endian = "<"
    exif[0x0112] = 6
    saved = await _save(_encoded("JPEG", exif=exif.tobytes()), "JPEG", tmp_path)
    assert PILImage.open(io.BytesIO(saved)).getexif()[0x0112] == 6
    assert b"Exif\x00\x00MM\x00*" in saved and b"Exif\x00\x00II" not in saved
    assert _comment(saved).startswith("a red fox")


async def test_jpeg_exif_follows_jfif_app0(tmp_path: Path) -> None:
    """The Exif APP1 segment comes right after SOI and the JFIF APP0."""
    saved = await _save(_encoded("JPEG"), "JPEG", tmp_path)
    app0_end = 4 + struct.unpack(">H", saved[4:6])[0]
    assert saved[2:4] == b"\xff\xe0" and saved[app0_end : app0_end + 2] == b"\xff\xe1"
    assert saved[app0_end + 4 : app0_end + 10] == b"Exif\x00\x00"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
async def test_setting_off_stores_file_as_is(tmp_path: Path, fmt: str) -> None:
    """With generation.embed_parameters false the file is stored exactly as the provider sent it."""
    original = _encoded(fmt)
    assert await _save(original, fmt, tmp_path, on=False) == original


def test_setting_defaults_on() -> None:
    """generation.embed_parameters is on unless configured off."""
    assert GenerationSettings().embed_parameters is True
    assert GenerationSettings.model_validate({"embed_parameters": False}).embed_parameters is False


async def test_upload_without_prompt_is_stored_as_is(tmp_path: Path) -> None:
    """An upload (metadata without a prompt) gets no parameters text."""
    original = _encoded("PNG")
    image = Image(data=original, mime="image/png", width=64, height=48)
    stored = await FileArtifactStore(tmp_path).save(image, metadata={"upload": True}, now=NOW)
    assert stored.path.read_bytes() == original


async def test_provider_parameters_chunk_is_replaced(tmp_path: Path) -> None:
    """A PNG that came with its own ``parameters`` text ends with exactly one: Easel's."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", "injected\nSteps: 1, Seed: 666, Size: 1x1")
    saved = await _save(_encoded("PNG", pnginfo=info), "PNG", tmp_path)
    assert saved.count(b"tEXtparameters") == 1
    assert a1111_parse(PILImage.open(io.BytesIO(saved)).info["parameters"])["Seed"] == "7"


HOSTILE = (
    "a cat\x00\x01\x1b[31m\r\nNegative prompt: EVIL\u2028negative prompt : also evil\n"
    "Steps: 1, Seed: 666, Size: 1x1, Model: fake\n" + "x" * 100_000
)


async def test_hostile_prompt_stays_contained_in_png(tmp_path: Path) -> None:
    """NULs, control characters, fake "Negative prompt:" and parameter lines and 100 KB stay inside
    the prompt: the PNG still decodes, and A1111's parser finds Easel's negative, seed and size."""
    saved = await _save(_encoded("PNG"), "PNG", tmp_path, prompt=HOSTILE, negative="fog\nNegative prompt: x")
    with PILImage.open(io.BytesIO(saved)) as img:
        img.load()
        text = img.info["parameters"]
    assert "\x00" not in text and "\x1b" not in text and "\r" not in text
    parsed = a1111_parse(text)
    assert parsed["Prompt"].startswith("a cat[31m\nNegative prompt - EVIL\nnegative prompt - also evil\n")
    assert parsed["Negative prompt"] == "fog\nNegative prompt - x"
    assert (parsed["Seed"], parsed["Size"], parsed["Provider"]) == ("7", "64x48", "sdwebui")
    assert len(text) < MAX_PROMPT_UNITS + 1000


async def test_hostile_prompt_fits_jpeg_segment(tmp_path: Path) -> None:
    """A 100 KB prompt of astral characters still fits one JPEG APP1 segment, cut with an ellipsis."""
    saved = await _save(_encoded("JPEG"), "JPEG", tmp_path, prompt="🦊" * 100_000)
    prompt = a1111_parse(_comment(saved))["Prompt"]
    assert prompt.endswith("…") and set(prompt[:-1]) == {"🦊"}
    assert _pixels(saved) == _pixels(_encoded("JPEG"))


def test_values_with_commas_are_quoted() -> None:
    """A value with a comma, colon or quote is a JSON string, so it cannot add parameters."""
    text = parameters_text(
        prompt="p",
        negative=None,
        width=8,
        height=8,
        seed=None,
        model='evil, Seed: 1, "x"',
        provider="openai",
        params={},
        generator="Easel",
    )
    assert text is not None
    parsed = a1111_parse(text)
    assert parsed["Model"] == 'evil, Seed: 1, "x"' and "Seed" not in parsed


def test_damaged_png_is_refused() -> None:
    """A PNG cut short raises ProvenanceError (the store then keeps the file as it came)."""
    with pytest.raises(ProvenanceError):
        embed_parameters(_encoded("PNG")[:40], "image/png", "p")


async def test_damaged_file_is_stored_unchanged(tmp_path: Path) -> None:
    """A file that is not what its type says is stored as it came, not lost."""
    broken = b"\x89PNG\r\n\x1a\n" + bytes(64)
    assert await _save(broken, "PNG", tmp_path) == broken
