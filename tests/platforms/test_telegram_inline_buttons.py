"""Buttons on a finished inline message: 🎲 Reroll, 🔀 Vary (and ⬆️ Upscale where offered) above 🎨 Draw
another. A press carries ``inline_message_id`` and no message; it acts for the presser's private chat,
so only the person who drew the picture makes anything, and the new picture replaces the old one."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.errors import Refused
from bot.core.ports import ProgressCallback
from bot.core.types import Image, ImageRequest
from tests.fakes import telegram_world
from tests.fakes.scripted import ScriptedProvider
from tests.platforms.conftest import USER, Running
from tests.platforms.test_telegram_inline import INLINE, STORAGE, chosen

OTHER = 5151


class RefusesAfterTheFirst(ScriptedProvider):
    """Draws the first picture, refuses every later request."""

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        if self.requests:
            self.requests.append(request)
            raise Refused("no", provider=self.name, user_message="not again")
        return await super().generate(request, on_progress=on_progress)


def _refusing_later() -> list[Any]:
    return [RefusesAfterTheFirst()]


def data_of(message: dict[str, Any]) -> list[list[str]]:
    """The callback data (or the switch_inline_query_current_chat marker) of each row's buttons."""
    rows = message["reply_markup"]["inline_keyboard"]
    return [[key.get("callback_data", "switch") for key in row] for row in rows]


async def drawn(running: Running, prompt: str = "a red fox") -> str:
    """An inline message of USER's, finished (its image in)."""
    tg = running.tg
    tg.group(STORAGE)
    inline_message_id = await chosen(running, prompt)
    await tg.wait_for(lambda: "photo" in tg.inline_message(inline_message_id))
    await running.easel.queue.drain()
    return inline_message_id


@pytest.mark.easel(env=INLINE)
async def test_the_finished_inline_message_has_reroll_and_vary_above_draw_another(running: Running) -> None:
    """The image comes with the generation's Reroll/Vary(/Upscale) buttons, and Draw another last."""
    inline_message_id = await drawn(running)
    rows = data_of(running.tg.inline_message(inline_message_id))
    assert rows[-1] == ["switch"]
    actions = [data for row in rows[:-1] for data in row]
    assert "r:1" in actions and "v:1" in actions
    assert {data.split(":")[0] for data in actions} <= {"r", "v", "u"}  # nothing that needs a chat


@pytest.mark.easel(env=INLINE)
async def test_reroll_on_the_inline_message_replaces_its_picture(running: Running) -> None:
    """The drawer's 🎲 Reroll makes generation #2 and puts it in the same inline message."""
    tg = running.tg
    inline_message_id = await drawn(running)
    first = tg.inline_message(inline_message_id)["photo"][-1]["file_id"]
    query = tg.press_inline(inline_message_id, USER, "r:1")

    def shown() -> str | None:
        return tg.inline_message(inline_message_id).get("photo", [{}])[-1].get("file_id")

    await tg.wait_for(lambda: shown() not in (first, None))
    await running.easel.queue.drain()
    record = await running.easel.history.get_generation(generation_id=2)
    assert record is not None and record.kind == "reroll" and record.parent_id == 1
    assert "r:2" in [d for row in data_of(tg.inline_message(inline_message_id)) for d in row]
    assert query in tg.answered and not tg.answered[query].get("show_alert")


@pytest.mark.easel(env=INLINE)
async def test_someone_elses_press_makes_nothing_and_gets_an_alert_in_their_language(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another member of the chat the message landed in presses 🔀: a German alert, no job, and the
    picture stays."""
    monkeypatch.setitem(telegram_world.USER_LANGUAGES, OTHER, "de")
    tg = running.tg
    inline_message_id = await drawn(running)
    before = dict(tg.inline_message(inline_message_id))
    query = tg.press_inline(inline_message_id, OTHER, "v:1")
    await tg.wait_for(lambda: query in tg.answered)
    assert tg.answered[query]["show_alert"] is True
    german = "Nur wer dieses Bild gezeichnet hat, kann seine Schaltflächen nutzen."
    assert tg.answered[query]["text"] == german
    await running.easel.queue.drain()
    assert await running.easel.history.get_generation(generation_id=2) is None
    assert tg.inline_message(inline_message_id) == before


@pytest.mark.easel(env=INLINE, providers=_refusing_later)
async def test_a_failed_reroll_says_why_in_the_caption_and_keeps_the_picture(running: Running) -> None:
    """The reroll is refused: the inline message keeps its image, its caption gives the reason."""
    tg = running.tg
    inline_message_id = await drawn(running)
    tg.press_inline(inline_message_id, USER, "r:1")
    await tg.wait_for(lambda: "not again" in tg.inline_message(inline_message_id).get("caption", ""))
    assert "photo" in tg.inline_message(inline_message_id)
    assert tg.inline_message(inline_message_id)["caption"].startswith("⚠️")


@pytest.mark.easel(env=INLINE, providers=_refusing_later)
async def test_a_failed_reroll_keeps_the_pictures_buttons(running: Running) -> None:
    """After the refused reroll the message still has #1's Reroll/Vary(/Upscale) above Draw another."""
    tg = running.tg
    inline_message_id = await drawn(running)
    before = data_of(tg.inline_message(inline_message_id))
    tg.press_inline(inline_message_id, USER, "r:1")
    await tg.wait_for(lambda: "not again" in tg.inline_message(inline_message_id).get("caption", ""))
    after = data_of(tg.inline_message(inline_message_id))
    assert after == before and "r:1" in after[0] and after[-1] == ["switch"]


@pytest.mark.easel(env=INLINE)
async def test_a_forged_press_naming_the_pressers_own_picture_leaves_someone_elses_message_alone(
    running: Running,
) -> None:
    """OTHER's modified client sends "r:<OTHER's picture>" on USER's inline message: no job, and
    USER's picture stays (the generation must be the one that inline message shows)."""
    tg = running.tg
    victim = await drawn(running, "a red fox")
    await drawn_by(running, OTHER, "a grey wolf")
    before = dict(tg.inline_message(victim))
    query = tg.press_inline(victim, OTHER, "r:2", forged=True)
    await tg.wait_for(lambda: query in tg.answered)
    await running.easel.queue.drain()
    assert tg.answered[query]["show_alert"] is True
    assert await running.easel.history.get_generation(generation_id=3) is None
    assert tg.inline_message(victim) == before


async def drawn_by(running: Running, user: int, prompt: str) -> str:
    """An inline message of ``user``'s, finished (its image in)."""
    tg = running.tg
    inline_message_id = await chosen(running, prompt, user)
    await tg.wait_for(lambda: "photo" in tg.inline_message(inline_message_id))
    await running.easel.queue.drain()
    return inline_message_id
