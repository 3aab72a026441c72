"""Results as files (``/settings format file``) and the document fallback for images that cannot be
photos, through the real adapter against the fake Bot API."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage

from bot.core.ports import ProgressCallback
from bot.core.types import Image, ImageRequest, JobStatus
from tests.big_uploads import png_claiming
from tests.fakes.scripted import ScriptedProvider
from tests.platforms.conftest import CHAT, USER, Running

ORIGINAL = PILImage.new("RGB", (96, 64), (30, 140, 90))


def _png() -> bytes:
    buffer = io.BytesIO()
    ORIGINAL.save(buffer, format="PNG")
    return buffer.getvalue()


def kept(media_dir: Path, data: bytes) -> bool:
    """The bytes are one of the image files Easel saved (the original, untouched)."""
    return any(path.read_bytes() == data for path in media_dir.rglob("*.png"))


async def file_format(running: Running) -> None:
    tg = running.tg
    tg.say(CHAT, USER, "/settings format file")
    await tg.wait_for(lambda: any("format: file" in t for t in tg.texts(CHAT)))


async def test_format_file_sends_the_original_as_a_document_with_caption_and_buttons(
    running: Running,
) -> None:
    """With format file, /imagine answers with a PNG document of the saved bytes, captioned, with buttons."""
    tg = running.tg
    await file_format(running)
    tg.say(CHAT, USER, "/imagine a red fox")
    await tg.wait_for(lambda: tg.documents(CHAT))
    [document] = tg.documents(CHAT)
    assert document["document"]["mime_type"] == "image/png"
    assert document["document"]["file_name"].endswith(".png")
    assert kept(running.settings.media_dir, tg.file_bytes(document))
    assert "#" in document["caption"] and "red fox" in document["caption"]
    assert document["reply_markup"]["inline_keyboard"]
    assert not tg.photos(CHAT)


async def test_format_file_sends_a_set_as_an_album_of_documents(running: Running) -> None:
    """With format file, --n 3 is one media group of three documents, then the buttons' message."""
    tg = running.tg
    await file_format(running)
    tg.say(CHAT, USER, "/imagine three foxes --n 3")
    await tg.wait_for(lambda: any("reply_markup" in m and "text" in m for m in tg.sent_to(CHAT)))
    album = tg.documents(CHAT)
    assert len(album) == 3 and len({m["media_group_id"] for m in album}) == 1
    assert all(kept(running.settings.media_dir, tg.file_bytes(m)) for m in album)
    assert not tg.photos(CHAT)


async def test_format_photo_is_the_default_again(running: Running) -> None:
    """/settings format photo after file sends photos again."""
    tg = running.tg
    await file_format(running)
    tg.say(CHAT, USER, "/settings format photo")
    await tg.wait_for(lambda: any("format: photo" in t for t in tg.texts(CHAT)))
    await running.photo_after("/imagine a red fox")
    assert not tg.documents(CHAT)


async def test_an_unknown_format_is_refused(running: Running) -> None:
    """/settings format gif is answered with the two formats there are."""
    tg = running.tg
    tg.say(CHAT, USER, "/settings format gif")
    await tg.wait_for(lambda: any("photo (the default) or file" in t for t in tg.texts(CHAT)))


class _Fixed:
    """A provider of one fixed image (``data``), declared ``size``."""

    name = "fixed"
    capabilities = ScriptedProvider().capabilities

    def __init__(self, data: bytes, size: tuple[int, int]) -> None:
        self.data, self.size = data, size

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        return [
            Image(self.data, "image/png", *self.size, seed=request.seed, provider="fixed")
            for _ in range(request.n)
        ]

    async def check(self) -> Any:
        return await ScriptedProvider().check()

    async def aclose(self) -> None:
        return None


@pytest.mark.parametrize("refusal", ["PHOTO_INVALID_DIMENSIONS", "IMAGE_PROCESS_FAILED"])
@pytest.mark.easel(providers=lambda: [_Fixed(_png(), ORIGINAL.size)])
async def test_a_photo_telegram_refuses_goes_as_the_original_document(running: Running, refusal: str) -> None:
    """Telegram answering sendPhoto 400 PHOTO_INVALID_DIMENSIONS / IMAGE_PROCESS_FAILED: the document goes."""
    tg = running.tg
    tg.fail_next("sendPhoto", 400, f"Bad Request: {refusal}")
    tg.say(CHAT, USER, "/imagine a red fox")
    await tg.wait_for(lambda: tg.documents(CHAT))
    [document] = tg.documents(CHAT)
    assert kept(running.settings.media_dir, tg.file_bytes(document))
    assert "red fox" in document["caption"] and document["reply_markup"]["inline_keyboard"]
    assert [c.method for c in tg.calls if c.method in ("sendPhoto", "sendDocument")] == [
        "sendPhoto",
        "sendDocument",
    ]


@pytest.mark.easel(providers=lambda: [_Fixed(_png(), ORIGINAL.size)])
async def test_an_album_telegram_refuses_as_photos_goes_as_documents(running: Running) -> None:
    """sendMediaGroup of photos answered PHOTO_INVALID_DIMENSIONS: the same album again as documents."""
    tg = running.tg
    tg.fail_next("sendMediaGroup", 400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
    tg.say(CHAT, USER, "/imagine two foxes --n 2")
    await tg.wait_for(lambda: len(tg.documents(CHAT)) == 2)
    assert all(kept(running.settings.media_dir, tg.file_bytes(m)) for m in tg.documents(CHAT))
    assert len({m["media_group_id"] for m in tg.documents(CHAT)}) == 1
    assert not tg.photos(CHAT)


@pytest.mark.easel(providers=lambda: [_Fixed(png_claiming(20_000, 20_000), (20_000, 20_000))])
async def test_an_image_that_cannot_be_fitted_as_a_photo_goes_as_a_document(running: Running) -> None:
    """An image declaring 20000x20000 (over the budget to fit as a photo) is sent as its file."""
    tg = running.tg
    tg.say(CHAT, USER, "/imagine a huge fox")
    await tg.wait_for(lambda: tg.documents(CHAT))
    [document] = tg.documents(CHAT)
    assert kept(running.settings.media_dir, tg.file_bytes(document))
    assert not tg.calls_to("sendPhoto")


async def test_a_photo_refused_for_another_reason_is_not_sent_as_a_document(running: Running) -> None:
    """A 400 that is not about the photo itself (caption too long) does not turn into a document."""
    tg = running.tg
    tg.fail_next("sendPhoto", 400, "Bad Request: message caption is too long")
    tg.say(CHAT, USER, "/imagine a red fox")

    async def failed() -> bool:
        job = await running.easel.jobs.get_job(job_id=1)
        return job is not None and job.status == JobStatus.FAILED

    for _ in range(1000):  # 20 s at most
        if await failed():
            break
        await asyncio.sleep(0.02)
    assert await failed()
    assert len(tg.calls_to("sendPhoto")) == 1 and not tg.calls_to("sendDocument")
