"""Human names for what the web chat shows: chats, users and the browser that sent a message."""

from __future__ import annotations

from bot.platforms.web.conversations import browser_name, chat_label, user_label
from tests.web.conftest import WebRun

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
EDGE = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/124.0 Safari/537.36 Edg/124.0"


def test_browsers_are_named_as_people_call_them() -> None:
    """Browser and system from the User-Agent; something neutral when it says nothing."""
    assert browser_name(CHROME_LINUX) == "Chrome on Linux"
    assert browser_name(FIREFOX_WINDOWS) == "Firefox on Windows"
    assert browser_name(SAFARI_IPHONE) == "Safari on iOS"
    assert browser_name(EDGE) == "Edge on Windows"
    assert browser_name("curl/8.5") == "Web browser"


def test_chats_are_named_by_platform() -> None:
    """The main web chat, a web conversation by its start, other platforms' chats by their id."""
    assert chat_label("web", "web") == "Web chat"
    assert chat_label("web", "w202503140930beef") == "Web chat of 2025-03-14 09:30 UTC"
    assert chat_label("telegram", "-1001") == "Telegram chat -1001"
    assert chat_label("discord", "42") == "Discord channel 42"
    assert chat_label("console", "console") == "Terminal"


def test_user_labels_name_the_platform() -> None:
    """``name (platform)`` from the gallery store, with the platform said as people say it."""
    assert user_label("Chrome on Linux (web)") == "Chrome on Linux (web chat)"
    assert user_label("Ann (telegram)") == "Ann (Telegram)"
    assert user_label("odd label") == "odd label"


async def test_gallery_filters_and_details_use_human_names(web: WebRun) -> None:
    """No ``web:web`` nor ``Browser e75e``: the chat and the sender by name."""
    web.client.headers["User-Agent"] = FIREFOX_WINDOWS
    generation = await web.generate("a fox")
    facets = (await web.client.get("/api/gallery/facets")).json()
    assert [c["label"] for c in facets["chats"]] == ["Web chat"]
    assert [u["label"] for u in facets["users"]] == ["Firefox on Windows (web chat)"]
    detail = (await web.client.get(f"/api/generations/{generation}")).json()
    assert detail["chat_label"] == "Web chat" and detail["user"] == "Firefox on Windows"
