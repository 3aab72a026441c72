"""Use cases end to end: real database and media directory, the queue and workers, a recording platform."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image as PILImage
from PIL import ImageStat

from bot.core.errors import Refused
from bot.core.messages import Attachment
from bot.core.texts import UNEXPECTED
from bot.core.types import Failed, GenerationKind, GenerationStatus, Started
from tests.core.conftest import Harness
from tests.fakes.scripted import ScriptedProvider


def red_blue_ratio(path: Path) -> float:
    with PILImage.open(path) as img:
        mean = ImageStat.Stat(img.convert("RGB")).mean
    return mean[0] / max(mean[2], 1.0)


async def test_imagine_saves_images_and_records_generation(harness: Harness) -> None:
    """/imagine replies with stored images and a done generation row."""
    reply = await harness.last("/imagine a red fox --n 2 --seed 7")
    assert not reply.is_error and len(reply.images) == 2
    assert all(image.path.is_file() and image.path.is_relative_to(harness.media) for image in reply.images)
    record = await harness.easel.history.get_generation(generation_id=reply.generation_id or 0)
    assert record is not None and record.status == GenerationStatus.DONE
    assert [image.seed for image in record.images] == [7, 8]


async def test_free_text_edit_changes_last_image_and_records_lineage(harness: Harness) -> None:
    """'make it warmer' edits the chat's last image, warmer, with parent_id set."""
    first = await harness.last("/imagine a misty lake --seed 3")
    edit = await harness.last("make it warmer")
    record = await harness.easel.history.get_generation(generation_id=edit.generation_id or 0)
    assert record is not None and record.kind == GenerationKind.EDIT
    assert record.parent_id == first.generation_id
    assert red_blue_ratio(edit.images[0].path) > red_blue_ratio(first.images[0].path)


async def test_edit_sent_while_image_is_still_queued_edits_that_image(harness: Harness) -> None:
    """'make it warmer' sent before the first image is done waits for it and edits it."""
    service = harness.easel.service
    first_job = await service.handle(harness.message("/imagine a misty lake --seed 3"))
    edit_job = await service.handle(harness.message("make it warmer"))
    assert first_job is not None and edit_job is not None
    await harness.easel.queue.wait_for(edit_job)
    first_record = await harness.easel.jobs.get_job(job_id=first_job)
    edit_record = await harness.easel.jobs.get_job(job_id=edit_job)
    assert first_record is not None and edit_record is not None and edit_record.generation_id
    generation = await harness.easel.history.get_generation(generation_id=edit_record.generation_id)
    assert generation is not None and generation.parent_id == first_record.generation_id


async def test_edit_like_text_without_image_is_a_new_prompt(harness: Harness) -> None:
    """With nothing to edit yet, 'make it warmer' becomes a prompt rather than an error."""
    reply = await harness.last("make it warmer")
    record = await harness.easel.history.get_generation(generation_id=reply.generation_id or 0)
    assert record is not None and record.kind == GenerationKind.GENERATE


async def test_edit_command_without_image_explains(harness: Harness) -> None:
    """/edit with no image anywhere tells the user how to get one."""
    reply = await harness.last("/edit make it warmer")
    assert reply.is_error and "/imagine" in reply.text


async def test_edit_of_attached_non_image_is_refused_clearly(harness: Harness) -> None:
    """A text file sent for editing gets a clear answer and no job."""
    attachment = Attachment(data=b"hello, not an image", filename="notes.txt")
    reply = await harness.last("/edit brighter", attachments=(attachment,))
    assert reply.is_error and "not an image" in reply.text
    assert await harness.easel.history.list_generations(chat_id=await harness.chat_id()) == []


async def test_edit_of_attached_bytes_that_are_not_an_image_is_refused(harness: Harness) -> None:
    """Bytes claiming to be a photo but not decodable are refused before queueing."""
    reply = await harness.last("/edit brighter", attachments=(Attachment(data=b"\x89PNG garbage"),))
    assert reply.is_error and "image" in reply.text
    assert await harness.easel.jobs.open_jobs() == []


async def test_edit_of_attached_photo_has_no_parent(harness: Harness) -> None:
    """An uploaded photo is edited directly and the generation has no parent."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 30), (90, 120, 160)).save(buffer, format="PNG")
    reply = await harness.last("/edit black and white", attachments=(Attachment(buffer.getvalue()),))
    record = await harness.easel.history.get_generation(generation_id=reply.generation_id or 0)
    assert record is not None and record.kind == GenerationKind.EDIT and record.parent_id is None


async def test_reroll_uses_same_prompt_with_new_seed(harness: Harness) -> None:
    """/reroll repeats the last prompt with a different seed, linked to it."""
    first = await harness.last("/imagine a lighthouse --seed 11")
    again = await harness.last("/reroll")
    history = harness.easel.history
    original = await history.get_generation(generation_id=first.generation_id or 0)
    rerolled = await history.get_generation(generation_id=again.generation_id or 0)
    assert original is not None and rerolled is not None
    assert rerolled.prompt == original.prompt and rerolled.parent_id == original.id
    assert rerolled.images[0].seed != original.images[0].seed


async def test_vary_links_to_its_source(harness: Harness) -> None:
    """/vary #id makes a variation of that generation."""
    first = await harness.last("/imagine a lighthouse")
    varied = await harness.last(f"/vary #{first.generation_id}")
    record = await harness.easel.history.get_generation(generation_id=varied.generation_id or 0)
    assert record is not None and record.kind == GenerationKind.VARY
    assert record.parent_id == first.generation_id


async def test_reroll_of_unknown_id_is_not_found(harness: Harness) -> None:
    """/reroll #999 names the missing image."""
    reply = await harness.last("/reroll #999")
    assert reply.is_error and "#999" in reply.text


async def test_other_chats_images_are_not_reachable(harness: Harness) -> None:
    """A generation id from another chat cannot be rerolled here."""
    theirs = await harness.last("/imagine a secret", chat="other")
    reply = await harness.last(f"/reroll #{theirs.generation_id}")
    assert reply.is_error


async def test_history_lists_lineage_newest_first(harness: Harness) -> None:
    """/history shows the edit as an edit of the first image, newest first."""
    first = await harness.last("/imagine a red fox")
    edit = await harness.last("make it darker")
    text = (await harness.last("/history")).text
    assert text.index(f"#{edit.generation_id}") < text.index(f"#{first.generation_id} ·")
    assert f"edit of #{first.generation_id}" in text


async def test_bad_flag_answers_and_records_nothing(harness: Harness) -> None:
    """--n 99 is refused with a message and no generation is created."""
    reply = await harness.last("/imagine a fox --n 99")
    assert reply.is_error and "--n" in reply.text
    assert await harness.easel.history.list_generations(chat_id=await harness.chat_id()) == []


async def test_chat_settings_apply_to_new_images(harness: Harness) -> None:
    """/settings aspect 16:9 makes later images 16:9."""
    await harness.say("/settings aspect 16:9", is_admin=True)
    image = (await harness.last("/imagine a beach")).images[0]
    assert image.width > image.height
    assert abs(image.width / image.height - 16 / 9) < 0.1


async def test_unknown_setting_is_explained(harness: Harness) -> None:
    """/settings colour blue names the known settings."""
    reply = await harness.last("/settings colour blue", is_admin=True)
    assert reply.is_error and "aspect" in reply.text


async def test_status_counts_todays_images(harness: Harness) -> None:
    """/status reports the user's image count for today."""
    await harness.say("/imagine a fox --n 2")
    text = (await harness.last("/status")).text
    assert "today: 2" in text and "builtin" in text


@pytest.mark.easel(providers=lambda: [ScriptedProvider("p", errors=[Refused("policy", provider="p")])])
async def test_provider_refusal_fails_generation_with_reason(harness: Harness) -> None:
    """A refusal is recorded on the generation and told to the user."""
    reply = await harness.last("/imagine something")
    assert reply.is_error
    assert isinstance(harness.platform.events[-1][1], Failed)
    record = await harness.easel.history.get_generation(generation_id=reply.generation_id or 0)
    assert record is not None and record.status == GenerationStatus.FAILED
    assert "policy" in (record.error or "")


@pytest.mark.easel(providers=lambda: [ScriptedProvider("p", errors=[RuntimeError("bug")])])
async def test_unexpected_error_is_reported_not_raised(harness: Harness) -> None:
    """A bug in a provider becomes a polite reply and a failed generation, not a crash."""
    reply = await harness.last("/imagine something")
    assert reply.text == UNEXPECTED
    record = await harness.easel.history.get_generation(generation_id=reply.generation_id or 0)
    assert record is not None and record.status == GenerationStatus.FAILED


@pytest.mark.easel(providers=lambda: [ScriptedProvider("slow", delay_s=30)])
async def test_cancel_stops_running_generation(harness: Harness) -> None:
    """/cancel stops a running request in the same chat and marks it cancelled."""
    job_id = await harness.easel.service.handle(harness.message("/imagine a slow thing"))
    assert job_id is not None
    await harness.platform.wait_for_event(Started, job_id)
    cancel = await harness.last("/cancel")
    await harness.easel.queue.wait_for(job_id)
    assert "Cancelled 1" in cancel.text
    assert isinstance(harness.platform.events[-1][1], Failed)
    records = await harness.easel.history.list_generations(chat_id=await harness.chat_id())
    assert records[0].status == GenerationStatus.CANCELLED


async def test_help_lists_commands(harness: Harness) -> None:
    """/help answers with the command list."""
    text = (await harness.last("/help")).text
    assert "/imagine" in text and "/edit" in text and "--ar" in text


async def test_seed_zero_is_kept(harness: Harness) -> None:
    """--seed 0 is a real seed, not "no seed"."""
    reply = await harness.last("/imagine a fox --seed 0")
    assert reply.images[0].seed == 0
