"""Telegram's own answers in the user's language (``language_code``): button alerts, the inline-mode
result and its message, and a provider's error reaching the chat from inside the job."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.core.ports import ProgressCallback
from bot.core.types import Image, ImageRequest
from bot.providers._http.errors import raise_for_response
from tests.fakes import telegram_world
from tests.fakes.scripted import ScriptedProvider
from tests.platforms.conftest import CHAT, USER, Running
from tests.platforms.test_telegram_inline import INLINE, STORAGE, answered, chosen

OTHER = 5151
REFUSED_DE = "Der Bilddienst hat diesen Prompt abgelehnt (Inhaltsrichtlinie)."


class PolicyRefusingProvider(ScriptedProvider):
    """Answers every request as an HTTP API's content-policy 400 would, mapped by the shared HTTP error
    code while the job runs (so in the job's language)."""

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        answer = httpx.Response(400, json={"error": {"code": "content_policy_violation", "message": "no"}})
        raise_for_response(answer, provider=self.name)
        return []


def _refusing() -> list[Any]:
    return [PolicyRefusingProvider()]


@pytest.fixture
def german(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(telegram_world.USER_LANGUAGES, USER, "de")


@pytest.mark.usefixtures("german")
async def test_a_german_press_on_an_image_that_is_gone_gets_the_german_alert(running: Running) -> None:
    """📄 Original pressed for another chat's generation: the alert says so in German."""
    await running.photo_after("/imagine a secret", chat=OTHER, user=OTHER)
    mine = await running.photo_after("/imagine a castle")
    tg = running.tg
    query = tg.press(CHAT, mine["message_id"], USER, "o:1:1")
    await tg.wait_for(lambda: query in tg.answered)
    assert tg.answered[query]["text"] == "Dieses Bild gibt es nicht mehr."
    assert tg.answered[query].get("show_alert") is True


@pytest.mark.usefixtures("german")
async def test_a_german_press_of_a_dead_button_is_answered_in_german(running: Running) -> None:
    """Callback data Easel cannot read: 'This button no longer works.' in German."""
    mine = await running.photo_after("/imagine a castle")
    query = running.tg.press(CHAT, mine["message_id"], USER, "zz:nonsense")
    await running.tg.wait_for(lambda: query in running.tg.answered)
    assert running.tg.answered[query]["text"] == "Diese Schaltfläche funktioniert nicht mehr."


@pytest.mark.usefixtures("german")
async def test_a_missing_image_number_is_answered_in_german(running: Running) -> None:
    """'o:1:9' on a one-image set: the alert counts in German (singular)."""
    mine = await running.photo_after("/imagine a castle")
    query = running.tg.press(CHAT, mine["message_id"], USER, "o:1:9")
    await running.tg.wait_for(lambda: query in running.tg.answered)
    assert running.tg.answered[query]["text"] == "#1 hat 1 Bild; ein Bild 9 gibt es nicht."


@pytest.mark.usefixtures("german")
@pytest.mark.easel(env=INLINE)
async def test_a_german_inline_query_gets_german_result_labels(running: Running) -> None:
    """@bot ein Fuchs from a German app: title, description, placeholder text and button in German;
    the prompt is shown as typed."""
    running.tg.group(STORAGE)
    _, answer = await answered(running, "ein Fuchs")
    [article] = answer["results"]
    assert article["title"] == "🎨 Zeichnen: ein Fuchs"
    assert article["description"] == "Das Bild ersetzt diese Nachricht, sobald es fertig ist."
    assert article["input_message_content"]["message_text"] == "🎨 Ich zeichne „ein Fuchs“…"
    [[button]] = article["reply_markup"]["inline_keyboard"]
    assert button["text"] == "🎨 Noch eins zeichnen"


@pytest.mark.usefixtures("german")
@pytest.mark.easel(providers=_refusing)
async def test_a_providers_refusal_reaches_a_german_chat_in_german(running: Running) -> None:
    """The provider's HTTP refusal, mapped while the German user's job runs, is answered in German."""
    tg = running.tg
    tg.say(CHAT, USER, "/imagine a castle")
    await tg.wait_for(lambda: any(REFUSED_DE in t for t in tg.texts(CHAT)))
    assert not tg.photos(CHAT)


@pytest.mark.usefixtures("german")
@pytest.mark.easel(env=INLINE, providers=_refusing)
async def test_a_refused_inline_message_says_why_in_german(running: Running) -> None:
    """The inline message of a German user's refused request is replaced by the German refusal."""
    tg = running.tg
    tg.group(STORAGE)
    inline_message_id = await chosen(running, "a castle")
    await tg.wait_for(lambda: REFUSED_DE in tg.inline_message(inline_message_id).get("text", ""))
    assert not tg.photos(STORAGE)
