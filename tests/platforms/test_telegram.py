"""The Telegram adapter end to end: real python-telegram-bot, real Easel, fake Bot API."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from PIL import Image as PILImage

from bot.core.errors import Refused
from bot.core.ports import ProgressCallback
from bot.core.types import Image, ImageRequest, JobStatus
from tests.fakes.scripted import ScriptedProvider
from tests.fakes.telegram_world import BOT_USERNAME
from tests.platforms.conftest import CHAT, USER, Running, picture

GROUP = -1001234
ADMIN = 777


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Callback data by action letter (r, v, e, o, d)."""
    rows = message["reply_markup"]["inline_keyboard"]
    return {b["callback_data"].split(":")[0]: b["callback_data"] for row in rows for b in row}


async def test_imagine_sends_a_16_9_photo_with_keyboard(running: Running) -> None:
    """/imagine a red fox --ar 16:9 answers with a 16:9 photo, a caption and six buttons."""
    photo = await running.photo_after("/imagine a red fox --ar 16:9")
    img = picture(running.tg.file_bytes(photo))
    assert abs(img.width / img.height - 16 / 9) < 0.05
    assert "a red fox" in photo["caption"] and "#1" in photo["caption"]
    assert list(buttons(photo)) == ["r", "v", "u", "e", "o", "d"]


async def test_commands_are_registered_at_start(running: Running) -> None:
    """setMyCommands lists /imagine, its aliases and the other commands with descriptions."""
    names = {c["command"] for c in running.tg.commands}
    assert {"imagine", "img", "draw", "edit", "reroll", "vary", "history", "status", "settings"} <= names
    assert all(c["description"] for c in running.tg.commands)


def gated() -> list[Any]:
    """A provider that finishes only when the test sets its gate (reach it with ``gate_of``)."""
    return [ScriptedProvider(gate=asyncio.Event())]


def gate_of(running: Running) -> asyncio.Event:
    gate = next(p for p in running.easel.providers if isinstance(p, ScriptedProvider)).gate
    assert gate is not None
    return gate


@pytest.mark.easel(providers=gated)
async def test_status_message_is_shown_then_deleted(running: Running) -> None:
    """A job still running after a second gets a status message, deleted once the photo is there."""
    tg = running.tg
    tg.say(CHAT, USER, "/imagine a lighthouse")
    try:
        await tg.wait_for(lambda: any(t.startswith(("Queued", "Generating")) for t in tg.texts(CHAT)))
    finally:
        gate_of(running).set()
    statuses = [m for m in tg.sent_to(CHAT) if m.get("text", "").startswith(("Queued", "Generating"))]
    await tg.wait_for(lambda: tg.photos(CHAT))
    assert len(statuses) == 1 and tg.calls_to("sendChatAction")
    await tg.wait_for(lambda: tg.current(CHAT, statuses[0]["message_id"]) is None)


# "quick" (under the status delay) whatever the machine's load
@pytest.mark.easel(providers=lambda: [ScriptedProvider()], env={"EASEL__TELEGRAM__STATUS_DELAY_S": "30"})
async def test_quick_job_sends_no_status_message(running: Running) -> None:
    """A job done within the status delay costs a chat action and its photo: no sendMessage at all."""
    await running.photo_after("/imagine a lighthouse")
    await running.easel.queue.drain()
    assert [c.method for c in running.tg.calls if c.method != "getUpdates"][-2:] == [
        "sendChatAction",
        "sendPhoto",
    ]
    assert not running.tg.calls_to("sendMessage") and not running.tg.calls_to("deleteMessage")


async def test_n_3_sends_an_album_and_a_keyboard_message(running: Running) -> None:
    """--n 3 sends a media group of three photos, then a message carrying the buttons."""
    running.tg.say(CHAT, USER, "/imagine three foxes --n 3")
    tg = running.tg
    await tg.wait_for(lambda: any("reply_markup" in m and "text" in m for m in tg.sent_to(CHAT)))
    album = tg.photos(CHAT)
    assert len(album) == 3 and len({m["media_group_id"] for m in album}) == 1
    keys = next(m for m in tg.sent_to(CHAT) if "reply_markup" in m and "text" in m)
    assert keys["reply_to_message"]["message_id"] == album[0]["message_id"]
    assert buttons(keys)["d"] == "d:1"  # the button names the generation; the messages are recorded


async def test_reply_make_it_warmer_edits_that_photo(running: Running) -> None:
    """Replying 'make it warmer' to the bot's photo makes an edited photo whose parent is the first."""
    first = await running.photo_after("/imagine a red fox --ar 16:9")
    second = await running.photo_after("make it warmer", reply_to=first["message_id"])
    assert "#2" in second["caption"]
    record = await running.easel.history.get_generation(generation_id=2)
    assert record is not None and record.parent_id == 1 and record.kind == "edit"


async def test_reply_to_a_users_photo_edits_that_photo(running: Running) -> None:
    """A reply 'make it black and white' to a user's photo downloads it (getFile) and edits it."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (120, 80), (200, 40, 40)).save(buffer, format="JPEG")
    sent = running.tg.send_photo_from_user(CHAT, USER, buffer.getvalue())
    edited = await running.photo_after("make it black and white", reply_to=sent["message_id"])
    img = picture(running.tg.file_bytes(edited)).convert("RGB")
    r, g, b = img.getpixel((60, 40))  # type: ignore[misc]
    assert running.tg.calls_to("getFile") and abs(r - g) < 8 and abs(g - b) < 8


async def test_photo_with_caption_is_an_edit(running: Running) -> None:
    """A photo sent with the caption 'make it black and white' comes back edited."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (90, 90), (30, 160, 60)).save(buffer, format="PNG")
    tg = running.tg
    tg.send_photo_from_user(CHAT, USER, buffer.getvalue(), "make it black and white")
    await tg.wait_for(lambda: tg.photos(CHAT))
    assert "edit" in tg.photos(CHAT)[0]["caption"]


async def test_reroll_button_makes_a_new_image_of_that_generation(running: Running) -> None:
    """Pressing Reroll answers the query and sends a reroll of that generation."""
    first = await running.photo_after("/imagine a castle")
    query = running.tg.press(CHAT, first["message_id"], USER, buttons(first)["r"])
    tg = running.tg
    await tg.wait_for(lambda: len(tg.photos(CHAT)) == 2)
    assert query in tg.answered and tg.photos(CHAT)[1]["caption"].startswith("reroll: a castle")


async def test_a_press_too_old_to_answer_is_still_handled(running: Running) -> None:
    """A press Telegram redelivers after its first replica answered it and died still makes its reroll."""
    first = await running.photo_after("/imagine a castle")
    query = running.tg.press(CHAT, first["message_id"], USER, buttons(first)["r"])
    running.tg.answered[query] = {}  # answered once already: answerCallbackQuery now says "too old"
    tg = running.tg
    await tg.wait_for(lambda: len(tg.photos(CHAT)) == 2)
    assert tg.photos(CHAT)[1]["caption"].startswith("reroll: a castle")


async def test_vary_button_makes_a_variation(running: Running) -> None:
    """Pressing Vary sends a variation whose parent is the pressed generation."""
    first = await running.photo_after("/imagine a castle")
    running.tg.press(CHAT, first["message_id"], USER, buttons(first)["v"])
    tg = running.tg
    await tg.wait_for(lambda: len(tg.photos(CHAT)) == 2)
    record = await running.easel.history.get_generation(generation_id=2)
    assert record is not None and record.kind == "vary" and record.parent_id == 1


async def test_edit_button_asks_with_force_reply_and_the_answer_edits(running: Running) -> None:
    """Edit asks for the instruction with ForceReply; replying to that question edits the image."""
    first = await running.photo_after("/imagine a castle")
    tg = running.tg
    tg.press(CHAT, first["message_id"], USER, buttons(first)["e"])
    await tg.wait_for(lambda: any("How should I change" in t for t in tg.texts(CHAT)))
    question = next(m for m in tg.sent_to(CHAT) if "How should I change" in m.get("text", ""))
    ask = next(c for c in tg.calls_to("sendMessage") if "How should I change" in str(c.params.get("text")))
    assert ask.params["reply_markup"]["force_reply"] is True
    await running.photo_after("make it warmer", reply_to=question["message_id"])
    record = await running.easel.history.get_generation(generation_id=2)
    assert record is not None and record.parent_id == 1


async def test_original_button_sends_the_untouched_file(running: Running) -> None:
    """Original sends the saved file as a document, byte for byte."""
    first = await running.photo_after("/imagine a castle")
    tg = running.tg
    tg.press(CHAT, first["message_id"], USER, buttons(first)["o"])
    await tg.wait_for(lambda: any("document" in m for m in tg.sent_to(CHAT)))
    document = next(m for m in tg.sent_to(CHAT) if "document" in m)
    record = await running.easel.history.get_generation(generation_id=1)
    assert record is not None and tg.file_bytes(document) == record.images[0].path.read_bytes()


async def test_delete_button_removes_the_photo_for_the_requester(running: Running) -> None:
    """The requester's Delete removes the photo message."""
    first = await running.photo_after("/imagine a castle")
    await running.easel.queue.drain()  # its delivery is recorded
    tg = running.tg
    tg.press(CHAT, first["message_id"], USER, buttons(first)["d"])
    await tg.wait_for(lambda: tg.current(CHAT, first["message_id"]) is None)


async def test_delete_by_someone_else_in_a_group_is_refused(running: Running) -> None:
    """In a group, Delete by another member is refused with an alert and the photo stays."""
    tg = running.tg
    tg.group(GROUP)
    first = await running.photo_after("/imagine a castle", chat=GROUP)
    query = tg.press(GROUP, first["message_id"], 999, buttons(first)["d"])
    await tg.wait_for(lambda: query in tg.answered)
    assert tg.answered[query]["show_alert"] is True and tg.current(GROUP, first["message_id"]) is not None


async def test_delete_by_a_group_admin_is_allowed(running: Running) -> None:
    """A chat administrator (getChatAdministrators) may delete someone else's image."""
    tg = running.tg
    tg.group(GROUP, admins=(ADMIN,))
    first = await running.photo_after("/imagine a castle", chat=GROUP)
    await running.easel.queue.drain()
    tg.press(GROUP, first["message_id"], ADMIN, buttons(first)["d"])
    await tg.wait_for(lambda: tg.current(GROUP, first["message_id"]) is None)
    assert tg.calls_to("getChatAdministrators")


async def test_group_plain_text_is_ignored_but_commands_are_handled(running: Running) -> None:
    """In a group, 'a red fox' is ignored; the /imagine that follows is the only thing answered."""
    tg = running.tg
    tg.group(GROUP)
    tg.say(GROUP, USER, "a red fox in the snow")
    photo = await running.photo_after("/imagine a blue bird", chat=GROUP)
    assert "a blue bird" in photo["caption"] and len(tg.photos(GROUP)) == 1
    assert not [m for m in tg.sent_to(GROUP) if "red fox" in str(m.get("caption") or m.get("text"))]


async def test_group_mention_is_handled(running: Running) -> None:
    """In a group, '@Bot a red fox' is a prompt."""
    running.tg.group(GROUP)
    photo = await running.photo_after(f"@{BOT_USERNAME} a red fox", chat=GROUP)
    assert photo["caption"].startswith("a red fox")


async def test_group_command_for_another_bot_is_ignored(running: Running) -> None:
    """/imagine@OtherBot is left alone; /imagine@ThisBot is answered."""
    tg = running.tg
    tg.group(GROUP)
    tg.say(GROUP, USER, "/imagine@OtherBot a cat")
    photo = await running.photo_after(f"/imagine@{BOT_USERNAME} a dog", chat=GROUP)
    assert "a dog" in photo["caption"] and len(tg.photos(GROUP)) == 1


async def test_group_settings_change_needs_an_admin(running: Running) -> None:
    """/settings aspect 16:9 in a group is refused for members and done for administrators."""
    tg = running.tg
    tg.group(GROUP, admins=(ADMIN,))
    tg.say(GROUP, USER, "/settings aspect 16:9")
    await tg.wait_for(lambda: any("administrators" in t for t in tg.texts(GROUP)))
    tg.say(GROUP, ADMIN, "/settings aspect 16:9")
    await tg.wait_for(lambda: any("aspect: 16:9" in t for t in tg.texts(GROUP)))


async def test_flood_control_429_is_survived(running: Running) -> None:
    """A 429 with retry_after on sendPhoto is waited out and the photo still arrives."""
    running.tg.fail_next("sendPhoto", 429, retry_after=1)
    await running.photo_after("/imagine a red fox")
    assert len(running.tg.calls_to("sendPhoto")) == 2


async def test_server_error_is_retried(running: Running) -> None:
    """A 502 on sendPhoto is retried and the photo arrives."""
    running.tg.fail_next("sendPhoto", 502)
    await running.photo_after("/imagine a red fox")
    assert len(running.tg.calls_to("sendPhoto")) == 2


async def test_group_upgraded_to_supergroup_gets_the_photo_at_its_new_id(running: Running) -> None:
    """A 400 'upgraded to a supergroup' (ChatMigrated) is followed: the photo arrives at the new id."""
    tg, new_id = running.tg, -100999888
    tg.world.chat(-5151).type = "group"
    tg.say(-5151, USER, "/imagine a red fox")
    tg.migrate(-5151, new_id)
    await tg.wait_for(lambda: len(tg.photos(new_id)) == 1)
    assert tg.photos(-5151) == []


async def test_blocked_chat_stops_sending(running: Running) -> None:
    """After a 403 'bot was blocked' nothing more is sent to that chat and the job fails for good."""
    tg = running.tg
    tg.world.chat(CHAT)
    tg.block(CHAT)
    tg.say(CHAT, USER, "/imagine a red fox")
    easel = running.easel

    async def job_closed() -> bool:
        job = await easel.jobs.get_job(job_id=1)
        return job is not None and job.status == JobStatus.FAILED

    async with asyncio.timeout(20):  # PTB must first fetch the update: on a busy machine, seconds
        while not await job_closed():
            await asyncio.sleep(0.01)
            await easel.queue.drain()
    to_chat = [c for c in tg.calls if c.params.get("chat_id") == CHAT]
    assert len(to_chat) == 1  # the first 403; after it the adapter stops calling


class _Wide:
    """A provider that makes a 4200x200 image: ratio 21, over Telegram's photo limit of 20."""

    name = "wide"
    capabilities = ScriptedProvider().capabilities

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        buffer = io.BytesIO()
        PILImage.new("RGB", (4200, 200), (10, 90, 200)).save(buffer, format="PNG")
        return [Image(buffer.getvalue(), "image/png", 4200, 200, seed=1, provider="wide")]

    async def check(self) -> Any:
        return await ScriptedProvider().check()

    async def aclose(self) -> None:
        return None


@pytest.mark.easel(providers=lambda: [_Wide()])
async def test_oversize_image_is_refitted_and_original_kept(running: Running) -> None:
    """A 21:1 image is padded to fit the photo limits; Original still sends the untouched 4200x200."""
    photo = await running.photo_after("/imagine a very wide banner")
    img = picture(running.tg.file_bytes(photo))
    assert max(img.size) / min(img.size) <= 20
    tg = running.tg
    tg.press(CHAT, photo["message_id"], USER, buttons(photo)["o"])
    await tg.wait_for(lambda: any("document" in m for m in tg.sent_to(CHAT)))
    document = next(m for m in tg.sent_to(CHAT) if "document" in m)
    assert picture(tg.file_bytes(document)).size == (4200, 200)


def refused(gate: asyncio.Event | None = None) -> list[Any]:
    return [
        ScriptedProvider(
            errors=[Refused("not this prompt", provider="scripted", user_message="not this prompt")],
            gate=gate,
        )
    ]


@pytest.mark.easel(providers=lambda: refused(asyncio.Event()))
async def test_failure_replaces_the_status_with_the_reason(running: Running) -> None:
    """A refused prompt turns the shown status message into the reason, without a second message."""
    tg = running.tg
    tg.say(CHAT, USER, "/imagine something forbidden")
    try:
        await tg.wait_for(lambda: tg.texts(CHAT))
    finally:
        gate_of(running).set()
    await tg.wait_for(lambda: any("not this prompt" in t for t in tg.texts(CHAT)))
    await running.easel.queue.drain()
    assert len(tg.sent_to(CHAT)) == 1 and not tg.photos(CHAT)


@pytest.mark.easel(providers=refused, env={"EASEL__TELEGRAM__STATUS_DELAY_S": "30"})
async def test_quick_failure_says_the_reason_once(running: Running) -> None:
    """A prompt refused before any status was shown gets one message with the reason."""
    tg = running.tg
    tg.say(CHAT, USER, "/imagine something forbidden")
    await tg.wait_for(lambda: any("not this prompt" in t for t in tg.texts(CHAT)))
    await running.easel.queue.drain()
    assert len(tg.sent_to(CHAT)) == 1 and len(tg.calls_to("sendMessage")) == 1


@pytest.mark.easel(env={"EASEL__TELEGRAM__ALLOWED_USERS": "[1]"})
async def test_users_not_allowed_are_told_and_ignored(running: Running) -> None:
    """With allowed_users set, anyone else is told the bot is private and nothing is made."""
    tg = running.tg
    tg.say(CHAT, USER, "/imagine a red fox")
    await tg.wait_for(lambda: tg.texts(CHAT))
    assert tg.texts(CHAT) == ["Sorry, this bot is private."]
