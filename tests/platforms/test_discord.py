"""The Discord adapter end to end: real discord.py, real Easel, fake Discord REST + gateway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.messages import Incoming
from tests.fakes.discord_harness import RunningDiscord, picture, running_discord
from tests.fakes.discord_world import EPHEMERAL, EVERYONE_PERMISSIONS, MANAGE_MESSAGES, OTHER_USER


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningDiscord]:
    async with running_discord(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}") as running:
        yield running


def button(bot: RunningDiscord, message: dict[str, object], action: str) -> str:
    return next(c for c in bot.dc.custom_ids(message) if c.split(":")[1] == action)


async def test_imagine_defers_then_edits_in_a_16_9_png_with_buttons(bot: RunningDiscord) -> None:
    """/imagine is deferred within 3 s, then its original response carries a 16:9 PNG, an embed, buttons."""
    it = bot.dc.slash("imagine", {"prompt": "a red fox", "aspect": "16:9"})
    message = await bot.result_of(it)
    assert it.response_type == 5 and it.responded_at is not None and it.responded_at - it.created < 3
    img = picture(bot.dc.file_bytes(message["attachments"][0]))
    assert img.format == "PNG" and abs(img.width / img.height - 16 / 9) < 0.05
    embed = message["embeds"][0]
    assert "a red fox" in embed["description"] and {"Seed", "Model"} <= {f["name"] for f in embed["fields"]}
    assert [c.split(":")[1] for c in bot.dc.custom_ids(message)] == ["r", "v", "u", "e", "d"]


async def test_progress_is_shown_by_editing_the_original_response(bot: RunningDiscord) -> None:
    """Before the result, the original response is edited with a status line (queued or generating)."""
    it = bot.dc.slash("imagine", {"prompt": "a lighthouse"})
    await bot.result_of(it)
    statuses = [c.payload.get("content") for c in bot.dc.calls_to("original") if c.method == "PATCH"]
    assert any(s and ("Queued" in s or "Generating" in s) for s in statuses)


async def test_count_3_puts_three_attachments_on_the_original_response(bot: RunningDiscord) -> None:
    """count:3 → one edited original response with three PNG attachments."""
    it = bot.dc.slash("imagine", {"prompt": "three foxes", "count": 3})
    message = await bot.result_of(it)
    assert len(message["attachments"]) == 3
    assert all(picture(bot.dc.file_bytes(a)).format == "PNG" for a in message["attachments"])


async def test_options_become_router_flags(bot: RunningDiscord) -> None:
    """seed, negative and provider options reach the generation as flags."""
    it = bot.dc.slash(
        "imagine", {"prompt": "a cat", "seed": 5, "negative": "blur, text", "provider": "builtin"}
    )
    await bot.result_of(it)
    record = await bot.easel.history.get_generation(generation_id=1)
    assert record is not None and record.negative == "blur, text" and record.params["seed"] == 5


async def test_bad_input_gets_an_ephemeral_answer_without_deferral(bot: RunningDiscord) -> None:
    """A prompt with a bad flag is answered at once with an ephemeral, friendly message."""
    it = bot.dc.slash("imagine", {"prompt": "a fox --ar 99:1"})
    await bot.dc.wait_for(lambda: bot.dc.original(it) is not None)
    message = bot.dc.original(it)
    assert message is not None and it.response_type == 4 and message["flags"] & EPHEMERAL
    assert "Aspect ratio" in message["content"]


async def test_reroll_button_posts_a_new_image(bot: RunningDiscord) -> None:
    """Reroll on a result makes a new generation of kind reroll, shown in a new response."""
    first = await bot.result_of(bot.dc.slash("imagine", {"prompt": "a red fox"}))
    press = bot.dc.press(int(first["id"]), button(bot, first, "r"))
    second = await bot.result_of(press)
    assert second["id"] != first["id"]
    record = await bot.easel.history.get_generation(generation_id=2)
    assert record is not None and record.kind == "reroll"


async def test_vary_button_posts_a_variation(bot: RunningDiscord) -> None:
    """Vary on a result makes a variation of that generation."""
    first = await bot.result_of(bot.dc.slash("imagine", {"prompt": "a red fox"}))
    await bot.result_of(bot.dc.press(int(first["id"]), button(bot, first, "v")))
    record = await bot.easel.history.get_generation(generation_id=2)
    assert record is not None and record.kind == "vary" and record.parent_id == 1


async def test_edit_button_opens_a_modal_whose_answer_edits_the_image(bot: RunningDiscord) -> None:
    """Edit opens a modal; submitting 'make it warmer' edits generation #1."""
    first = await bot.result_of(bot.dc.slash("imagine", {"prompt": "a red fox"}))
    press = bot.dc.press(int(first["id"]), button(bot, first, "e"))
    await bot.dc.wait_for(lambda: press.modal is not None)
    field = press.modal["components"][0]  # type: ignore[index]
    custom_id = field["components"][0]["custom_id"] if field["type"] == 1 else field["component"]["custom_id"]
    submitted = bot.dc.submit_modal(press, {custom_id: "make it warmer"})
    await bot.result_of(submitted)
    record = await bot.easel.history.get_generation(generation_id=2)
    assert record is not None and record.kind == "edit" and record.parent_id == 1


async def test_delete_by_the_requester_removes_the_result(bot: RunningDiscord) -> None:
    """The requester's Delete removes the result message."""
    it = bot.dc.slash("imagine", {"prompt": "a red fox"})
    first = await bot.result_of(it)
    await bot.easel.queue.drain()  # its delivery is recorded
    bot.dc.press(int(first["id"]), button(bot, first, "d"))
    await bot.dc.wait_for(lambda: bot.dc.original(it) is None)


async def test_delete_by_someone_else_is_refused(bot: RunningDiscord) -> None:
    """Another member without Manage Messages gets an ephemeral refusal; the image stays."""
    it = bot.dc.slash("imagine", {"prompt": "a red fox"})
    first = await bot.result_of(it)
    await bot.easel.queue.drain()
    press = bot.dc.press(int(first["id"]), button(bot, first, "d"), user=OTHER_USER)
    await bot.dc.wait_for(lambda: bot.dc.original(press) is not None)
    refusal = bot.dc.original(press)
    assert refusal is not None and refusal["flags"] & EPHEMERAL and "asked for it" in refusal["content"]
    assert bot.dc.original(it) is not None


async def test_delete_by_a_moderator_is_allowed(bot: RunningDiscord) -> None:
    """Someone with Manage Messages may delete another member's image."""
    it = bot.dc.slash("imagine", {"prompt": "a red fox"})
    first = await bot.result_of(it)
    await bot.easel.queue.drain()
    moderator = EVERYONE_PERMISSIONS | MANAGE_MESSAGES
    bot.dc.press(int(first["id"]), button(bot, first, "d"), user=OTHER_USER, permissions=moderator)
    await bot.dc.wait_for(lambda: bot.dc.original(it) is None)


async def test_a_slow_answer_is_still_acknowledged_within_3_seconds(
    bot: RunningDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the service is slow to answer, the adapter defers first (in time), then delivers."""
    handle = bot.easel.service.handle
    bot.adapter.inbound.defer_after_s = 0.2  # 1.5 s in production; the deadline is 3 s

    async def slow(message: Incoming, *, addressed: bool = True) -> int | None:
        await asyncio.sleep(0.6)
        return await handle(message, addressed=addressed)

    monkeypatch.setattr(bot.easel.service, "handle", slow)
    it = bot.dc.slash("imagine", {"prompt": "a patient fox"})
    await bot.result_of(it)
    assert it.response_type == 5 and it.responded_at is not None and it.responded_at - it.created < 0.5
