"""The ⬆️ Upscale button (issue 20) on Telegram and Discord against their fakes: a press makes image k
twice as large as a new generation; forged data (an image the set lacks) is answered and makes nothing."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image as PILImage

from bot.core.types import GenerationKind
from tests.fakes.discord_harness import RunningDiscord, running_discord
from tests.platforms.conftest import CHAT, USER, Running
from tests.platforms.test_discord_image_buttons import answer_of, forge
from tests.platforms.test_telegram_image_buttons import album_of_two, answer_text


def size_of(data: bytes) -> tuple[int, int]:
    with PILImage.open(io.BytesIO(data)) as img:
        return img.size


async def test_telegram_upscale_2_sends_image_2_at_twice_the_size(running: Running) -> None:
    """Pressing ⬆️ 2 under an album of two answers with a photo of image 2 at twice its size."""
    tg = running.tg
    keys = await album_of_two(running)
    assert ("⬆️ 2", "u:1:2") in [
        b
        for row in keys["reply_markup"]["inline_keyboard"]
        for b in [(x["text"], x["callback_data"]) for x in row]
    ]
    tg.press(CHAT, keys["message_id"], USER, "u:1:2")
    await tg.wait_for(lambda: len(tg.photos(CHAT)) == 3)
    await running.easel.queue.drain()
    record = await running.easel.history.get_generation(generation_id=2)
    source = await running.easel.history.get_generation(generation_id=1)
    assert record is not None and source is not None and record.kind is GenerationKind.UPSCALE
    assert record.parent_id == 1 and record.params["source"] == {"generation": 1, "image": 1}
    small = source.images[1]
    assert size_of(record.images[0].path.read_bytes()) == (small.width * 2, small.height * 2)
    photo = tg.photos(CHAT)[-1]
    assert size_of(tg.file_bytes(photo)) == (small.width * 2, small.height * 2)


async def test_telegram_upscale_9_of_a_two_image_set_is_answered_clearly(running: Running) -> None:
    """Forged data 'u:1:9' is answered in words and makes nothing."""
    keys = await album_of_two(running)
    running.tg.press(CHAT, keys["message_id"], USER, "u:1:9")
    assert "there is no image 9" in await answer_text(running, "there is no image 9")
    await running.easel.queue.drain()
    assert len(running.tg.photos(CHAT)) == 2


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningDiscord]:
    async with running_discord(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}") as running:
        yield running


async def test_discord_upscale_button_answers_with_an_attachment_twice_the_size(bot: RunningDiscord) -> None:
    """Pressing Upscale under one image answers with that image at twice its size as an attachment."""
    first = await bot.result_of(bot.dc.slash("imagine", {"prompt": "a castle"}))
    assert "easel:u:1" in [c["custom_id"] for row in first["components"] for c in row["components"]]
    message = await bot.result_of(bot.dc.press(int(first["id"]), "easel:u:1"))
    await bot.easel.queue.drain()
    source = await bot.easel.history.get_generation(generation_id=1)
    assert source is not None
    big = size_of(bot.dc.file_bytes(message["attachments"][0]))
    assert big == (source.images[0].width * 2, source.images[0].height * 2)


async def test_discord_forged_upscale_9_is_answered_clearly(bot: RunningDiscord) -> None:
    """A custom id 'easel:u:1:9' (no image 9 in a set of two) is answered in words; nothing is made."""
    first = await bot.result_of(bot.dc.slash("imagine", {"prompt": "two foxes", "count": 2}))
    forge(bot, first, "easel:u:1:9")
    await answer_of(
        bot, bot.dc.press(int(first["id"]), "easel:u:1:9"), "Picture #1 has 2 images; there is no image 9."
    )
    await bot.easel.queue.drain()
    made = await bot.easel.history.get_generation(generation_id=2)
    assert made is None or not made.images
