"""An admin's ``/hide`` sticks: stored as ``hidden_by_admin``, shown again only by an admin, and no
longer there for its requester either; a requester's own hide behaves as before."""

from __future__ import annotations

from bot.core.chat.takedown import Takedown
from bot.core.identity import Directory
from bot.core.messages import Incoming
from bot.core.types import GenerationRecord
from tests.core.conftest import Harness

ADMIN_HID = "A chat admin hid this; only an admin can show it again."
UNHIDE_REFUSED = "Only the person who asked for it or an admin can show this again."


async def _image(harness: Harness) -> int:
    reply = await harness.last("/imagine a misty lake")
    assert reply.generation_id is not None and reply.images
    return reply.generation_id


async def _record(harness: Harness, generation_id: int) -> GenerationRecord:
    record = await harness.easel.history.get_generation(generation_id=generation_id)
    assert record is not None
    return record


async def _admin_hides(harness: Harness) -> int:
    generation_id = await _image(harness)
    await harness.say(f"/hide #{generation_id}", user="u2", is_admin=True)
    return generation_id


async def test_an_admins_hide_is_stored_as_such(harness: Harness) -> None:
    """A chat admin's "/hide #n" of a member's image marks it hidden_by_admin."""
    record = await _record(harness, await _admin_hides(harness))
    assert record.hidden and record.hidden_by_admin


async def test_a_requesters_own_hide_is_not_an_admins(harness: Harness) -> None:
    """The requester's own "/hide #n" leaves hidden_by_admin False."""
    generation_id = await _image(harness)
    await harness.say(f"/hide #{generation_id}")
    record = await _record(harness, generation_id)
    assert record.hidden and not record.hidden_by_admin


async def test_the_requester_cannot_unhide_what_an_admin_hid(harness: Harness) -> None:
    """The requester's "/unhide #n" of an admin-hidden image is refused and it stays hidden."""
    generation_id = await _admin_hides(harness)
    reply = await harness.last(f"/unhide #{generation_id}")
    assert reply.is_error and reply.text == ADMIN_HID
    assert (await _record(harness, generation_id)).hidden


async def test_the_refusal_is_in_the_senders_language(harness: Harness) -> None:
    """The refusal of a requester's "/unhide #n" reaches a Spanish user in Spanish."""
    generation_id = await _admin_hides(harness)
    reply = await harness.last(f"/unhide #{generation_id}", locale="es")
    assert reply.is_error and reply.text == (
        "Un administrador del chat lo ocultó; solo un administrador puede volver a mostrarlo."
    )


async def test_the_requester_cannot_turn_an_admins_hide_into_their_own(harness: Harness) -> None:
    """The requester's "/hide #n" of an admin-hidden image is refused; it stays hidden by the admin."""
    generation_id = await _admin_hides(harness)
    reply = await harness.last(f"/hide #{generation_id}")
    assert reply.is_error and reply.text == ADMIN_HID
    assert (await _record(harness, generation_id)).hidden_by_admin


async def test_another_member_cannot_unhide_what_an_admin_hid(harness: Harness) -> None:
    """A member who is neither requester nor admin is refused as for any image not theirs."""
    generation_id = await _admin_hides(harness)
    reply = await harness.last(f"/unhide #{generation_id}", user="u3")
    assert reply.is_error and reply.text == UNHIDE_REFUSED
    assert (await _record(harness, generation_id)).hidden


async def test_an_admin_unhides_what_an_admin_hid(harness: Harness) -> None:
    """Another admin's "/unhide #n" shows it again and clears hidden_by_admin."""
    generation_id = await _admin_hides(harness)
    reply = await harness.last(f"/unhide #{generation_id}", user="u3", is_admin=True)
    assert not reply.is_error
    record = await _record(harness, generation_id)
    assert not record.hidden and not record.hidden_by_admin


async def test_the_requester_may_hide_again_after_an_admins_unhide(harness: Harness) -> None:
    """Once an admin showed it again, the requester's own hide and unhide work as before."""
    generation_id = await _admin_hides(harness)
    await harness.say(f"/unhide #{generation_id}", user="u2", is_admin=True)
    await harness.say(f"/hide #{generation_id}")
    reply = await harness.last(f"/unhide #{generation_id}")
    assert not reply.is_error and not (await _record(harness, generation_id)).hidden


async def test_the_requesters_own_hide_then_unhide_still_works(harness: Harness) -> None:
    """The requester hides their image and shows it again themselves."""
    generation_id = await _image(harness)
    await harness.say(f"/hide #{generation_id}")
    reply = await harness.last(f"/unhide #{generation_id}")
    assert reply.text == f"#{generation_id} is shown again in the history and the gallery."
    assert not (await _record(harness, generation_id)).hidden


async def test_the_requester_cannot_reroll_what_an_admin_hid(harness: Harness) -> None:
    """The requester's "/reroll #n" of an admin-hidden image: not found, no job queued."""
    generation_id = await _admin_hides(harness)
    job = await harness.easel.service.handle(harness.message(f"/reroll #{generation_id}"))
    assert job is None
    reply = harness.platform.replies[-1]
    assert reply.is_error and reply.text == f"I can't find image #{generation_id} in this chat."


async def test_a_member_cannot_reroll_what_an_admin_hid(harness: Harness) -> None:
    """Another member's "/reroll #n" of an admin-hidden image: not found, no job queued."""
    generation_id = await _admin_hides(harness)
    assert await harness.easel.service.handle(harness.message(f"/reroll #{generation_id}", user="u3")) is None


async def test_the_requester_still_rerolls_their_own_hidden_image(harness: Harness) -> None:
    """The requester's "/reroll #n" of an image they hid themselves is made, as before."""
    generation_id = await _image(harness)
    await harness.say(f"/hide #{generation_id}")
    reply = await harness.last(f"/reroll #{generation_id}")
    assert reply.images and not reply.is_error


async def test_original_of_an_admin_hidden_image_is_for_admins_only(harness: Harness) -> None:
    """generation_in_chat (Original, embeds): None for its requester and a member, the record for an
    admin."""
    generation_id = await _admin_hides(harness)
    front = harness.easel.front
    assert await front.generation_in_chat(harness.message(""), generation_id) is None
    assert await front.generation_in_chat(harness.message("", user="u3"), generation_id) is None
    admin = await front.generation_in_chat(harness.message("", user="u3", is_admin=True), generation_id)
    assert admin is not None and admin.hidden_by_admin


async def test_the_operator_console_hides_as_an_admin(harness: Harness) -> None:
    """The web chat's operator (the gallery's Hide) hides as an admin: the requester cannot unhide."""
    generation_id = await _image(harness)
    easel = harness.easel
    takedown = Takedown(directory=Directory(easel.history), history=easel.history, jobs=easel.jobs)
    operator = Incoming(platform="web", chat_id="web-1", user_id="op", text="", is_admin=True)
    await takedown.hide(operator, generation_id, hidden=True)
    assert (await _record(harness, generation_id)).hidden_by_admin
    assert (await harness.last(f"/unhide #{generation_id}")).text == ADMIN_HID


async def test_the_requester_may_still_delete_what_an_admin_hid(harness: Harness) -> None:
    """The requester's "/delete #n" of an admin-hidden image removes it for good (nothing is shown)."""
    generation_id = await _admin_hides(harness)
    await harness.say(f"/delete #{generation_id}")
    assert await harness.easel.history.get_generation(generation_id=generation_id) is None
