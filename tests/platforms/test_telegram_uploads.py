"""Uploads above the pixel budget through the real Telegram adapter: kept reduced, never at full size."""

from __future__ import annotations

from tests.big_uploads import solid_png, stored_uploads
from tests.platforms.conftest import CHAT, USER, Running


async def test_a_photo_declaring_7000_squared_is_stored_within_the_pixel_budget(running: Running) -> None:
    """A 62 kB photo declaring 7000x7000 (49 MP) is edited from a kept 3500x3500 copy, not the original."""
    tg = running.tg
    tg.send_photo_from_user(CHAT, USER, solid_png(7000, 7000), "make it black and white")
    await tg.wait_for(lambda: tg.photos(CHAT))
    assert "edit" in tg.photos(CHAT)[0]["caption"]
    [upload] = stored_uploads(running.settings.media_dir)
    assert (upload["width"], upload["height"]) == upload["file_size_px"] == (3500, 3500)
