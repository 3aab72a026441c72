"""Deleting an image on Telegram (issue 20, content controls): the messages, the history, the gallery
and the files go; rights are the core's, from the stored requester and chat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app import Easel, serve
from bot.settings import AppSettings, load_settings
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.platforms.conftest import CHAT, USER, Running

GROUP = -1001234
ADMIN = 777
MEMBER = 999


def delete_data(message: dict[str, Any]) -> str:
    rows = message["reply_markup"]["inline_keyboard"]
    return next(b["callback_data"] for row in rows for b in row if b["callback_data"].startswith("d:"))


async def files_of(easel: Easel, generation_id: int) -> list[Path]:
    """The image files and sidecars of a stored generation (all of them exist now)."""
    record = await easel.history.get_generation(generation_id=generation_id)
    assert record is not None and record.images
    paths = [p for image in record.images for p in (image.path, image.path.with_suffix(".json"))]
    assert all(path.exists() for path in paths)
    return paths


async def listed(easel: Easel, chat: int) -> list[int]:
    """The generation ids the chat's /history and the gallery show."""
    chat_id = await easel.history.upsert_chat(platform="telegram", external_id=str(chat))
    history = [r.id for r in await easel.history.list_generations(chat_id=chat_id)]
    gallery = [item.id for item in await easel.front.gallery.browse(chat_id=chat_id)]
    assert history == gallery
    return history


async def test_an_admin_deletes_a_members_image_everywhere(running: Running) -> None:
    """A group admin's Delete: the photo message, the history and gallery entry and the files go."""
    tg, easel = running.tg, running.easel
    tg.group(GROUP, admins=(ADMIN,))
    kept = await running.photo_after("/imagine a lighthouse", chat=GROUP)
    photo = await running.photo_after("/imagine a castle", chat=GROUP)
    await easel.queue.drain()  # the deliveries are recorded
    assert await listed(easel, GROUP) == [2, 1]
    files = await files_of(easel, 2)
    query = tg.press(GROUP, photo["message_id"], ADMIN, delete_data(photo))
    await tg.wait_for(lambda: tg.current(GROUP, photo["message_id"]) is None)
    assert tg.answered[query].get("show_alert") is not True
    assert await listed(easel, GROUP) == [1]
    assert await easel.history.get_generation(generation_id=2) is None
    assert not any(path.exists() for path in files)
    assert tg.current(GROUP, kept["message_id"]) is not None


async def test_a_member_cannot_delete_anothers_image_with_a_forged_button(running: Running) -> None:
    """A member's press naming someone else's image (data forged on their own photo) is refused."""
    tg, easel = running.tg, running.easel
    tg.group(GROUP, admins=(ADMIN,))
    theirs = await running.photo_after("/imagine a castle", chat=GROUP)
    mine = await running.photo_after("/imagine a boat", chat=GROUP, user=MEMBER)
    await easel.queue.drain()
    files = await files_of(easel, 1)
    query = tg.press(GROUP, mine["message_id"], MEMBER, "d:1")
    await tg.wait_for(lambda: query in tg.answered)
    assert tg.answered[query]["show_alert"] is True
    assert "Only the person who asked" in tg.answered[query]["text"]
    assert tg.current(GROUP, theirs["message_id"]) is not None and tg.current(GROUP, mine["message_id"])
    assert await listed(easel, GROUP) == [2, 1]
    assert all(path.exists() for path in files)


async def test_delete_command_of_another_chats_image_is_not_found(running: Running) -> None:
    """An admin's /delete #1 in a group, #1 being a private chat's image: "gone", nothing removed."""
    tg, easel = running.tg, running.easel
    private = await running.photo_after("/imagine a castle")
    await easel.queue.drain()
    files = await files_of(easel, 1)
    tg.group(GROUP, admins=(ADMIN,))
    tg.say(GROUP, ADMIN, "/delete #1")
    await tg.wait_for(lambda: tg.texts(GROUP))
    assert tg.texts(GROUP)[-1] == "That image is gone."
    assert await listed(easel, CHAT) == [1]
    assert all(path.exists() for path in files)
    assert tg.current(CHAT, private["message_id"]) is not None


async def test_delete_command_by_the_requester(running: Running) -> None:
    """/delete #1 by its requester: answered, gone from the history and the gallery, files removed."""
    tg, easel = running.tg, running.easel
    await running.photo_after("/imagine a castle")
    await easel.queue.drain()
    files = await files_of(easel, 1)
    tg.say(CHAT, USER, "/delete #1")
    await tg.wait_for(lambda: any(t.startswith("Deleted #1") for t in tg.texts(CHAT)))
    assert await listed(easel, CHAT) == []
    assert not any(path.exists() for path in files)


async def test_delete_command_by_a_member_is_refused(running: Running) -> None:
    """A member's /delete of another member's image is refused and changes nothing."""
    tg, easel = running.tg, running.easel
    tg.group(GROUP, admins=(ADMIN,))
    await running.photo_after("/imagine a castle", chat=GROUP)
    await easel.queue.drain()
    tg.say(GROUP, MEMBER, "/delete #1")
    await tg.wait_for(lambda: tg.texts(GROUP))
    assert "Only the person who asked" in tg.texts(GROUP)[-1]
    assert await listed(easel, GROUP) == [1]


async def test_an_edit_of_a_deleted_image_keeps_working(running: Running) -> None:
    """The edit made from a deleted image keeps its photo and rerolls; asking for the parent is "gone"."""
    tg, easel = running.tg, running.easel
    await running.photo_after("/imagine a lighthouse")
    await running.photo_after("/edit #1 make it warmer")
    await easel.queue.drain()
    tg.say(CHAT, USER, "/delete #1")
    await tg.wait_for(lambda: any(t.startswith("Deleted #1") for t in tg.texts(CHAT)))
    child = await easel.history.get_generation(generation_id=2)
    assert child is not None and child.parent_id is None and child.images[0].path.exists()
    rerolled = await running.photo_after("/reroll #2")
    assert "#3" in rerolled["caption"]
    tg.say(CHAT, USER, "/vary #1")
    await tg.wait_for(lambda: tg.texts(CHAT)[-1].startswith(("I can't find", "That image")))


# ---------------------------------------------------------------------------- after a restart


@asynccontextmanager
async def serving(settings: AppSettings) -> AsyncIterator[Easel]:
    """``easel run`` until the block ends."""
    stop = asyncio.Event()
    ready: asyncio.Future[Easel] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(settings, stop=stop, on_ready=ready.set_result))
    done, _ = await asyncio.wait({task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    try:
        yield ready.result()
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def test_delete_after_a_restart(db_url: str, tmp_path: Path) -> None:
    """A photo sent before a restart is deleted by its button after it: message, rows and files."""
    async with FakeTelegram() as tg:
        settings = load_settings(
            None,
            environ={
                "EASEL__DATABASE_URL": db_url,
                "EASEL__MEDIA_DIR": str(tmp_path / "media"),
                "EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "160",
                "EASEL__TELEGRAM__TOKEN": TOKEN,
                "EASEL__WEB__ENABLED": "false",
                "EASEL__TELEGRAM__BASE_URL": tg.base_url,
                "EASEL__TELEGRAM__BASE_FILE_URL": tg.base_file_url,
            },
        )
        async with serving(settings) as easel:
            tg.say(CHAT, USER, "/imagine a castle")
            await tg.wait_for(lambda: tg.photos(CHAT))
            await easel.queue.drain()
        photo = tg.photos(CHAT)[0]
        async with serving(settings) as easel:
            files = await files_of(easel, 1)
            tg.press(CHAT, photo["message_id"], USER, delete_data(photo))
            await tg.wait_for(lambda: tg.current(CHAT, photo["message_id"]) is None)
            assert await easel.history.get_generation(generation_id=1) is None
            assert not any(path.exists() for path in files)
            tg.say(CHAT, USER, "/delete #1")  # again: nothing left to delete
            await tg.wait_for(lambda: tg.texts(CHAT))
            assert tg.texts(CHAT)[-1] == "That image is gone."


@pytest.mark.parametrize("text", ["/delete", "/delete #x"])
async def test_delete_without_an_image_asks_which(running: Running, text: str) -> None:
    """/delete naming nothing (not a reply) or something that is not a number says how to name one."""
    running.tg.say(CHAT, USER, text)
    await running.tg.wait_for(lambda: running.tg.texts(CHAT))
    assert "/delete #12" in running.tg.texts(CHAT)[-1]
