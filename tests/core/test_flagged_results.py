"""A result the provider flags (Stability's HTTP-200 ``CONTENT_FILTERED``, a blurred image) under the
chat's content policy: refused under ``safe``, sent as a spoiler with a note under ``spoiler`` and ``off``,
and still sent hidden when it is delivered from storage after a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage
from pydantic import SecretStr
from sqlalchemy import delete, update

from bot.app import open_easel
from bot.core.content.policy import (
    FLAGGED_KEY,
    SPOILER_KEY,
    content_entry,
    recorded_as_spoiler,
    screen,
    shown_as_spoiler,
)
from bot.core.errors import Refused
from bot.core.types import GenerationResult, Image, JobStatus, Reply, StoredImage
from bot.providers._http.client import make_client
from bot.providers.settings import DiffusionSettings
from bot.providers.stability import create
from bot.storage.tables import DeliveryRow, JobRow
from tests.core.conftest import Harness, easel_settings
from tests.fakes.clock import FixedClock
from tests.fakes.platform import RecordingPlatform
from tests.fakes.providers.stability import FakeStability
from tests.fakes.scripted import ScriptedProvider

KEY = "sk-stab-0123456789abcdef"
NOTE = "Stability flagged this image; it is shown blurred."
BLURRED = (128, 128, 128)


def is_the_blurred_image(stored: StoredImage) -> bool:
    """The fake's filtered image: flat grey (an unfiltered one takes its colour from the seed)."""
    with PILImage.open(stored.path) as img:
        return img.convert("RGB").getpixel((0, 0)) == BLURRED


@pytest.fixture
async def fake() -> AsyncIterator[FakeStability]:
    async with FakeStability(api_key=KEY) as server:
        yield server


@pytest.fixture
async def harness(db_url: str, tmp_path: Path, fake: FakeStability) -> AsyncIterator[Harness]:
    """A whole Easel whose only provider is stability against the Stability fake."""
    settings = DiffusionSettings(base_url=fake.base_url, api_key=SecretStr(KEY))
    client = make_client(settings, default_timeout_s=5.0)
    providers = [create(settings, client=client)]
    platform, clock = RecordingPlatform(), FixedClock()
    try:
        async with open_easel(
            easel_settings(db_url, tmp_path / "media"),
            platforms={"test": platform},
            clock=clock,
            providers_override=providers,
        ) as easel:
            yield Harness(easel, platform, clock, tmp_path / "media", providers)
    finally:
        await client.aclose()


async def flagged_under_off(harness: Harness, fake: FakeStability) -> Reply:
    """A flagged lighthouse made under /settings policy off (sent hidden)."""
    await harness.say("/settings policy off", is_admin=True)
    fake.filter_next()
    return await harness.last("/imagine a lighthouse")


async def test_under_safe_a_flagged_result_is_refused(harness: Harness, fake: FakeStability) -> None:
    """Policy safe (the default): a CONTENT_FILTERED image is not sent; the refusal says why."""
    fake.filter_next()
    reply = await harness.last("/imagine a lighthouse")
    assert reply.is_error and not reply.images
    assert "Stability flagged this image" in reply.text and "/settings policy spoiler" in reply.text


async def test_under_safe_the_refusal_is_listed_with_what_providers_refused(
    harness: Harness, fake: FakeStability
) -> None:
    """ "/ban refused" lists the flagged result as refused by the provider."""
    fake.filter_next()
    await harness.say("/imagine a lighthouse at night")
    text = (await harness.last("/ban refused", is_admin=True)).text
    assert "refused by the provider · a lighthouse at night" in text


@pytest.mark.parametrize("policy", ["spoiler", "off"])
async def test_a_flagged_result_is_sent_as_a_spoiler_with_a_note(
    harness: Harness, fake: FakeStability, policy: str
) -> None:
    """Policy spoiler or off: the blurred image is sent hidden, with the note that it was flagged."""
    await harness.say(f"/settings policy {policy}", is_admin=True)
    fake.filter_next()
    reply = await harness.last("/imagine a lighthouse")
    assert reply.images and reply.spoiler and NOTE in reply.notes
    assert is_the_blurred_image(reply.images[0])


async def test_under_off_an_unflagged_result_is_not_hidden(harness: Harness) -> None:
    """Policy off, nothing flagged: the image is sent as it is, without the note."""
    await harness.say("/settings policy off", is_admin=True)
    reply = await harness.last("/imagine a lighthouse")
    assert reply.images and not reply.spoiler and NOTE not in reply.notes


async def test_the_flag_is_stored_with_the_generation(harness: Harness, fake: FakeStability) -> None:
    """The generation read back from the database says one of its images was flagged."""
    await harness.say("/settings policy off", is_admin=True)
    fake.filter_next()
    reply = await harness.last("/imagine a lighthouse")
    assert reply.generation_id is not None
    record = await harness.easel.history.get_generation(generation_id=reply.generation_id)
    assert record is not None and record.params[FLAGGED_KEY] == 1


async def test_a_flagged_result_delivered_after_a_restart_is_still_hidden(
    db_url: str, tmp_path: Path, harness: Harness, fake: FakeStability
) -> None:
    """Generated under off, not yet delivered when Easel stops: the next start sends it as a spoiler."""
    await harness.say("/settings policy off", is_admin=True)
    fake.filter_next()
    job_id = await harness.easel.service.handle(harness.message("/imagine a lighthouse"))
    assert job_id is not None
    await harness.easel.queue.wait_for(job_id)
    async with harness.easel.engine.begin() as conn:  # as if the process had died before sending
        await conn.execute(update(JobRow).where(JobRow.id == job_id).values(status=JobStatus.GENERATED.value))
        await conn.execute(delete(DeliveryRow).where(DeliveryRow.job_id == job_id))
    platform = RecordingPlatform()
    async with open_easel(
        easel_settings(db_url, tmp_path / "media"),
        platforms={"test": platform},
        providers_override=[ScriptedProvider("other")],  # nothing is generated again
    ) as easel:
        await easel.queue.wait_for(job_id)
        job = await easel.jobs.get_job(job_id=job_id)
    [reply] = platform.replies
    assert job is not None and job.status == JobStatus.DONE
    assert reply.spoiler and NOTE in reply.notes and is_the_blurred_image(reply.images[0])


# ------------------------------------------------------------------------------------------- units


def result(*flags: bool, provider: str = "stability") -> GenerationResult:
    images = tuple(Image(b"x", "image/png", 8, 8, provider=provider, flagged=f) for f in flags)
    return GenerationResult(images=images, provider=provider, model=None)


def payload(policy: str | None) -> dict[str, Any]:
    return {"content": {"policy": policy}} if policy is not None else {}


def test_a_job_without_a_policy_refuses_a_flagged_result() -> None:
    """A job queued before policies existed is screened as safe."""
    with pytest.raises(Refused):
        screen(result(True), payload(None))


def test_the_note_counts_the_flagged_images() -> None:
    """Two of three flagged under off: one note that says two."""
    notes = screen(result(True, False, True), payload("off")).notes
    assert notes == ("Stability flagged 2 of these images; they are shown blurred.",)


def test_nothing_flagged_leaves_the_result_as_it_is() -> None:
    """No flagged image: the same result, even under safe."""
    made = result(False)
    assert screen(made, payload("safe")) is made


def test_shown_as_spoiler_reads_the_stored_flag() -> None:
    """Under off, the generation's params decide; a malformed flag is not a flag."""
    assert shown_as_spoiler(payload("off"), {FLAGGED_KEY: 1})
    assert not shown_as_spoiler(payload("off"), {FLAGGED_KEY: "yes"})
    assert not shown_as_spoiler(payload("off"), {})


async def test_an_upscale_of_a_flagged_image_is_hidden_too(harness: Harness, fake: FakeStability) -> None:
    """Policy off: the upscaled blurred picture (Lanczos: its own pixels) goes out as a spoiler."""
    first = await flagged_under_off(harness, fake)
    up = await harness.last(f"/upscale #{first.generation_id}")
    assert up.images and up.spoiler and up.generation_id is not None
    assert "It was made from a picture its provider flagged; it is shown blurred." in up.notes
    record = await harness.easel.history.get_generation(generation_id=up.generation_id)
    assert record is not None and record.params[FLAGGED_KEY] == 1


async def test_an_upscale_of_a_flagged_image_is_refused_once_the_chat_is_safe(
    harness: Harness, fake: FakeStability
) -> None:
    """Made under off, upscaled after /settings policy safe: refused, and the refusal says why."""
    first = await flagged_under_off(harness, fake)
    await harness.say("/settings policy safe", is_admin=True)
    up = await harness.last(f"/upscale #{first.generation_id}")
    assert up.is_error and not up.images and "made from one its provider flagged" in up.text


def test_an_upscale_inherits_the_flag_of_its_source() -> None:
    """screen with the source's params: every upscaled image flagged, the note names the source."""
    screened = screen(result(False, provider="lanczos"), payload("spoiler"), {FLAGGED_KEY: 1})
    assert all(image.flagged for image in screened.images)
    assert screened.notes == ("It was made from a picture its provider flagged; it is shown blurred.",)


def test_a_generation_records_how_it_was_shown() -> None:
    """content_entry: the flagged count, and spoiler when the chat's policy hid every result."""
    flagged = result(True, False).images
    assert content_entry(flagged, payload("off")) == {FLAGGED_KEY: 1}
    assert content_entry(result(False).images, payload("spoiler")) == {SPOILER_KEY: True}
    assert content_entry(result(False).images, payload("safe")) == {}
    assert recorded_as_spoiler({SPOILER_KEY: True}) and not recorded_as_spoiler({SPOILER_KEY: "yes"})


async def test_an_edit_of_a_flagged_image_is_hidden_too(harness: Harness, fake: FakeStability) -> None:
    """Policy off: an edit that starts from the blurred picture goes out as a spoiler, flagged."""
    first = await flagged_under_off(harness, fake)
    edit = await harness.last(f"/edit #{first.generation_id} make it warmer")
    assert edit.images and edit.spoiler and edit.generation_id is not None
    record = await harness.easel.history.get_generation(generation_id=edit.generation_id)
    assert record is not None and record.params[FLAGGED_KEY] == 1


async def test_a_variation_of_a_flagged_image_is_refused_once_the_chat_is_safe(
    harness: Harness, fake: FakeStability
) -> None:
    """Made under off, varied after /settings policy safe: refused, and the refusal says why."""
    first = await flagged_under_off(harness, fake)
    await harness.say("/settings policy safe", is_admin=True)
    vary = await harness.last(f"/vary #{first.generation_id}")
    assert vary.is_error and not vary.images and "made from one its provider flagged" in vary.text
