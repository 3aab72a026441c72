"""The gallery's Delete and Hide buttons in a real browser (Chromium and Playwright; skipped without)."""

from __future__ import annotations

from pathlib import Path

from tests.web.conftest import open_web
from tests.web.test_browser import TIMEOUT_MS, _launch, chromium

__all__ = ["chromium"]  # the fixture, used by name


async def test_gallery_delete_button_removes_the_card(tmp_path: Path, chromium: Path) -> None:
    """Delete in the detail view (confirmed) closes it, removes the card; a child names it "(deleted)"."""
    from playwright.async_api import async_playwright, expect

    async with open_web(tmp_path) as run, async_playwright() as p:
        await run.login()
        parent = await run.generate("a lighthouse")
        child = await run.generate(f"/edit #{parent} make it warmer")
        browser = await _launch(p, chromium)
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 800})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("dialog", lambda confirm: confirm.accept())
            await page.goto(f"{run.url}gallery#{parent}")
            dialog = page.locator("dialog#detail")
            await expect(dialog).to_contain_text("a lighthouse")
            await dialog.get_by_role("button", name="Delete").click()
            await expect(dialog).to_be_hidden()
            await expect(page.locator(f'#grid .card[data-generation="{parent}"]')).to_have_count(0)
            await expect(page.locator(f'#grid .card[data-generation="{child}"]')).to_have_count(1)
            assert await run.easel.history.get_generation(generation_id=parent) is None
            await page.goto(f"{run.url}gallery#{child}")
            await expect(page.locator("#parent")).to_have_text(f"#{parent} (deleted)")
        finally:
            await browser.close()


async def test_gallery_hide_show_hidden_and_unhide(tmp_path: Path, chromium: Path) -> None:
    """Hide in the detail view removes the card; "Show hidden" lists it marked; Unhide unmarks it."""
    from playwright.async_api import async_playwright, expect

    async with open_web(tmp_path) as run, async_playwright() as p:
        await run.login()
        kept = await run.generate("a lighthouse")
        hidden = await run.generate("a red fox")
        browser = await _launch(p, chromium)
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 800})
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(f"{run.url}gallery#{hidden}")
            dialog = page.locator("dialog#detail")
            await dialog.get_by_role("button", name="Hide").click()
            await expect(dialog.get_by_role("button", name="Unhide")).to_be_visible()
            card = page.locator(f'#grid .card[data-generation="{hidden}"]')
            await expect(card).to_have_count(0)
            await dialog.get_by_role("button", name="Close").click()
            await page.get_by_label("Show hidden").check()
            await expect(card).to_have_count(1)
            await expect(card).to_have_class("card is-hidden")
            await expect(card).to_contain_text("hidden")
            await expect(page.locator(f'#grid .card[data-generation="{kept}"]')).to_have_class("card")
            await card.click()
            await dialog.get_by_role("button", name="Unhide").click()
            await expect(dialog.get_by_role("button", name="Hide")).to_be_visible()
            await expect(card).to_have_class("card")
        finally:
            await browser.close()
