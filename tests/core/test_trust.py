"""The service against hostile input: odd digits, huge ids, NUL characters, hostile display names,
and rights decided from stored facts (settings, Delete)."""

from __future__ import annotations

import pytest

from bot.core.errors import InvalidInput, NotFound
from bot.core.messages import Generate, GenerationOptions
from bot.storage.gallery_repo import GalleryRepo
from tests.core.conftest import Harness


@pytest.mark.parametrize("value", ["²", "\u0663", "\uff13"])
async def test_non_ascii_digits_for_n_are_refused(harness: Harness, value: str) -> None:
    """``/settings n ²`` (superscript, Arabic-Indic, fullwidth) is answered, not a crash."""
    reply = await harness.last(f"/settings n {value}", is_admin=True)
    assert reply.is_error and "n must be a number" in reply.text


@pytest.mark.parametrize("command", ["/reroll #\u0663", "/vary #²", "/history \u0663"])
async def test_non_ascii_digits_in_ids_and_pages_are_refused(harness: Harness, command: str) -> None:
    """An id or page written with other digits is refused with a message and starts no job."""
    reply = await harness.last(command)
    assert reply.is_error and "went wrong" not in reply.text
    assert await harness.easel.jobs.get_job(job_id=1) is None


async def test_an_id_beyond_32_bits_is_no_such_image(harness: Harness) -> None:
    """``/reroll #999999999999`` says there is no such image, on PostgreSQL as on SQLite."""
    await harness.say("/imagine a fox")
    reply = await harness.last("/reroll #999999999999")
    assert reply.is_error and "can't find image #999999999999" in reply.text


async def test_a_nul_in_a_prompt_is_refused(harness: Harness) -> None:
    """A prompt with a NUL character is refused with a message and nothing is queued."""
    reply = await harness.last("/imagine a fox\x00 in the snow")
    assert reply.is_error and "NUL" in reply.text
    assert await harness.easel.jobs.get_job(job_id=1) is None


async def test_a_display_name_with_control_characters_is_kept_clean(harness: Harness) -> None:
    """A name with NUL and bidi overrides is stored without them (PostgreSQL refuses NUL)."""
    reply = await harness.last("/imagine a fox", display_name="Eve\x00\u202eevil" + "x" * 500)
    assert reply.images and reply.generation_id is not None
    lineage = await GalleryRepo(harness.easel.engine).lineage(reply.generation_id)
    assert lineage is not None and lineage.item.user == ("Eveevil" + "x" * 500)[:128]


async def test_settings_change_in_a_group_needs_an_admin(harness: Harness) -> None:
    """A member who is not an admin cannot change a group's settings; showing them is fine."""
    reply = await harness.last("/settings aspect 16:9")
    assert reply.is_error and "administrators" in reply.text
    assert await harness.easel.history.get_chat_settings(chat_id=await harness.chat_id()) == {}
    assert not (await harness.last("/settings")).is_error


async def test_settings_in_ones_private_chat_need_no_admin(harness: Harness) -> None:
    """In a private chat (chat id = user id) the user is its admin."""
    reply = await harness.last("/settings aspect 16:9", chat="u1")
    assert not reply.is_error and "16:9" in reply.text


async def test_delete_is_decided_from_the_stored_owner(harness: Harness) -> None:
    """Another member's Delete is refused; the owner's lists the messages recorded for the image."""
    image = await harness.last("/imagine a fox")
    assert image.generation_id is not None
    service = harness.easel.service
    with pytest.raises(InvalidInput):
        await service.authorize_delete(harness.message("", user="u2"), image.generation_id)
    deletion = await service.authorize_delete(harness.message(""), image.generation_id)
    assert deletion.message_ids == (f"m{len(harness.platform.sent)}",)


async def test_delete_of_another_chats_image_is_not_found(harness: Harness) -> None:
    """An admin of one chat cannot delete an image of another chat by naming its id."""
    image = await harness.last("/imagine a fox", chat="c2")
    assert image.generation_id is not None
    with pytest.raises(NotFound):
        await harness.easel.service.authorize_delete(harness.message("", is_admin=True), image.generation_id)


async def test_a_typed_prompt_is_held_to_the_routers_limits(harness: Harness) -> None:
    """A typed ``Generate`` (slash-command options) with an overlong prompt is refused like text."""
    reply = await harness.last("/imagine", intent=Generate("x" * 5000))
    assert reply.is_error and "limit" in reply.text
    assert await harness.easel.jobs.get_job(job_id=1) is None


async def test_flags_inside_a_typed_prompt_count_and_typed_options_win(harness: Harness) -> None:
    """``a fox --ar 16:9 --n 2`` typed as a prompt with the option n=1: 16:9, one image."""
    typed = Generate("a fox --ar 16:9 --n 2", GenerationOptions(n=1))
    reply = await harness.last("/imagine", intent=typed)
    assert reply.images and len(reply.images) == 1
    assert reply.images[0].width > reply.images[0].height
