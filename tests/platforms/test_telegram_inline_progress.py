"""Inline mode's progress: while the job runs, the inline message's text shows its status line under
the prompt (editMessageText by inline_message_id, keeping the 🎨 Draw another keyboard); the image
replaces it at the end, and no status edit comes after the image."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.fakes import telegram_world
from tests.fakes.scripted import ScriptedProvider
from tests.platforms.conftest import USER, Running
from tests.platforms.test_telegram_inline import INLINE, STORAGE, chosen

GATES: list[asyncio.Event] = []


def _gated() -> list[Any]:
    """A provider that waits for the test's gate before it finishes its image."""
    gate = asyncio.Event()
    GATES.append(gate)
    return [ScriptedProvider(gate=gate)]


def _inline_text_edits(running: Running, inline_message_id: str) -> list[str]:
    calls = running.tg.calls_to("editMessageText")
    return [str(c.params["text"]) for c in calls if c.params.get("inline_message_id") == inline_message_id]


@pytest.mark.easel(env=INLINE, providers=_gated)
async def test_the_inline_message_shows_the_jobs_status_while_it_runs(running: Running) -> None:
    """While the provider works the message reads "🎨 Drawing “a red fox”…" and the status line, with
    its keyboard; then the image replaces it and no text edit follows."""
    tg = running.tg
    tg.group(STORAGE)
    inline_message_id = await chosen(running, "a red fox")
    running_text = "🎨 Drawing “a red fox”…\nGenerating with scripted…"
    await tg.wait_for(lambda: tg.inline_message(inline_message_id).get("text") == running_text)
    assert tg.inline_message(inline_message_id)["reply_markup"]["inline_keyboard"]
    GATES[-1].set()
    await tg.wait_for(lambda: "photo" in tg.inline_message(inline_message_id))
    await running.easel.queue.drain()
    methods = [c.method for c in tg.calls if c.params.get("inline_message_id") == inline_message_id]
    assert methods[-1] == "editMessageMedia" and "editMessageText" in methods
    assert "photo" in tg.inline_message(inline_message_id)


@pytest.mark.easel(env=INLINE, providers=_gated)
async def test_the_inline_status_is_in_the_users_language(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A German user's inline message says "Ich zeichne" and the German status line while it runs."""
    monkeypatch.setitem(telegram_world.USER_LANGUAGES, USER, "de")
    tg = running.tg
    tg.group(STORAGE)
    inline_message_id = await chosen(running, "ein Fuchs")
    await tg.wait_for(lambda: "scripted" in tg.inline_message(inline_message_id).get("text", ""))
    prompt, status = tg.inline_message(inline_message_id)["text"].split("\n", 1)
    assert prompt == "🎨 Ich zeichne „ein Fuchs“…" and "Generating" not in status
    assert any("Warteschlange" in text for text in _inline_text_edits(running, inline_message_id))
    GATES[-1].set()
    await tg.wait_for(lambda: "photo" in tg.inline_message(inline_message_id))
