"""``/hide #12`` and ``/unhide #12`` through the whole service: who may, what a hidden image is left out
of (history, gallery, "the last image"), and who may still act on it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.core.chat.takedown import Takedown
from bot.core.identity import Directory
from bot.core.messages import Hide, Incoming
from bot.core.ports import Provider
from bot.core.types import Reply, Started
from tests.core.conftest import Harness
from tests.fakes.scripted import ScriptedProvider


async def _image(harness: Harness, prompt: str = "/imagine a misty lake", **extra: object) -> int:
    reply = await harness.last(prompt, **extra)
    assert reply.generation_id is not None and reply.images
    return reply.generation_id


async def _hidden(harness: Harness, generation_id: int) -> bool:
    record = await harness.easel.history.get_generation(generation_id=generation_id)
    assert record is not None
    return record.hidden


async def test_the_requester_hides_their_image_and_it_is_kept(harness: Harness) -> None:
    """ "/hide #n" by the one who asked: answered, hidden, its files still there."""
    generation_id = await _image(harness)
    reply = await harness.last(f"/hide #{generation_id}")
    assert not reply.is_error and reply.text.startswith(f"Hidden #{generation_id}")
    record = await harness.easel.history.get_generation(generation_id=generation_id)
    assert record is not None and record.hidden and all(i.path.is_file() for i in record.images)


async def test_someone_else_cannot_hide_an_image(harness: Harness) -> None:
    """A member who is not its requester nor an admin is refused and nothing changes."""
    generation_id = await _image(harness)
    reply = await harness.last(f"/hide #{generation_id}", user="u2")
    assert reply.is_error and reply.text == "Only the person who asked for it or an admin can hide this."
    assert not await _hidden(harness, generation_id)


async def test_an_admin_hides_and_unhides_anyones_image(harness: Harness) -> None:
    """The chat's admin may hide another member's image and show it again."""
    generation_id = await _image(harness)
    await harness.say(f"/hide #{generation_id}", user="u2", is_admin=True)
    assert await _hidden(harness, generation_id)
    reply = await harness.last(f"/unhide #{generation_id}", user="u2", is_admin=True)
    assert reply.text == f"#{generation_id} is shown again in the history and the gallery."
    assert not await _hidden(harness, generation_id)


async def test_an_image_of_another_chat_is_gone_for_this_chat(harness: Harness) -> None:
    """ "/hide #n" in another chat, even by its admin, answers "That image is gone."."""
    generation_id = await _image(harness)
    reply = await harness.last(f"/hide #{generation_id}", chat="c2", is_admin=True)
    assert reply.is_error and reply.text == "That image is gone."
    assert not await _hidden(harness, generation_id)


async def test_the_operator_console_hides_any_chats_image(harness: Harness) -> None:
    """The web chat's operator hides an image of another chat (as the gallery shows every chat)."""
    generation_id = await _image(harness)
    easel = harness.easel
    takedown = Takedown(directory=Directory(easel.history), history=easel.history, jobs=easel.jobs)
    operator = Incoming(platform="web", chat_id="web-1", user_id="op", text="", is_admin=True)
    await takedown.hide(operator, generation_id, hidden=True)
    assert await _hidden(harness, generation_id)


async def test_hide_without_a_target_asks_which(harness: Harness) -> None:
    """ "/hide" alone (no reply, no number) asks which image."""
    reply = await harness.last("/hide")
    assert reply.is_error and reply.text == "Which image? Reply to it with /hide, or name it: /hide #12."


async def test_hide_of_a_garbled_number_is_refused(harness: Harness) -> None:
    """ "/unhide #12/2" (hiding is of a whole set) is refused with an example."""
    reply = await harness.last("/unhide #12/2")
    assert reply.is_error and "/unhide #12" in reply.text


async def test_hiding_a_missing_image_says_it_is_gone(harness: Harness) -> None:
    """ "/hide #99999" answers "That image is gone."."""
    assert (await harness.last("/hide #99999")).text == "That image is gone."


async def test_a_free_text_edit_skips_the_hidden_last_image(harness: Harness) -> None:
    """ "make it warmer" after hiding the newest image edits the one before it."""
    first = await _image(harness, "/imagine a misty lake")
    second = await _image(harness, "/imagine a red barn")
    await harness.say(f"/hide #{second}")
    edit = await harness.last("make it warmer")
    record = await harness.easel.history.get_generation(generation_id=edit.generation_id or 0)
    assert record is not None and record.parent_id == first


async def test_a_bare_reroll_skips_the_hidden_last_image(harness: Harness) -> None:
    """ "/reroll" after hiding the newest image rerolls the one before it."""
    first = await _image(harness, "/imagine a misty lake")
    second = await _image(harness, "/imagine a red barn")
    await harness.say(f"/hide #{second}")
    reroll = await harness.last("/reroll", user="u2")
    record = await harness.easel.history.get_generation(generation_id=reroll.generation_id or 0)
    assert record is not None and record.parent_id == first


async def test_others_cannot_reroll_a_hidden_image_by_number(harness: Harness) -> None:
    """ "/vary #n" of a hidden image by another member: not found, no job queued."""
    generation_id = await _image(harness)
    await harness.say(f"/hide #{generation_id}")
    job = await harness.easel.service.handle(harness.message(f"/vary #{generation_id}", user="u2"))
    assert job is None
    reply = harness.platform.replies[-1]
    assert reply.is_error and reply.text == f"I can't find image #{generation_id} in this chat."


async def test_an_admin_still_rerolls_a_hidden_image(harness: Harness) -> None:
    """The chat's admin may reroll a hidden image by number (a button press too)."""
    generation_id = await _image(harness)
    await harness.say(f"/hide #{generation_id}")
    reply = await harness.last(f"/reroll #{generation_id}", user="u2", is_admin=True)
    assert reply.images and not reply.is_error


async def test_a_typed_hide_intent_is_handled_like_the_command(harness: Harness) -> None:
    """Hide(n) given as a typed intent (as the web gallery's button sends) hides it too."""
    generation_id = await _image(harness)
    message = harness.message("/hide", intent=Hide(generation_id))
    await harness.easel.service.handle(message)
    assert await _hidden(harness, generation_id)


async def test_history_leaves_out_hidden_images(harness: Harness) -> None:
    """ "/history" lists the shown image, not the hidden one."""
    shown = await _image(harness, "/imagine a misty lake")
    hidden = await _image(harness, "/imagine a red barn")
    await harness.say(f"/hide #{hidden}")
    text = (await harness.last("/history")).text
    assert f"#{shown} " in text and f"#{hidden} " not in text


async def test_original_of_a_hidden_image_is_for_admins_and_its_requester(harness: Harness) -> None:
    """generation_in_chat (Original, embeds): None for another member, the record for an admin."""
    generation_id = await _image(harness)
    await harness.say(f"/hide #{generation_id}")
    front = harness.easel.front
    assert await front.generation_in_chat(harness.message("", user="u2"), generation_id) is None
    admin = await front.generation_in_chat(harness.message("", user="u2", is_admin=True), generation_id)
    own = await front.generation_in_chat(harness.message(""), generation_id)
    assert admin is not None and own is not None and admin.hidden


async def test_the_gallery_shows_hidden_images_only_when_asked(harness: Harness) -> None:
    """front.gallery.browse leaves a hidden image out; include_hidden=True shows it marked."""
    generation_id = await _image(harness)
    await harness.say(f"/hide #{generation_id}")
    assert await harness.easel.front.gallery.browse() == []
    items = await harness.easel.front.gallery.browse(include_hidden=True)
    assert [(item.id, item.hidden) for item in items] == [(generation_id, True)]


async def test_hiding_twice_is_harmless(harness: Harness) -> None:
    """A second "/hide #n" answers the same and it stays hidden."""
    generation_id = await _image(harness)
    replies: list[Reply] = []
    for _ in range(2):
        replies.append(await harness.last(f"/hide #{generation_id}"))
    assert replies[0].text == replies[1].text and await _hidden(harness, generation_id)


def _gated() -> Sequence[Provider]:
    return [ScriptedProvider("gated", gate=asyncio.Event())]


@pytest.mark.easel(env={"EASEL__GENERATION__WORKERS": "1"}, providers=_gated)
async def test_a_variation_queued_before_the_hide_is_not_made(harness: Harness) -> None:
    """ "/vary #n" by another member, still waiting when its requester hid #n: not found when it runs."""
    provider = harness.providers[0]
    assert isinstance(provider, ScriptedProvider) and provider.gate is not None
    provider.gate.set()
    generation_id = await _image(harness)
    provider.gate.clear()
    service = harness.easel.service
    blocker = await service.handle(harness.message("/imagine a blocker", chat="c9", user="u9"))
    assert blocker is not None
    await harness.platform.wait_for_event(Started, blocker)  # the only worker is busy: the vary waits
    vary = await service.handle(harness.message(f"/vary #{generation_id}", user="u2"))
    assert vary is not None
    await harness.say(f"/hide #{generation_id}")
    provider.gate.set()
    await harness.easel.queue.wait_for(vary)
    reply = harness.platform.replies_to("c1")[-1]
    assert reply.is_error and reply.text == f"I can't find image #{generation_id} in this chat."


def _scripted() -> Sequence[Provider]:
    return [ScriptedProvider("scripted")]


@pytest.mark.easel(providers=_scripted)
async def test_a_reroll_of_an_edit_does_not_start_from_its_hidden_source(harness: Harness) -> None:
    """ "/reroll #edit" by another member once the edited image is hidden: no reference image is sent."""
    source = await _image(harness)
    edit = await harness.last(f"/edit #{source} make it warmer")
    await harness.say(f"/hide #{source}")
    await harness.say(f"/reroll #{edit.generation_id}", user="u2")
    provider = harness.providers[0]
    assert isinstance(provider, ScriptedProvider) and len(provider.requests) == 3
    assert provider.requests[-1].reference_images == ()
