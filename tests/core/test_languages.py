"""Answers of the content controls, generation and images in the sender's language (German,
Spanish) through the whole Easel; English stays the source text."""

from __future__ import annotations

from bot.core import i18n
from bot.core.errors import RateLimited
from bot.core.generation.chain import _explain_rate_limit
from tests.core.conftest import Harness


async def test_a_ban_refusal_is_answered_in_spanish(harness: Harness) -> None:
    """A Spanish user's banned prompt is refused in Spanish, and queues nothing."""
    await harness.say("/ban add fox", is_admin=True)
    job = await harness.easel.service.handle(harness.message("/imagine a red fox", locale="es"))
    assert job is None
    reply = harness.platform.replies[-1]
    assert reply.is_error and reply.text == (
        "Los administradores de este chat no lo permiten: tu prompt tiene una palabra o frase prohibida."
    )


async def test_the_ban_list_answers_in_german(harness: Harness) -> None:
    """/ban add and /ban list answer a German admin in German (a pattern named "Muster")."""
    added = await harness.last("/ban add re:g[o0]re", is_admin=True, locale="de")
    assert added.text == "Gesperrt (Regel 1)."
    listed = await harness.last("/ban list", is_admin=True, locale="de")
    assert listed.text == (
        "Hier gesperrt (geprüft bei Prompts, Bearbeitungsanweisungen und geplanten Posts):\n1. Muster g[o0]re"
    )


async def test_the_refusal_log_names_what_was_checked_in_german(harness: Harness) -> None:
    """/ban refused shows a logged refusal's kind and rule in German (the log keeps English keys)."""
    await harness.say("/ban add fox", is_admin=True)
    await harness.say("/imagine a red fox")
    reply = await harness.last("/ban refused", is_admin=True, locale="de")
    assert reply.text.startswith("Hier abgelehnt (neueste zuerst):\n")
    assert " · u1 · Prompt · Regel 1 · a red fox" in reply.text


async def test_an_unknown_provider_is_refused_in_german(harness: Harness) -> None:
    """The provider chain's refusal (a provider that is not set up) reaches a German user in German."""
    reply = await harness.last("/imagine a fox --provider nowhere", locale="de")
    assert reply.is_error
    assert reply.text.startswith("Der Anbieter 'nowhere' ist hier nicht eingerichtet. Verfügbar: ")


async def test_a_missing_picture_of_a_set_is_named_in_spanish(harness: Harness) -> None:
    """Asking for image 5 of a one-image set is refused in Spanish (the singular form)."""
    made = await harness.last("/imagine a fox")
    reply = await harness.last(f"/vary #{made.generation_id}/5", locale="es")
    assert reply.text == f"La imagen #{made.generation_id} tiene 1 imagen; no hay imagen 5."


def test_a_rate_limit_raised_for_a_german_user_still_says_when_to_come_back() -> None:
    """A RateLimited raised with its generic (now German) text gets the German retry time."""
    with i18n.using("de"):
        error = RateLimited("429", provider="p", retry_after=30)
        _explain_rate_limit(error)
        assert error.user_message == "Der Bilddienst ist ausgelastet; versuch es in etwa 30 s wieder."
