"""What the Telegram adapter itself says in a chat (not in an alert only the presser sees) follows the
chat's ``/settings language`` when it has one, as the core's answers do; the sender's app language
otherwise."""

from __future__ import annotations

import io

from PIL import Image as PILImage

from tests.platforms.conftest import CHAT, USER, Running

EDIT_QUESTION_DE = "Wie soll ich es ändern? Antworte auf diese Nachricht, z. B. „mach es wärmer“."
DOWNLOAD_FAILED_DE = "Ich konnte dieses Bild nicht von Telegram herunterladen; bitte schick es noch einmal."


def _png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (90, 90), (30, 160, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_a_failed_download_is_told_in_the_chats_language_not_the_senders(running: Running) -> None:
    """The chat is set to German, the sender's app is English: the download failure is German."""
    tg = running.tg
    tg.say(CHAT, USER, "/settings language de")
    await tg.wait_for(lambda: len(tg.texts(CHAT)) >= 1)
    sent = tg.send_photo_from_user(CHAT, USER, _png(), "make it black and white")
    tg.world.files.pop(sent["photo"][-1]["file_id"])  # gone before the bot asks for it (getFile fails)
    await tg.wait_for(lambda: any("Telegram" in text for text in tg.texts(CHAT)))
    assert DOWNLOAD_FAILED_DE in tg.texts(CHAT)


async def test_the_edit_question_is_asked_in_the_chats_language(running: Running) -> None:
    """✏️ Edit pressed by an English app in a chat set to German: the ForceReply question is German."""
    tg = running.tg
    tg.say(CHAT, USER, "/settings language de")
    await tg.wait_for(lambda: len(tg.texts(CHAT)) >= 1)
    photo = await running.photo_after("/imagine a castle")
    tg.press(CHAT, photo["message_id"], USER, "e:1")
    await tg.wait_for(lambda: any(text.startswith("#1\n") for text in tg.texts(CHAT)))
    assert f"#1\n{EDIT_QUESTION_DE}" in tg.texts(CHAT)
