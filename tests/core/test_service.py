"""The service end to end on a real database and media directory, with in-process providers."""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image as PILImage
from PIL import ImageStat

from bot.core.chain import ProviderChain
from bot.core.errors import Refused
from bot.core.ports import Provider
from bot.core.requests import Defaults
from bot.core.router import Router, RouterConfig
from bot.core.service import UNEXPECTED, EaselService
from bot.core.types import SQUARE, Attachment, Failed, GenerationKind, GenerationStatus, Incoming
from bot.providers.builtin import BuiltinProvider
from bot.storage import migrate
from bot.storage.artifacts import FileArtifactStore
from bot.storage.db import make_engine
from bot.storage.repos import SqlHistoryStore
from tests.fakes.clock import FixedClock
from tests.fakes.providers import ScriptedProvider
from tests.fakes.responder import RecordingResponder


@dataclass
class Harness:
    service: EaselService
    history: SqlHistoryStore
    media: Path

    async def say(
        self, text: str, *, chat: str = "c1", user: str = "u1", **extra: object
    ) -> RecordingResponder:
        responder = RecordingResponder()
        message = Incoming(platform="test", chat_id=chat, user_id=user, display_name=user, text=text, **extra)  # type: ignore[arg-type]
        await self.service.handle(message, responder)
        return responder

    async def chat_id(self, chat: str = "c1") -> int:
        return await self.history.upsert_chat(platform="test", external_id=chat)


ProviderFactory = Callable[[], Sequence[Provider]]


@pytest.fixture
def providers(request: pytest.FixtureRequest) -> Sequence[Provider]:
    """The offline renderer, or a fresh set from the test's ``providers`` parameter (a factory)."""
    factory: ProviderFactory | None = getattr(request, "param", None)
    return factory() if factory else [BuiltinProvider(long_side=96)]


@pytest.fixture
async def harness(db_url: str, tmp_path: Path, providers: Sequence[Provider]) -> AsyncIterator[Harness]:
    await migrate.upgrade(db_url)
    engine = make_engine(db_url)
    history = SqlHistoryStore(engine)
    service = EaselService(
        router=Router(RouterConfig(max_prompt_chars=200, max_images=4)),
        history=history,
        artifacts=FileArtifactStore(tmp_path / "media"),
        chain=ProviderChain(providers, timeout_s=30),
        clock=FixedClock(),
        defaults=Defaults(aspect=SQUARE, max_images=4),
        rng=random.Random(1),
    )
    try:
        yield Harness(service, history, tmp_path / "media")
    finally:
        await engine.dispose()


def red_blue_ratio(path: Path) -> float:
    with PILImage.open(path) as img:
        mean = ImageStat.Stat(img.convert("RGB")).mean
    return mean[0] / max(mean[2], 1.0)


async def test_imagine_saves_images_and_records_generation(harness: Harness) -> None:
    """/imagine replies with stored images and a done generation row."""
    reply = (await harness.say("/imagine a red fox --n 2 --seed 7")).last
    assert not reply.is_error and len(reply.images) == 2
    assert all(image.path.is_file() and image.path.is_relative_to(harness.media) for image in reply.images)
    record = await harness.history.get_generation(generation_id=reply.generation_id or 0)
    assert record is not None and record.status == GenerationStatus.DONE
    assert [image.seed for image in record.images] == [7, 8]


async def test_free_text_edit_changes_last_image_and_records_lineage(harness: Harness) -> None:
    """'make it warmer' edits the chat's last image, warmer, with parent_id set."""
    first = (await harness.say("/imagine a misty lake --seed 3")).last
    edit = (await harness.say("make it warmer")).last
    record = await harness.history.get_generation(generation_id=edit.generation_id or 0)
    assert record is not None and record.kind == GenerationKind.EDIT
    assert record.parent_id == first.generation_id
    assert red_blue_ratio(edit.images[0].path) > red_blue_ratio(first.images[0].path)


async def test_edit_like_text_without_image_is_a_new_prompt(harness: Harness) -> None:
    """With nothing to edit yet, 'make it warmer' becomes a prompt rather than an error."""
    reply = (await harness.say("make it warmer")).last
    record = await harness.history.get_generation(generation_id=reply.generation_id or 0)
    assert record is not None and record.kind == GenerationKind.GENERATE


async def test_edit_command_without_image_explains(harness: Harness) -> None:
    """/edit with no image anywhere tells the user how to get one."""
    reply = (await harness.say("/edit make it warmer")).last
    assert reply.is_error and "/imagine" in reply.text


async def test_edit_of_attached_non_image_is_refused_clearly(harness: Harness) -> None:
    """A text file sent for editing gets a clear answer and no generation."""
    attachment = Attachment(data=b"hello, not an image", filename="notes.txt")
    reply = (await harness.say("/edit brighter", attachments=(attachment,))).last
    assert reply.is_error and "not an image" in reply.text
    assert await harness.history.list_generations(chat_id=await harness.chat_id()) == []


async def test_edit_of_attached_photo_has_no_parent(harness: Harness) -> None:
    """An uploaded photo is edited directly and the generation has no parent."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 30), (90, 120, 160)).save(buffer, format="PNG")
    reply = (await harness.say("/edit black and white", attachments=(Attachment(buffer.getvalue()),))).last
    record = await harness.history.get_generation(generation_id=reply.generation_id or 0)
    assert record is not None and record.kind == GenerationKind.EDIT and record.parent_id is None


async def test_reroll_uses_same_prompt_with_new_seed(harness: Harness) -> None:
    """/reroll repeats the last prompt with a different seed, linked to it."""
    first = (await harness.say("/imagine a lighthouse --seed 11")).last
    again = (await harness.say("/reroll")).last
    original = await harness.history.get_generation(generation_id=first.generation_id or 0)
    rerolled = await harness.history.get_generation(generation_id=again.generation_id or 0)
    assert original is not None and rerolled is not None
    assert rerolled.prompt == original.prompt and rerolled.parent_id == original.id
    assert rerolled.images[0].seed != original.images[0].seed


async def test_vary_links_to_its_source(harness: Harness) -> None:
    """/vary #id makes a variation of that generation."""
    first = (await harness.say("/imagine a lighthouse")).last
    varied = (await harness.say(f"/vary #{first.generation_id}")).last
    record = await harness.history.get_generation(generation_id=varied.generation_id or 0)
    assert (
        record is not None and record.kind == GenerationKind.VARY and record.parent_id == first.generation_id
    )


async def test_reroll_of_unknown_id_is_not_found(harness: Harness) -> None:
    """/reroll #999 names the missing image."""
    reply = (await harness.say("/reroll #999")).last
    assert reply.is_error and "#999" in reply.text


async def test_other_chats_images_are_not_reachable(harness: Harness) -> None:
    """A generation id from another chat cannot be rerolled here."""
    theirs = (await harness.say("/imagine a secret", chat="other")).last
    reply = (await harness.say(f"/reroll #{theirs.generation_id}")).last
    assert reply.is_error


async def test_history_lists_lineage_newest_first(harness: Harness) -> None:
    """/history shows the edit as an edit of the first image, newest first."""
    first = (await harness.say("/imagine a red fox")).last
    edit = (await harness.say("make it darker")).last
    text = (await harness.say("/history")).last.text
    assert text.index(f"#{edit.generation_id}") < text.index(f"#{first.generation_id} ·")
    assert f"edit of #{first.generation_id}" in text


async def test_bad_flag_answers_and_records_nothing(harness: Harness) -> None:
    """--n 99 is refused with a message and no generation is created."""
    reply = (await harness.say("/imagine a fox --n 99")).last
    assert reply.is_error and "--n" in reply.text
    assert await harness.history.list_generations(chat_id=await harness.chat_id()) == []


async def test_chat_settings_apply_to_new_images(harness: Harness) -> None:
    """/settings aspect 16:9 makes later images 16:9."""
    await harness.say("/settings aspect 16:9")
    reply = (await harness.say("/imagine a beach")).last
    image = reply.images[0]
    assert image.width > image.height
    assert abs(image.width / image.height - 16 / 9) < 0.1


async def test_unknown_setting_is_explained(harness: Harness) -> None:
    """/settings colour blue names the known settings."""
    reply = (await harness.say("/settings colour blue")).last
    assert reply.is_error and "aspect" in reply.text


async def test_status_counts_todays_images(harness: Harness) -> None:
    """/status reports the user's image count for today."""
    await harness.say("/imagine a fox --n 2")
    text = (await harness.say("/status")).last.text
    assert "today: 2" in text and "builtin" in text


@pytest.mark.parametrize(
    "providers", [lambda: [ScriptedProvider("p", errors=[Refused("policy", provider="p")])]], indirect=True
)
async def test_provider_refusal_fails_generation_with_reason(harness: Harness) -> None:
    """A refusal is recorded on the generation and told to the user."""
    responder = await harness.say("/imagine something")
    assert responder.last.is_error
    assert isinstance(responder.events[-1], Failed)
    record = await harness.history.get_generation(generation_id=responder.last.generation_id or 0)
    assert (
        record is not None and record.status == GenerationStatus.FAILED and "policy" in (record.error or "")
    )


@pytest.mark.parametrize(
    "providers", [lambda: [ScriptedProvider("p", errors=[RuntimeError("bug")])]], indirect=True
)
async def test_unexpected_error_is_reported_not_raised(harness: Harness) -> None:
    """A bug in a provider becomes a polite reply and a failed generation, not a crash."""
    reply = (await harness.say("/imagine something")).last
    assert reply.text == UNEXPECTED
    record = await harness.history.get_generation(generation_id=reply.generation_id or 0)
    assert record is not None and record.status == GenerationStatus.FAILED


@pytest.mark.parametrize("providers", [lambda: [ScriptedProvider("slow", delay_s=30)]], indirect=True)
async def test_cancel_stops_running_generation(harness: Harness) -> None:
    """/cancel stops a running request in the same chat and marks it cancelled."""
    running = asyncio.create_task(harness.say("/imagine a slow thing"))
    for _ in range(100):
        await asyncio.sleep(0.01)
        if await harness.history.list_generations(chat_id=await harness.chat_id()):
            break
    cancel = (await harness.say("/cancel")).last
    responder = await running
    assert "Cancelled 1" in cancel.text
    assert isinstance(responder.events[-1], Failed)
    records = await harness.history.list_generations(chat_id=await harness.chat_id())
    assert records[0].status == GenerationStatus.CANCELLED


async def test_help_lists_commands(harness: Harness) -> None:
    """/help answers with the command list."""
    text = (await harness.say("/help")).last.text
    assert "/imagine" in text and "/edit" in text and "--ar" in text
