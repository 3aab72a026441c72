"""Web chat uploads above the pixel budget reach the core reduced; above the hard cap they are refused."""

from __future__ import annotations

from tests.big_uploads import png_claiming, solid_png, stored_uploads
from tests.web.conftest import WebRun


async def test_a_png_declaring_7000_squared_is_kept_at_3500_squared(web: WebRun) -> None:
    """A 62 kB upload declaring 49 MP is edited, and the upload Easel keeps is 3500x3500."""
    generation = await web.generate("make it warmer", image=solid_png(7000, 7000))
    record = await web.easel.history.get_generation(generation_id=generation)
    assert record is not None and record.kind == "edit"
    [upload] = stored_uploads(web.easel.settings.media_dir)
    assert (upload["width"], upload["height"]) == upload["file_size_px"] == (3500, 3500)


async def test_a_png_declaring_60_mp_is_refused_with_413(web: WebRun) -> None:
    """A header above the 50 MP cap is a 413 that says the limit."""
    response = await web.send("make it warmer", image=png_claiming(10_000, 6_000))
    assert response.status_code == 413
    assert response.json()["error"] == "That image has too many pixels (50 MP at most)."
