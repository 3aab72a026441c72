"""The web chat in German in a real browser (Debian's Chromium and Playwright; skipped without, a
failure with EASEL_REQUIRE_BROWSER=1): the page's labels and its script's texts."""

from __future__ import annotations

from pathlib import Path

from tests.web.conftest import open_web
from tests.web.test_browser import TIMEOUT_MS, _launch, chromium

__all__ = ["chromium"]  # the fixture, used by name


async def test_a_german_browser_uses_the_web_chat_in_german(tmp_path: Path, chromium: Path) -> None:
    """A de-DE browser: German labels and placeholder, German buttons under a new picture (the
    script's texts, with no Content-Security-Policy complaint), the gallery's detail in German."""
    from playwright.async_api import async_playwright, expect

    async with open_web(tmp_path) as run, async_playwright() as p:
        browser = await _launch(p, chromium)
        try:
            context = await browser.new_context(locale="de-DE", viewport={"width": 1100, "height": 800})
            page = await context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            complaints: list[str] = []
            page.on("console", lambda line: complaints.append(line.text) if line.type == "error" else None)
            await page.goto(run.url)
            await expect(page.locator("html")).to_have_attribute("lang", "de")
            prompt = page.get_by_label("Prompt")
            await expect(prompt).to_have_attribute("placeholder", "Beschreibe ein Bild…")
            await expect(page.get_by_role("button", name="Neue Unterhaltung")).to_be_visible()
            await prompt.fill("ein roter Fuchs im Schnee")
            await page.get_by_role("button", name="Senden").click()
            reply = page.locator(".reply[data-generation]")
            await expect(reply.locator("img")).to_be_visible()
            generation = await reply.get_attribute("data-generation")
            await expect(reply.get_by_role("button", name=f"Neu würfeln #{generation}")).to_be_visible()
            await expect(reply.get_by_role("link", name="Herunterladen")).to_be_visible()
            await reply.get_by_role("button", name=f"Bearbeiten #{generation}").click()
            await expect(page.locator("#editing")).to_contain_text(f"Bearbeite #{generation}")

            await page.get_by_role("link", name="Galerie").click()
            await page.get_by_role("button", name=f"Bild #{generation}: ein roter Fuchs im Schnee").click()
            dialog = page.locator("dialog#detail")
            await expect(dialog.get_by_role("button", name="Löschen")).to_be_visible()
            await expect(dialog).to_contain_text("Nichts: ein ursprünglicher Prompt.")
            assert not [text for text in complaints if "Content Security Policy" in text], complaints
        finally:
            await browser.close()


async def test_the_pages_language_reaches_the_servers_texts(tmp_path: Path, chromium: Path) -> None:
    """An English browser on /?lang=de: the script asks the API in German (the conversation's label,
    a refusal), not in the browser's English."""
    from playwright.async_api import async_playwright, expect

    async with open_web(tmp_path) as run, async_playwright() as p:
        browser = await _launch(p, chromium)
        try:
            context = await browser.new_context(locale="en-US")
            page = await context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(f"{run.url}?lang=de")
            await expect(page.locator("#conversation option")).to_have_text(["Web-Chat"])
            await page.goto(f"{run.url}gallery?lang=de#999")
            await expect(page.locator("#detail-body")).to_contain_text("Dieses Bild gibt es nicht.")
        finally:
            await browser.close()
