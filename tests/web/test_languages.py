"""The web chat answers in the browser's language (``Accept-Language``), safely parsed."""

from __future__ import annotations

from typing import Any

from bot.core import i18n, texts
from tests.web.conftest import WebRun


async def replies_to(web: WebRun, text: str, accept_language: str | bytes | None) -> list[Any]:
    await web.login()
    headers = {"Accept-Language": accept_language} if accept_language is not None else {}
    response = await web.client.post("/api/command", json={"text": text}, headers=headers)
    assert response.status_code == 200, response.text
    replies: list[Any] = response.json()["replies"]
    return replies


def german(message: str) -> str:
    with i18n.using("de"):
        return i18n._(message)


async def test_a_german_browser_gets_help_in_german(web: WebRun) -> None:
    """Accept-Language: de-DE,de;q=0.9 → /help in German."""
    replies = await replies_to(web, "/help", "de-DE,de;q=0.9")
    assert replies[0]["text"] == german(texts.HELP)
    assert replies[0]["text"].startswith("Easel macht aus Worten Bilder.")


async def test_a_hostile_accept_language_gets_english(web: WebRun) -> None:
    """An 8 KB header of garbage (aiohttp takes header lines up to 8190 bytes) → English, no error."""
    garbage = b"de" + b";q=" * 2000 + b"," * 1000 + "\u00e9\u00fc".encode() * 200
    replies = await replies_to(web, "/history", garbage[:8000])
    assert "Nothing here yet." in str(replies)


async def test_no_accept_language_gets_english(web: WebRun) -> None:
    """Without the header the answer is the English text."""
    replies = await replies_to(web, "/history", None)
    assert "Nothing here yet." in str(replies)
