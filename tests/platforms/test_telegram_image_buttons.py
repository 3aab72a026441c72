"""Per-image buttons on Telegram (issue 18, item 4): a set gets compact rows of Vary k, Edit k and
Original k under its album; each acts on image k; hostile callback data gets a clear answer."""

from __future__ import annotations

from typing import Any

from tests.platforms.conftest import CHAT, USER, Running

OTHER = 5151


def keyboard(message: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """(label, callback data) per row."""
    return [
        [(b["text"], b["callback_data"]) for b in row] for row in message["reply_markup"]["inline_keyboard"]
    ]


async def album_of_two(running: Running, text: str = "/imagine two foxes --n 2") -> dict[str, Any]:
    """Send ``text``; return the message under the album that carries the buttons."""
    tg = running.tg
    before = len(tg.sent_to(CHAT))
    tg.say(CHAT, USER, text)
    await tg.wait_for(lambda: any("reply_markup" in m and "text" in m for m in tg.sent_to(CHAT)[before:]))
    await running.easel.queue.drain()  # its delivery is recorded
    return next(m for m in tg.sent_to(CHAT)[before:] if "reply_markup" in m and "text" in m)


async def answer_text(running: Running, containing: str) -> str:
    tg = running.tg
    await tg.wait_for(lambda: any(containing in t for t in tg.texts(CHAT)))
    return next(t for t in tg.texts(CHAT) if containing in t)


async def test_a_set_of_two_gets_a_row_per_action_and_image(running: Running) -> None:
    """--n 2: rows 🔀 1 2, ⬆️ 1 2, ✏️ 1 2, 📄 1 2, then Reroll and Delete, each within 64 bytes of data."""
    keys = await album_of_two(running)
    rows = keyboard(keys)
    assert [[data for _, data in row] for row in rows] == [
        ["v:1:1", "v:1:2"],
        ["u:1:1", "u:1:2"],
        ["e:1:1", "e:1:2"],
        ["o:1:1", "o:1:2"],
        ["r:1", "d:1"],
    ]
    assert rows[0][1][0] == "🔀 2" and "🔀 vary" in keys["text"]
    assert all(len(data.encode()) <= 64 for row in rows for _, data in row)


async def test_vary_2_varies_the_second_image(running: Running) -> None:
    """Pressing 🔀 2 makes a variation of image 2 of the set."""
    keys = await album_of_two(running)
    running.tg.press(CHAT, keys["message_id"], USER, "v:1:2")
    await running.tg.wait_for(lambda: len(running.tg.photos(CHAT)) == 4)
    await running.easel.queue.drain()
    record = await running.easel.history.get_generation(generation_id=2)
    assert (
        record is not None
        and record.kind == "vary"
        and record.params["source"] == {"generation": 1, "image": 1}
    )


async def test_edit_2_asks_about_image_2_and_the_answer_edits_it(running: Running) -> None:
    """✏️ 2 asks 'How should I change image 2?'; the reply to that question edits image 2."""
    keys = await album_of_two(running)
    tg = running.tg
    tg.press(CHAT, keys["message_id"], USER, "e:1:2")
    question = await answer_text(running, "How should I change image 2?")
    assert question.startswith("#1/2\n")
    message = next(m for m in tg.sent_to(CHAT) if m.get("text") == question)
    await running.photo_after("make it warmer", reply_to=message["message_id"])
    await running.easel.queue.drain()
    record = await running.easel.history.get_generation(generation_id=2)
    assert (
        record is not None
        and record.kind == "edit"
        and record.params["source"] == {"generation": 1, "image": 1}
    )


async def test_a_reply_to_the_second_photo_of_an_album_edits_that_photo(running: Running) -> None:
    """'make it warmer' in reply to the album's second photo edits image 2, not image 1."""
    await album_of_two(running)
    second = running.tg.photos(CHAT)[1]
    await running.photo_after("make it warmer", reply_to=second["message_id"])
    await running.easel.queue.drain()
    record = await running.easel.history.get_generation(generation_id=2)
    assert record is not None and record.params["source"] == {"generation": 1, "image": 1}


async def test_original_2_sends_only_the_second_file(running: Running) -> None:
    """📄 2 sends image 2's saved file, byte for byte, and nothing else."""
    keys = await album_of_two(running)
    tg = running.tg
    tg.press(CHAT, keys["message_id"], USER, "o:1:2")
    await tg.wait_for(lambda: any("document" in m for m in tg.sent_to(CHAT)))
    documents = [m for m in tg.sent_to(CHAT) if "document" in m]
    record = await running.easel.history.get_generation(generation_id=1)
    assert record is not None and len(documents) == 1
    assert tg.file_bytes(documents[0]) == record.images[1].path.read_bytes()


async def test_vary_9_of_a_two_image_set_is_answered_clearly(running: Running) -> None:
    """Forged data 'v:1:9' (no image 9 in a set of two) is answered in words and makes nothing."""
    keys = await album_of_two(running)
    query = running.tg.press(CHAT, keys["message_id"], USER, "v:1:9")
    assert (
        await answer_text(running, "there is no image 9") == "Picture #1 has 2 images; there is no image 9."
    )
    await running.easel.queue.drain()
    assert query in running.tg.answered and len(running.tg.photos(CHAT)) == 2


async def test_original_9_of_a_two_image_set_is_an_alert(running: Running) -> None:
    """Forged data 'o:1:9' gets an alert naming the set's size, and no file."""
    keys = await album_of_two(running)
    tg = running.tg
    query = tg.press(CHAT, keys["message_id"], USER, "o:1:9")
    await tg.wait_for(lambda: query in tg.answered)
    assert tg.answered[query]["text"] == "#1 has 2 images; there is no image 9."
    assert not any("document" in m for m in tg.sent_to(CHAT))


async def test_vary_of_another_chats_generation_is_not_found(running: Running) -> None:
    """Data naming a generation of another chat ('v:1:2' pressed in this chat) finds nothing here."""
    await running.photo_after("/imagine a secret --n 2", chat=OTHER, user=OTHER)
    mine = await running.photo_after("/imagine a castle")
    running.tg.press(CHAT, mine["message_id"], USER, "v:1:2")
    assert "can't find image #1 in this chat" in await answer_text(running, "can't find")
    await running.easel.queue.drain()
    assert len(running.tg.photos(CHAT)) == 1


async def test_original_of_another_chats_generation_is_refused(running: Running) -> None:
    """'o:1:1' pressed in this chat for another chat's generation sends no file."""
    await running.photo_after("/imagine a secret --n 2", chat=OTHER, user=OTHER)
    mine = await running.photo_after("/imagine a castle")
    tg = running.tg
    query = tg.press(CHAT, mine["message_id"], USER, "o:1:1")
    await tg.wait_for(lambda: query in tg.answered)
    assert tg.answered[query]["text"] == "That image is gone." and not any(
        "document" in m for m in tg.sent_to(CHAT)
    )


async def test_image_0_data_no_longer_works(running: Running) -> None:
    """Data outside the grammar ('v:1:0') is answered 'This button no longer works.'"""
    keys = await album_of_two(running)
    tg = running.tg
    query = tg.press(CHAT, keys["message_id"], USER, "v:1:0")
    await tg.wait_for(lambda: query in tg.answered)
    assert tg.answered[query]["text"] == "This button no longer works."
