"""Pictures sent hidden, in a real browser (Chromium and Playwright; skipped without): blurred in the
web chat's history after a restart and in the gallery, shown by a first click."""

from __future__ import annotations

from pathlib import Path

from tests.web.conftest import open_web
from tests.web.test_browser import TIMEOUT_MS, _launch, chromium

__all__ = ["chromium"]  # the fixture, used by name


async def test_a_hidden_picture_is_blurred_until_clicked_after_a_restart(
    tmp_path: Path, chromium: Path
) -> None:
    """Made under policy spoiler; after a restart the chat shows it blurred, a click reveals it, and
    the gallery's card and detail view are blurred too."""
    from playwright.async_api import async_playwright, expect

    async with open_web(tmp_path) as run:
        await run.login()
        await run.client.post("/api/command", json={"text": "/settings policy spoiler"})
        hidden = await run.generate("a red fox")
    async with open_web(tmp_path) as run, async_playwright() as p:
        await run.login()
        browser = await _launch(p, chromium)
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 800})
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(run.url)
            link = page.locator(f'[data-generation="{hidden}"] .images a').first
            await expect(link).to_have_class("spoiler")
            await expect(link).to_have_attribute("title", "Hidden: click to show")
            await link.click()
            await expect(link).not_to_have_class("spoiler")
            await page.goto(f"{run.url}gallery")
            card = page.locator(f'#grid .card[data-generation="{hidden}"]')
            await expect(card).to_have_class("card is-spoiler")
            await page.goto(f"{run.url}gallery#{hidden}")
            await expect(page.locator("dialog#detail .images a").first).to_have_class("spoiler")
        finally:
            await browser.close()
