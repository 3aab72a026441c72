"""The web chat in a real browser: Debian's Chromium driven by Playwright, as a person would use it.

Skipped when /usr/bin/chromium is missing, unless EASEL_REQUIRE_BROWSER=1 (CI), which makes it fail.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.scripted import ScriptedProvider
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


async def _launch(p: Any, chromium: Path) -> Any:
    return await p.chromium.launch(executable_path=str(chromium), headless=True)


async def test_the_conversation_survives_a_restart(tmp_path: Path, chromium: Path) -> None:
    """A browser's new conversation, after the server restarts: its picture with buttons that work,
    older pictures on scrolling up, and the main conversation still there to go back to."""
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as p:
        browser = await _launch(p, chromium)
        try:
            context = await browser.new_context(viewport={"width": 1000, "height": 700})
            page = await context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            async with open_web(tmp_path) as run:
                await run.login()
                for n in range(22):  # more than one page of history, in the main conversation
                    await run.generate(f"picture {n}")
                await page.goto(run.url)
                await page.get_by_role("button", name="New conversation").click()
                await expect(page.locator("#conversation")).to_have_value(re.compile("^w"))
                await page.get_by_label("Prompt").fill("a red fox in the snow")
                await page.get_by_label("Prompt").press("Enter")
                await expect(page.locator(".reply[data-generation] img")).to_be_visible()
                fox = await page.locator(".reply[data-generation]").get_attribute("data-generation")
            async with open_web(tmp_path) as run:  # a restart: another port, the same database
                await page.goto(run.url)
                replies = page.locator(".reply[data-generation]")
                await expect(replies).to_have_count(1)
                await expect(replies.first.locator("img")).to_be_visible()
                await expect(page.locator(".msg.mine .bubble").first).to_contain_text("a red fox in the snow")
                await replies.first.get_by_role("button", name=f"Reroll #{fox}").click()
                await expect(replies).to_have_count(2)
                await expect(page.locator(".msg.mine").last).to_contain_text(f"#{fox} · Reroll")

                conversation = page.locator("#conversation")
                await conversation.select_option("web")
                await expect(conversation).to_have_value("web")
                await expect(replies).to_have_count(20)
                first_shown = await replies.first.get_attribute("data-generation")
                await page.locator("#log").evaluate("log => { log.scrollTop = 0; }")
                await expect(replies).to_have_count(22)
                numbers = [int(await r.get_attribute("data-generation") or 0) for r in await replies.all()]
                assert numbers == sorted(numbers) and numbers[2] == int(first_shown or 0)
                await expect(page.locator("#older")).to_be_hidden()
        finally:
            await browser.close()


async def test_results_of_older_messages_and_stopping_a_request(tmp_path: Path, chromium: Path) -> None:
    """Reroll on a message scrolled out of view brings the page to its new result; a result that
    arrives while one reads older messages shows the "New result" pill; Stop ends a running request."""
    from playwright.async_api import async_playwright, expect

    gate = asyncio.Event()
    gate.set()
    provider = ScriptedProvider(gate=gate)
    async with open_web(tmp_path, providers=[provider]) as run, async_playwright() as p:
        await run.login()
        browser = await _launch(p, chromium)
        try:
            page = await browser.new_page(viewport={"width": 1000, "height": 600})
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(run.url)
            prompt = page.get_by_label("Prompt")
            replies = page.locator(".reply[data-generation]")
            for n in range(4):
                await prompt.fill(f"picture {n}")
                await prompt.press("Enter")
                await expect(replies).to_have_count(n + 1)
            log = page.locator("#log")
            await log.evaluate("log => { log.scrollTop = 0; }")
            first = await replies.first.get_attribute("data-generation")
            await replies.first.get_by_role("button", name=f"Reroll #{first}").click()
            await expect(replies).to_have_count(5)
            await expect(replies.last).to_be_in_viewport()

            await log.evaluate("log => { log.scrollTop = 0; }")
            other = await run.generate("from another browser")  # someone else's result
            await expect(page.locator(f'.reply[data-generation="{other}"]')).to_have_count(1)
            pill = page.get_by_role("button", name="New result ↓")
            await expect(pill).to_be_visible()
            await pill.click()
            await expect(replies.last).to_be_in_viewport()
            await expect(pill).to_be_hidden()

            gate.clear()  # the next request waits in the provider until stopped
            await prompt.fill("a slow lighthouse")
            await prompt.press("Enter")
            stop = page.get_by_role("button", name="Stop this request")
            await expect(stop).to_be_visible()
            await stop.click()
            await expect(page.locator(".reply").last).to_contain_text("Cancelled 1 request(s).")
            await expect(stop).to_have_count(0)
        finally:
            await browser.close()


async def test_an_upload_shows_as_a_thumbnail_and_a_non_image_is_refused(
    tmp_path: Path, chromium: Path
) -> None:
    """The photo is in the sender's bubble; a text file never leaves the composer."""
    from playwright.async_api import async_playwright, expect

    async with open_web(tmp_path) as run, async_playwright() as p:
        browser = await _launch(p, chromium)
        try:
            page = await browser.new_page(viewport={"width": 1000, "height": 700})
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(run.url)
            notes = tmp_path / "notes.txt"
            notes.write_text("not a picture")
            await page.locator("#file").set_input_files(notes)
            await expect(page.get_by_role("alert")).to_contain_text("notes.txt is not an image I can edit")
            await expect(page.locator("#attachment")).to_have_count(0)
            assert (
                await page.locator("#file").get_attribute("accept")
                == "image/png,image/jpeg,image/webp,image/gif"
            )

            photo = tmp_path / "holiday.png"
            photo.write_bytes(png(300, 200))
            await page.locator("#file").set_input_files(photo)
            await expect(page.locator("#composer-error")).to_be_hidden()
            await page.get_by_label("Prompt").fill("make it black and white")
            await page.get_by_label("Prompt").press("Enter")
            thumb = page.locator(".msg.mine img.upload-thumb")
            await expect(thumb).to_be_visible()
            assert await thumb.evaluate("img => img.naturalWidth") == 256
            await expect(page.locator(".msg.mine")).not_to_contain_text("[image attached]")
            await expect(page.locator(".reply[data-generation] img")).to_be_visible()
        finally:
            await browser.close()


async def test_human_labels_gallery_addresses_and_touch_hint(tmp_path: Path, chromium: Path) -> None:
    """The gallery names chat and sender; a new #id in its address opens that picture; a touch screen
    is not told about Enter and Shift+Enter."""
    from playwright.async_api import async_playwright, expect

    async with open_web(tmp_path) as run, async_playwright() as p:
        await run.login()
        first = await run.generate("a lighthouse")
        second = await run.generate("a windmill")
        browser = await _launch(p, chromium)
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 800})
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(f"{run.url}gallery#{first}")
            dialog = page.locator("dialog#detail")
            await expect(dialog).to_contain_text("a lighthouse")
            await expect(dialog).to_contain_text("Web chat")
            await expect(dialog).not_to_contain_text("web:web")
            await page.evaluate(f"location.hash = '#{second}'")
            await expect(dialog).to_contain_text("a windmill")
            await expect(page.locator("#f-chat option", has_text="Web chat")).to_have_count(1)
            await expect(page.locator("#f-user option").nth(1)).to_have_text(re.compile(r" \(web chat\)$"))
            await page.goto(run.url)
            await expect(page.locator(".hint-keys")).to_be_visible()

            phone = await browser.new_context(
                has_touch=True, is_mobile=True, viewport={"width": 390, "height": 800}
            )
            touch = await phone.new_page()
            touch.set_default_timeout(TIMEOUT_MS)
            await touch.goto(run.url)
            await expect(touch.locator(".hint-keys")).to_be_hidden()
            await expect(touch.locator(".hint-touch")).to_be_visible()
        finally:
            await browser.close()


async def test_the_schedules_page(tmp_path: Path, chromium: Path) -> None:
    """A post added with the form (its next runs shown while typing), run now (its picture in the
    table), paused, resumed and deleted; a birthday listed by name."""
    from playwright.async_api import async_playwright, expect

    holder: list[Any] = []
    async with open_web(tmp_path, scheduler_alive=lambda: holder[0].is_running()) as run:
        holder.append(run.easel.scheduler)
        await run.easel.scheduler.start()
        await run.login()
        response = await run.client.post("/api/command", json={"text": "/birthday set 14-03 Ann"})
        assert response.status_code == 200
        async with async_playwright() as p:
            browser = await _launch(p, chromium)
            try:
                page = await browser.new_page(viewport={"width": 1200, "height": 900})
                page.set_default_timeout(TIMEOUT_MS)
                page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
                await page.goto(f"{run.url}schedules")
                rows = page.locator("#rows tr")
                await expect(rows).to_have_count(1)
                await expect(rows.first).to_contain_text("Ann")

                await page.get_by_label("Prompt").fill("a lighthouse at dawn")
                await page.get_by_label("Time zone").fill("Asia/Tokyo")
                await page.get_by_label("When").fill("0 9 * * 1")
                await expect(page.locator("#preview li")).to_have_count(3)
                await expect(page.locator("#preview li").first).to_have_text(re.compile(r"^Mon .* 09:00$"))
                await page.get_by_label("When").fill("whenever")
                await expect(page.locator("#preview")).to_contain_text("couldn't tell when")
                await page.get_by_label("When").fill("every day at 09:00")
                await page.get_by_role("button", name="Schedule it").click()
                await expect(page.locator("#answer")).to_contain_text("Scheduled #")
                post = rows.filter(has_text="a lighthouse at dawn")
                await expect(post).to_contain_text("09:00")
                schedule_id = (await post.get_attribute("data-schedule")) or ""

                await post.get_by_role("button", name=f"Run now #{schedule_id}").click()
                await expect(page.locator("#answer")).to_contain_text(f"Running #{schedule_id} now.")
                await expect(post.locator("img")).to_be_visible()  # the page follows the run
                await expect(post).to_contain_text("done")

                await post.get_by_role("button", name=f"Pause #{schedule_id}").click()
                await expect(post).to_contain_text("paused")
                await post.get_by_role("button", name=f"Resume #{schedule_id}").click()
                await expect(post.get_by_role("button", name=f"Pause #{schedule_id}")).to_be_visible()
                await post.get_by_role("button", name=f"Delete #{schedule_id}").click()
                await expect(rows).to_have_count(1)
                await page.screenshot(path=tmp_path / "schedules.png")
            finally:
                await browser.close()
                await run.easel.scheduler.stop()
