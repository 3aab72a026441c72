"""Hostile input through the real python-telegram-bot and the fake Bot API: callback data the bot
never sent, commands disguised with zero-width characters. Rights come from the database."""

from __future__ import annotations

from bot.platforms.telegram.calls import NETWORK_RETRIES
from tests.fakes.telegram_world import BOT_ID
from tests.platforms.conftest import USER, Running
from tests.platforms.test_telegram import ADMIN, GROUP, buttons

OTHER = 5151


async def test_forged_delete_naming_the_presser_as_requester_is_refused(running: Running) -> None:
    """Data ``d:<id>:<presser>:1`` on someone else's image in a group is refused; the photo stays."""
    tg = running.tg
    tg.group(GROUP, admins=(BOT_ID,))
    photo = await running.photo_after("/imagine a castle", chat=GROUP)
    await running.easel.queue.drain()  # its delivery is recorded
    generation = buttons(photo)["d"].split(":")[1]
    query = tg.press(GROUP, photo["message_id"], OTHER, f"d:{generation}:{OTHER}:1")
    await tg.wait_for(lambda: query in tg.answered)
    assert tg.answered[query]["show_alert"] is True
    assert tg.current(GROUP, photo["message_id"]) is not None


async def test_forged_count_deletes_only_the_images_own_messages(running: Running) -> None:
    """A Delete claiming 9 messages removes the one photo it showed, not the members' messages before it."""
    tg = running.tg
    tg.group(GROUP, admins=(BOT_ID,))
    chatter = [tg.say(GROUP, OTHER, f"/status number {i}")["message_id"] for i in range(3)]
    photo = await running.photo_after("/imagine a castle", chat=GROUP)
    await running.easel.queue.drain()  # its delivery is recorded
    generation = buttons(photo)["d"].split(":")[1]
    query = tg.press(GROUP, photo["message_id"], USER, f"d:{generation}:{USER}:9")
    await tg.wait_for(lambda: tg.current(GROUP, photo["message_id"]) is None)
    assert query in tg.answered
    assert all(tg.current(GROUP, message_id) is not None for message_id in chatter)


async def test_forged_delete_of_another_chats_image_is_refused(running: Running) -> None:
    """A button naming a generation of another chat answers "gone" and deletes nothing there."""
    tg = running.tg
    tg.group(GROUP, admins=(BOT_ID, ADMIN))
    elsewhere = await running.photo_after("/imagine a castle")
    here = await running.photo_after("/imagine a tower", chat=GROUP)
    await running.easel.queue.drain()
    theirs = buttons(elsewhere)["d"].split(":")[1]
    query = tg.press(GROUP, here["message_id"], ADMIN, f"d:{theirs}")
    await tg.wait_for(lambda: query in tg.answered)
    assert "gone" in tg.answered[query]["text"]
    assert tg.current(USER, elsewhere["message_id"]) is not None


async def test_delete_of_an_album_removes_every_photo_and_the_buttons(running: Running) -> None:
    """Delete under a two-image album deletes both photos and the message carrying the buttons."""
    tg = running.tg
    await running.photo_after("/imagine two foxes --n 2")
    await running.easel.queue.drain()
    keys = next(m for m in tg.sent_to(USER) if "reply_markup" in m)
    album = [m["message_id"] for m in tg.photos(USER)]
    tg.press(USER, keys["message_id"], USER, buttons(keys)["d"])
    await tg.wait_for(lambda: tg.current(USER, keys["message_id"]) is None)
    assert len(album) == 2 and all(tg.current(USER, message_id) is None for message_id in album)


async def test_zero_width_settings_command_from_a_member_is_refused(running: Running) -> None:
    """``/sett\\u200bings aspect 16:9`` from a non-admin in a group changes nothing."""
    tg = running.tg
    tg.group(GROUP, admins=(ADMIN,))
    tg.say(GROUP, OTHER, "/sett\u200bings aspect 16:9")
    await tg.wait_for(lambda: any("administrators" in t for t in tg.texts(GROUP)))
    chat = await running.easel.history.upsert_chat(platform="telegram", external_id=str(GROUP))
    assert await running.easel.history.get_chat_settings(chat_id=chat) == {}


async def test_settings_provider_must_be_configured(running: Running) -> None:
    """``/settings provider openai`` without an OpenAI key is refused, naming the configured ones."""
    tg = running.tg
    tg.say(USER, USER, "/settings provider openai")
    await tg.wait_for(lambda: any("not a configured provider" in t for t in tg.texts(USER)))
    assert any("builtin" in t for t in tg.texts(USER))


async def test_a_result_refused_for_now_is_delivered_without_a_restart(running: Running) -> None:
    """sendPhoto answering 502 past the call's own retries is retried by the job; the status goes."""
    tg = running.tg
    tg.fail_next("sendPhoto", 502, times=NETWORK_RETRIES + 1)
    photo = await running.photo_after("/imagine a red fox")
    await running.easel.queue.drain()
    assert "a red fox" in photo["caption"] and len(tg.photos(USER)) == 1
    statuses = [m for m in tg.sent_to(USER) if "text" in m and "photo" not in m]
    assert statuses and all(tg.current(USER, m["message_id"]) is None for m in statuses)
