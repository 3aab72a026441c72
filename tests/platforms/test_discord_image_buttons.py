"""Per-image buttons on Discord (issue 18, item 4): a set gets a row of Vary 1…n and one of Edit 1…n
(within 5 buttons a row, 5 rows), each acting on image k; a forged custom id gets a clear answer."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.types import Action, GenerationKind
from bot.platforms.discord.views import ResultButton, result_view
from tests.fakes.discord_harness import RunningDiscord, running_discord
from tests.fakes.discord_world import EPHEMERAL, Interaction


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningDiscord]:
    async with running_discord(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}") as running:
        yield running


def rows(message: dict[str, Any]) -> list[list[str]]:
    return [[c["custom_id"] for c in row["components"]] for row in message["components"]]


def forge(bot: RunningDiscord, message: dict[str, Any], custom_id: str) -> None:
    """As a modified client would: the message's first button now sends ``custom_id``."""
    bot.dc.world.messages[int(message["id"])]["components"][0]["components"][0]["custom_id"] = custom_id


async def answer_of(bot: RunningDiscord, interaction: Interaction, containing: str) -> dict[str, Any]:
    """The interaction's answer (its original response or a follow-up) once it says ``containing``."""

    def said() -> dict[str, Any] | None:
        original = bot.dc.original(interaction)
        candidates = [original] if original is not None else []
        return next(
            (m for m in [*candidates, *bot.dc.followups(interaction)] if containing in m.get("content", "")),
            None,
        )

    await bot.dc.wait_for(said)
    message = said()
    assert message is not None
    return message


async def test_a_set_of_two_gets_vary_and_edit_rows_per_image(bot: RunningDiscord) -> None:
    """count:2 → rows [Vary 1, Vary 2], [Upscale 1, 2], [Edit 1, Edit 2], [Reroll, Delete], numbered."""
    message = await bot.result_of(bot.dc.slash("imagine", {"prompt": "two foxes", "count": 2}))
    assert rows(message) == [
        ["easel:v:1:1", "easel:v:1:2"],
        ["easel:u:1:1", "easel:u:1:2"],
        ["easel:e:1:1", "easel:e:1:2"],
        ["easel:r:1", "easel:d:1"],
    ]
    labels = [
        (c.get("label"), c.get("emoji", {}).get("name")) for c in message["components"][0]["components"]
    ]
    assert labels == [("1", "🔀"), ("2", "🔀")]


def test_a_set_of_ten_stays_within_five_rows_of_five() -> None:
    """Ten images (the most a set may have) → two rows of Vary, two of Edit, one of Reroll/Delete."""
    view = result_view(1, (Action.REROLL, Action.VARY, Action.EDIT, Action.DELETE), 10)
    laid: dict[int | None, list[str]] = {}
    for item in view.children:
        assert isinstance(item, ResultButton)
        laid.setdefault(item.item.row, []).append(item.item.custom_id or "")
    assert sorted(laid, key=str) == [0, 1, 2, 3, 4] and all(len(ids) <= 5 for ids in laid.values())
    assert laid[1][-1] == "easel:v:1:10" and laid[4] == ["easel:r:1", "easel:d:1"]


async def test_vary_2_varies_the_second_image(bot: RunningDiscord) -> None:
    """Pressing Vary 2 makes a variation of image 2 of the set."""
    first = await bot.result_of(bot.dc.slash("imagine", {"prompt": "two foxes", "count": 2}))
    await bot.result_of(bot.dc.press(int(first["id"]), "easel:v:1:2"))
    await bot.easel.queue.drain()
    record = await bot.easel.history.get_generation(generation_id=2)
    assert (
        record is not None
        and record.kind == "vary"
        and record.params["source"] == {"generation": 1, "image": 1}
    )


async def test_edit_2_opens_a_modal_whose_answer_edits_image_2(bot: RunningDiscord) -> None:
    """Edit 2 opens 'Edit image 2'; submitting 'make it warmer' edits image 2 of #1."""
    first = await bot.result_of(bot.dc.slash("imagine", {"prompt": "two foxes", "count": 2}))
    press = bot.dc.press(int(first["id"]), "easel:e:1:2")
    await bot.dc.wait_for(lambda: press.modal is not None)
    assert press.modal is not None and press.modal["title"] == "Edit image 2"
    field = press.modal["components"][0]
    custom_id = field["components"][0]["custom_id"] if field["type"] == 1 else field["component"]["custom_id"]
    await bot.result_of(bot.dc.submit_modal(press, {custom_id: "make it warmer"}))
    await bot.easel.queue.drain()
    record = await bot.easel.history.get_generation(generation_id=2)
    assert (
        record is not None
        and record.kind == "edit"
        and record.params["source"] == {"generation": 1, "image": 1}
    )


async def test_a_forged_vary_9_of_a_two_image_set_is_answered_clearly(bot: RunningDiscord) -> None:
    """A custom id 'easel:v:1:9' (no image 9 in a set of two) is answered in words; nothing is made."""
    first = await bot.result_of(bot.dc.slash("imagine", {"prompt": "two foxes", "count": 2}))
    forge(bot, first, "easel:v:1:9")
    await answer_of(
        bot, bot.dc.press(int(first["id"]), "easel:v:1:9"), "Picture #1 has 2 images; there is no image 9."
    )
    await bot.easel.queue.drain()
    made = await bot.easel.history.get_generation(generation_id=2)
    assert made is None or not made.images


async def test_a_forged_vary_of_another_channels_generation_is_not_found(bot: RunningDiscord) -> None:
    """A custom id naming another channel's generation finds nothing in this channel; nothing is made."""
    mine = await bot.result_of(bot.dc.slash("imagine", {"prompt": "a castle"}))
    await bot.easel.queue.drain()
    history = bot.easel.history
    source = await history.get_generation(generation_id=1)
    assert source is not None
    now = datetime.now(UTC)
    other = await history.upsert_chat(platform="discord", external_id="1300000000000000099")
    theirs, _ = await history.record_generation(
        chat_id=other, user_id=source.user_id, kind=GenerationKind.GENERATE, prompt="a secret",
        negative=None, params={"n": 2}, parent_id=None, started=now, now=now, provider="builtin",
        images=[dataclasses.replace(source.images[0], id=uuid.uuid4().hex) for _ in range(2)],
    )  # fmt: skip
    forge(bot, mine, f"easel:v:{theirs}:2")
    await answer_of(
        bot, bot.dc.press(int(mine["id"]), f"easel:v:{theirs}:2"), f"can't find image #{theirs} in this chat"
    )


async def test_a_custom_id_naming_nothing_no_longer_works(bot: RunningDiscord) -> None:
    """A custom id of our shape that names nothing ('easel:v:1:0') gets an ephemeral answer."""
    first = await bot.result_of(bot.dc.slash("imagine", {"prompt": "two foxes", "count": 2}))
    forge(bot, first, "easel:v:1:0")
    answer = await answer_of(bot, bot.dc.press(int(first["id"]), "easel:v:1:0"), "no longer works")
    assert answer["content"] == "This button no longer works." and answer["flags"] & EPHEMERAL
