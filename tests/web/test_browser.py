"""The web chat in a real browser: Debian's Chromium driven by Playwright, as a person would use it.

Skipped when /usr/bin/chromium is missing, unless EASEL_REQUIRE_BROWSER=1 (CI), which makes it fail.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from tests.web.conftest import open_web, png

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 8_000


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium and Playwright, or a skip (a failure when EASEL_REQUIRE_BROWSER=1)."""
    missing = None if CHROMIUM.exists() else f"{CHROMIUM} is missing (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        missing = "playwright is not installed (pip install -e '.[dev]')"
    if missing is not None:
        if os.environ.get("EASEL_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{missing}, and EASEL_REQUIRE_BROWSER=1")
        pytest.skip(missing)
    return CHROMIUM


async def test_generate_edit_and_browse_lineage(tmp_path: Path, chromium: Path) -> None:
    """Prompt → image → Edit "make it warmer" → second image → an uploaded photo edited → the gallery
    shows them newest first, the edit linked to its parent both ways."""
    from playwright.async_api import async_playwright, expect

    shots = tmp_path / "screenshots"
    shots.mkdir()
    async with open_web(tmp_path) as run, async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 800})
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(run.url)
            prompt = page.get_by_label("Prompt")
            await prompt.fill("a red fox in the snow --ar 16:9")
            await prompt.press("Enter")
            replies = page.locator(".reply[data-generation]")
            await expect(replies).to_have_count(1)
            await expect(replies.first.locator("img")).to_be_visible()
            first = await replies.first.get_attribute("data-generation")
            await page.screenshot(path=shots / "1-generated.png")

            await replies.first.get_by_role("button", name=f"Edit #{first}").click()
            await expect(page.locator("#editing")).to_contain_text(f"Editing #{first}")
            await prompt.fill("make it warmer")
            await prompt.press("Enter")
            await expect(replies).to_have_count(2)
            await expect(replies.nth(1).locator("img")).to_be_visible()
            second = await replies.nth(1).get_attribute("data-generation")
            assert first is not None and second is not None and first != second
            await page.screenshot(path=shots / "2-edited.png")

            upload = tmp_path / "holiday.png"
            upload.write_bytes(png(120, 80))
            await page.locator("#file").set_input_files(upload)
            await expect(page.locator("#attachment")).to_contain_text("holiday.png")
            await prompt.fill("make it black and white")
            await page.get_by_role("button", name="Send").click()
            await expect(replies).to_have_count(3)
            await expect(replies.nth(2).locator("img")).to_be_visible()
            third = await replies.nth(2).get_attribute("data-generation")
            await page.screenshot(path=shots / "3-uploaded.png")

            await page.get_by_role("link", name="Gallery").click()
            cards = page.locator(".card")
            await expect(cards).to_have_count(3)
            order = [await c.get_attribute("data-generation") for c in await cards.all()]
            assert order == [third, second, first]
            await page.screenshot(path=shots / "4-gallery.png")
            await cards.nth(1).click()
            dialog = page.locator("dialog#detail")
            await expect(dialog).to_contain_text("make it warmer")
            await expect(dialog.locator("#parent button")).to_have_attribute("data-generation", first)
            await page.screenshot(path=shots / "5-detail-child.png")
            await dialog.locator("#parent button").click()
            await expect(dialog.locator("#children button")).to_have_attribute("data-generation", second)
            await expect(dialog).to_contain_text("a red fox in the snow")
            await page.screenshot(path=shots / "6-detail-parent.png")
        finally:
            await browser.close()
