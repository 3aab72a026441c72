"""Discord: the "Edit image" message command, mentions, replies, access lists and the admin-only commands."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image as PILImage

from tests.fakes.discord_harness import RunningDiscord, picture, running_discord
from tests.fakes.discord_world import (
    CHANNEL,
    EPHEMERAL,
    EVERYONE_PERMISSIONS,
    MANAGE_GUILD,
    OTHER_USER,
    USER,
)


@pytest.fixture
async def bot(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RunningDiscord]:
    marker = request.node.get_closest_marker("easel")
    env = dict(marker.kwargs.get("env", {})) if marker else {}
    async with running_discord(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}", env=env
    ) as running:
        yield running


def red_png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (120, 80), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def modal_field(opened: object) -> str:
    field = opened.modal["components"][0]  # type: ignore[attr-defined]
    return str(field["components"][0]["custom_id"] if field["type"] == 1 else field["component"]["custom_id"])


def with_image(bot: RunningDiscord) -> list[dict[str, object]]:
    return [m for m in bot.dc.channel_messages(CHANNEL) if m["attachments"]]


async def test_context_menu_edit_image_edits_the_bots_image(bot: RunningDiscord) -> None:
    """ "Edit image" on a result opens a modal; its answer edits that generation."""
    first = await bot.result_of(bot.dc.slash("imagine", {"prompt": "a red fox"}))
    menu = bot.dc.context_menu("Edit image", int(first["id"]))
    await bot.dc.wait_for(lambda: menu.modal is not None)
    await bot.result_of(bot.dc.submit_modal(menu, {modal_field(menu): "make it black and white"}))
    record = await bot.easel.history.get_generation(generation_id=2)
    assert record is not None and record.kind == "edit" and record.parent_id == 1


async def test_context_menu_on_a_users_image_edits_that_image(bot: RunningDiscord) -> None:
    """ "Edit image" on a member's uploaded picture downloads it and edits it."""
    posted = bot.dc.say("look", image=("red.png", red_png()))
    menu = bot.dc.context_menu("Edit image", int(posted["id"]))
    await bot.dc.wait_for(lambda: menu.modal is not None)
    result = await bot.result_of(bot.dc.submit_modal(menu, {modal_field(menu): "make it black and white"}))
    img = picture(bot.dc.file_bytes(result["attachments"][0])).convert("RGB")
    red, green, blue = img.getpixel((img.width // 2, img.height // 2))  # type: ignore[misc]
    assert abs(red - green) < 30 and abs(green - blue) < 30


async def test_context_menu_on_a_message_without_image_says_so(bot: RunningDiscord) -> None:
    """ "Edit image" on plain text answers ephemerally that there is nothing to edit."""
    posted = bot.dc.say("just words")
    menu = bot.dc.context_menu("Edit image", int(posted["id"]))
    await bot.dc.wait_for(lambda: bot.dc.original(menu) is not None)
    answer = bot.dc.original(menu)
    assert answer is not None and answer["flags"] & EPHEMERAL and "no image" in answer["content"]


async def test_mention_with_text_imagines_and_replies_in_the_channel(bot: RunningDiscord) -> None:
    """A mention "@Easel a lighthouse at dusk" answers with an image message replying to the mention."""
    said = bot.dc.say("a lighthouse at dusk", mention_bot=True)
    await bot.dc.wait_for(lambda: with_image(bot))
    result = with_image(bot)[0]
    assert result["message_reference"]["message_id"] == said["id"]
    record = await bot.easel.history.get_generation(generation_id=1)
    assert record is not None and record.prompt == "a lighthouse at dusk"
    assert bot.dc.custom_ids(result)


async def test_reply_to_a_bot_image_edits_it(bot: RunningDiscord) -> None:
    """Replying "make it warmer" to one of the bot's images edits that image."""
    first = await bot.result_of(bot.dc.slash("imagine", {"prompt": "a red fox"}))
    bot.dc.say("make it warmer", reply_to=int(first["id"]))
    await bot.dc.wait_for(lambda: with_image(bot) and len(with_image(bot)) >= 2)
    record = await bot.easel.history.get_generation(generation_id=2)
    assert record is not None and record.kind == "edit" and record.parent_id == 1


async def test_plain_messages_are_ignored(bot: RunningDiscord) -> None:
    """A message neither mentioning the bot nor replying to it gets no answer."""
    bot.dc.say("a lighthouse at dusk")
    status = bot.dc.slash("status")  # answered after the message was seen: a barrier
    await bot.dc.wait_for(lambda: bot.dc.original(status) is not None)
    assert bot.dc.channel_messages(CHANNEL) == []


@pytest.mark.easel(env={"EASEL__DISCORD__ALLOWED_USERS": f"[{USER}]"})
async def test_users_outside_the_allow_list_are_refused(bot: RunningDiscord) -> None:
    """With allowed_users set, anyone else gets an ephemeral "private" answer and no job."""
    it = bot.dc.slash("imagine", {"prompt": "a fox"}, user=OTHER_USER)
    await bot.dc.wait_for(lambda: bot.dc.original(it) is not None)
    answer = bot.dc.original(it)
    assert answer is not None and answer["flags"] & EPHEMERAL and "private" in answer["content"]
    assert await bot.easel.jobs.get_job(job_id=1) is None


async def test_settings_needs_manage_server(bot: RunningDiscord) -> None:
    """/settings aspect 16:9 from a member without Manage Server is refused ephemerally."""
    it = bot.dc.slash("settings", {"key": "aspect", "value": "16:9"})
    await bot.dc.wait_for(lambda: bot.dc.original(it) is not None)
    answer = bot.dc.original(it)
    assert answer is not None and answer["flags"] & EPHEMERAL and "Manage Server" in answer["content"]


async def test_settings_from_a_manager_changes_the_channel_default(bot: RunningDiscord) -> None:
    """/settings aspect 16:9 from a Manage Server member is stored and confirmed ephemerally."""
    it = bot.dc.slash(
        "settings", {"key": "aspect", "value": "16:9"}, permissions=EVERYONE_PERMISSIONS | MANAGE_GUILD
    )
    await bot.dc.wait_for(lambda: bot.dc.original(it) is not None)
    answer = bot.dc.original(it)
    assert answer is not None and answer["flags"] & EPHEMERAL and "aspect: 16:9" in answer["content"]


async def test_settings_is_registered_for_managers_only(bot: RunningDiscord) -> None:
    """The synced /settings command carries default_member_permissions = Manage Server."""
    synced = {c["name"]: c for scope in bot.dc.commands.values() for c in scope}
    assert synced["settings"]["default_member_permissions"] == str(MANAGE_GUILD)
    assert {
        "imagine",
        "edit",
        "status",
        "history",
        "cancel",
        "help",
        "schedule",
        "birthday",
        "Edit image",
    } <= set(synced)


async def test_provider_autocomplete_lists_the_configured_providers(bot: RunningDiscord) -> None:
    """Typing in /imagine's provider option suggests the configured providers."""
    bot.dc.autocomplete("imagine", "provider", "bui")
    await bot.dc.wait_for(lambda: bot.dc.calls_to("callback"))
    choices = bot.dc.calls_to("callback")[-1].payload["data"]["choices"]
    assert [c["value"] for c in choices] == ["builtin"]


async def test_schedule_is_forwarded_with_manage_server_as_admin(bot: RunningDiscord) -> None:
    """/schedule args reach the router as "/schedule ..."; only a Manage Server member counts as admin."""
    args = {"args": "add every day at 09:00 a sunrise"}
    member = bot.dc.slash("schedule", args)
    manager = bot.dc.slash("schedule", args, permissions=EVERYONE_PERMISSIONS | MANAGE_GUILD)
    await bot.dc.wait_for(
        lambda: bot.dc.original(member) is not None and bot.dc.original(manager) is not None
    )
    refused, added = bot.dc.original(member), bot.dc.original(manager)
    assert refused is not None and added is not None and refused["flags"] & added["flags"] & EPHEMERAL
    assert "#1" in added["content"] and "#1" not in refused["content"]


async def test_edit_with_an_attachment_edits_that_image(bot: RunningDiscord) -> None:
    """/edit prompt:"make it black and white" image:<upload> edits the uploaded picture."""
    it = bot.dc.slash("edit", {"prompt": "make it black and white"}, attachment=("red.png", red_png()))
    result = await bot.result_of(it)
    img = picture(bot.dc.file_bytes(result["attachments"][0])).convert("RGB")
    red, green, blue = img.getpixel((img.width // 2, img.height // 2))  # type: ignore[misc]
    assert abs(red - green) < 30 and abs(green - blue) < 30


async def test_edit_without_an_image_edits_the_channels_last_one(bot: RunningDiscord) -> None:
    """/edit prompt:"make it warmer" with no image edits the channel's last generation."""
    await bot.result_of(bot.dc.slash("imagine", {"prompt": "a red fox"}))
    await bot.result_of(bot.dc.slash("edit", {"prompt": "make it warmer"}))
    record = await bot.easel.history.get_generation(generation_id=2)
    assert record is not None and record.kind == "edit" and record.parent_id == 1


async def test_a_mention_in_a_channel_the_bot_cannot_post_in_fails_quietly(bot: RunningDiscord) -> None:
    """Missing Permissions on every channel post: nothing is posted and the job ends failed, not retried."""
    bot.dc.deny(CHANNEL)
    bot.dc.say("a lighthouse", mention_bot=True)
    await bot.dc.wait_for(lambda: any(c.files for c in bot.dc.calls_to("channel_messages")))
    for _ in range(100):
        job = await bot.easel.jobs.get_job(job_id=1)
        if job is not None and job.status == "failed":
            break
        await asyncio.sleep(0.02)
    assert job is not None and job.status == "failed" and bot.dc.channel_messages(CHANNEL) == []
