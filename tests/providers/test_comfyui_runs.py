"""comfyui against a fake that behaves as the real server (issue 17, items 9-17): other clients' runs,
the cache, batches, dropped outputs, the end of a run, a cleared queue, a frozen server."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.core.errors import InvalidRequest, TooLarge, Unavailable
from bot.core.generation.chain import ProviderChain
from bot.core.generation.resilience import RetryPolicy
from bot.core.types import GenerationKind, Image, ImageRequest
from bot.providers.comfyui.provider import ComfyUIProvider
from bot.providers.comfyui.settings import ComfyUISettings
from tests.fakes.providers.comfyui import FakeComfyUI, make_png
from tests.fakes.providers.harness import Progress

MakeProvider = Callable[..., ComfyUIProvider]
MB = 1024 * 1024


def blank(batch: int = 1, steps: int = 0, seconds: float = 0.01, text: str = "{{prompt}}") -> dict[str, Any]:
    """A model-free workflow: EmptyImage → (EaselSteps) → SaveImage, prefix carrying the prompt."""
    workflow: dict[str, Any] = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 64, "height": 48, "batch_size": batch, "color": 99},
        },
        "9": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": text}},
    }
    if steps:
        workflow["2"] = {
            "class_type": "EaselSteps",
            "inputs": {"image": ["1", 0], "steps": steps, "seconds": seconds},
        }
        workflow["9"]["inputs"]["images"] = ["2", 0]
    return workflow


@pytest.fixture
async def fake() -> AsyncIterator[FakeComfyUI]:
    async with FakeComfyUI() as server:
        yield server


@pytest.fixture
async def make_provider(fake: FakeComfyUI, tmp_path: Path) -> AsyncIterator[MakeProvider]:
    made: list[ComfyUIProvider] = []
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:

        def build(workflow: Any = None, edit_workflow: Any = None, **fields: Any) -> ComfyUIProvider:
            fields.setdefault("base_url", fake.base_url)
            for key, document in (("workflow", workflow), ("edit_workflow", edit_workflow)):
                if document is not None:
                    path = tmp_path / f"{key}-{len(made)}.json"
                    path.write_text(json.dumps(document))
                    fields[key] = path
            knobs = {k: fields.pop(k) for k in ("watch_s", "heartbeat_s", "side_timeout_s") if k in fields}
            provider = ComfyUIProvider(
                ComfyUISettings(**fields), client=client, poll_interval_s=0.01, **knobs
            )
            made.append(provider)
            return provider

        yield build
        for provider in made:
            await provider.aclose()


async def generate(
    provider: ComfyUIProvider, prompt: str = "fox", progress: Progress | None = None, **fields: Any
) -> list[Image]:
    return await provider.generate(ImageRequest(prompt, **fields), on_progress=progress or Progress())


async def wait_until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(3.0):
        while not condition():  # noqa: ASYNC110 - the fake runs in this loop; polling it is cheap
            await asyncio.sleep(0.005)


# ------------------------------------------------------------------------------ 9: other clients' runs


@pytest.mark.parametrize("metadata", [True, False], ids=["preview-metadata", "legacy-server"])
async def test_another_clients_previews_are_not_shown(
    fake: FakeComfyUI, make_provider: MakeProvider, metadata: bool
) -> None:
    """A run queued by someone else without a client id is broadcast; none of its previews are ours."""
    fake.preview_metadata = metadata
    await fake.queue_prompt(blank(steps=6, text="theirs"))
    progress = Progress()
    await generate(make_provider(workflow=blank(steps=2)), progress=progress)
    assert len([p for p in progress.previews if p is not None]) == 2


async def test_feature_flags_are_sent(fake: FakeComfyUI, make_provider: MakeProvider) -> None:
    """The socket says supports_preview_metadata first, so our previews carry our prompt_id."""
    fake.step_s = 0.02
    task = asyncio.create_task(generate(make_provider()))
    await wait_until(lambda: bool(fake.features) and fake.executor.running is not None)
    assert list(fake.features.values()) == [{"supports_preview_metadata": True}]
    await task


# ------------------------------------------------------------------------------------- 10: batches


async def test_a_batch_workflow_gives_only_what_was_asked(
    fake: FakeComfyUI, make_provider: MakeProvider
) -> None:
    """EmptyImage batch_size 3 makes three files; one image was asked for, one comes back."""
    images = await generate(make_provider(workflow=blank(batch=3)))
    assert len(fake.served) == 3 and len(images) == 1


# ------------------------------------------------------------------------------------- 11: the cache


async def test_prompt_id_is_chosen_by_the_client(fake: FakeComfyUI, make_provider: MakeProvider) -> None:
    """/prompt carries our own prompt_id, and the server runs it under that id."""
    await generate(make_provider())
    assert fake.prompts[0]["prompt_id"] == fake.prompt_ids[0]


async def test_cached_result_with_deleted_file_is_made_again(
    fake: FakeComfyUI, make_provider: MakeProvider
) -> None:
    """An identical prompt whose cached output file was deleted: POST /free, one resubmit, an image."""
    provider = make_provider(workflow=blank())
    await generate(provider)
    fake.delete_outputs()
    [image] = await generate(provider)
    assert fake.frees == [{"free_memory": True}] and len(fake.prompts) == 3
    assert image.data == fake.served[-1]


async def test_cache_that_cannot_be_freed_is_a_clear_error(
    fake: FakeComfyUI, make_provider: MakeProvider
) -> None:
    """If the resubmitted prompt is cached again, the error says so and is not retried."""
    provider = make_provider(workflow=blank())
    await generate(provider)
    fake.delete_outputs()
    fake.ignore_free = True
    with pytest.raises(InvalidRequest) as caught:
        await generate(provider)
    assert "earlier result" in caught.value.user_message and len(fake.prompts) == 3


async def test_identical_images_are_pointed_out(fake: FakeComfyUI, make_provider: MakeProvider) -> None:
    """--n 2 with a workflow that ignores the seed: two identical images, and a note says so."""
    chain = ProviderChain(
        [make_provider(workflow=blank())], timeout_s=10, retry=RetryPolicy(retries=0, attempt_timeout_s=5)
    )
    result = await chain.generate(ImageRequest("fox", n=2), on_progress=Progress())
    assert result.images[0].data == result.images[1].data
    assert any("identical" in note for note in result.notes)


# ----------------------------------------------------------------------------------- 12: too large


async def test_an_output_over_32_mib_is_too_large(fake: FakeComfyUI, make_provider: MakeProvider) -> None:
    """A 33 MiB output is TooLarge (not retried, 'too large'), fetched once."""
    fake.output_padding = 33 * MB
    with pytest.raises(TooLarge) as caught:
        await generate(make_provider(workflow=blank()))
    assert "too large" in caught.value.user_message
    assert sum(r.path == "/view" for r in fake.requests) == 1


# --------------------------------------------------------------------------- 13: a cleared queue


@pytest.mark.parametrize("websocket", [True, False], ids=["websocket", "polling"])
async def test_a_prompt_removed_by_someone_else_fails_at_once(
    fake: FakeComfyUI, make_provider: MakeProvider, websocket: bool
) -> None:
    """Queued behind another run, our prompt is cleared from the queue: a clear error, not a long wait."""
    fake.websocket = websocket
    await fake.queue_prompt(blank(steps=200, text="theirs"))
    task = asyncio.create_task(generate(make_provider(workflow=blank(), watch_s=0.05)))
    await wait_until(lambda: len(fake.prompt_ids) == 2)
    fake.executor.wipe()
    started = time.monotonic()
    with pytest.raises(InvalidRequest) as caught:
        await asyncio.wait_for(task, 2.0)
    assert "removed from the ComfyUI queue" in caught.value.user_message and time.monotonic() - started < 1.0


# ----------------------------------------------------------------------- 15: outputs dropped at /prompt


async def test_dropped_outputs_are_reported(
    fake: FakeComfyUI, make_provider: MakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """A 200 whose node_errors drop one output: the image comes from the other, the drop is logged."""
    workflow = blank()
    workflow["5"] = {"class_type": "LoadImage", "inputs": {"image": "gone.png"}}
    workflow["6"] = {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "x"}}
    with caplog.at_level(logging.WARNING, logger="bot.providers.comfyui"):
        [image] = await generate(make_provider(workflow=workflow))
    assert image.data == fake.served[0]
    assert "dropped" in caplog.text and "node 5 (LoadImage)" in caplog.text and "gone.png" in caplog.text


# ------------------------------------------------------------------------------- 16: the end of a run


async def test_the_run_ends_on_executing_null(fake: FakeComfyUI, make_provider: MakeProvider) -> None:
    """With the history written a while after execution_success, it is read once, when it is there."""
    fake.history_delay_s = 0.1
    [image] = await generate(make_provider(workflow=blank()))
    assert image.data == fake.served[0]
    assert sum(r.path.startswith("/history/") for r in fake.requests) == 1


# ------------------------------------------------------------------------------ 17: a frozen server


async def test_a_frozen_server_is_noticed_and_our_prompt_deleted(
    fake: FakeComfyUI, make_provider: MakeProvider
) -> None:
    """SIGSTOP mid-run: the heartbeat notices within a second; when it wakes, our prompt is stopped."""
    provider = make_provider(workflow=blank(steps=50, seconds=0.02), heartbeat_s=0.2, side_timeout_s=0.3)
    task = asyncio.create_task(generate(provider))
    await wait_until(lambda: fake.executor.running is not None)
    fake.freeze()
    started = time.monotonic()
    with pytest.raises(Unavailable):
        await asyncio.wait_for(task, 3.0)
    assert time.monotonic() - started < 1.0
    fake.thaw()
    [ours] = fake.prompt_ids
    await wait_until(lambda: ours in fake.history)
    assert fake.deleted == [ours] and fake.history[ours]["status"]["status_str"] == "error"


async def test_a_run_cancelled_before_the_server_answers_is_taken_off_its_queue(
    fake: FakeComfyUI, make_provider: MakeProvider
) -> None:
    """Cancelled while /prompt is queued but unanswered: the prompt (our own id) is deleted, never run."""
    await fake.queue_prompt(blank(steps=100, text="theirs"))
    fake.prompt_answer_delay_s = 5.0
    task = asyncio.create_task(generate(make_provider(workflow=blank())))
    await wait_until(lambda: len(fake.prompt_ids) == 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    ours = fake.prompt_ids[1]
    assert ours in fake.deleted and all(job.prompt_id != ours for job in fake.executor.queue)


async def test_stop_names_our_prompt(fake: FakeComfyUI, make_provider: MakeProvider) -> None:
    """A cancelled run is stopped by its prompt_id: another client's running prompt is not interrupted."""
    theirs = await fake.queue_prompt(blank(steps=100, text="theirs"))
    task = asyncio.create_task(generate(make_provider(workflow=blank())))
    await wait_until(lambda: len(fake.prompt_ids) == 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    interrupts = [r.json for r in fake.requests if r.path == "/interrupt"]
    assert interrupts == [{"prompt_id": fake.prompt_ids[1]}] and fake.interrupts == 0
    assert fake.executor.running is not None and fake.executor.running.prompt_id == theirs


# --------------------------------------------------------------------- 18: generation and edit workflows


def edit_blank() -> dict[str, Any]:
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "edit"}},
    }


async def test_separate_generation_and_edit_workflows(fake: FakeComfyUI, make_provider: MakeProvider) -> None:
    """workflow makes new images, edit_workflow edits: both offered, each runs its own graph."""
    provider = make_provider(workflow=blank(), edit_workflow=edit_blank())
    assert provider.capabilities.edit is True
    await generate(provider)
    reference = make_png(40, 30, (200, 10, 10))
    request = ImageRequest("make it warmer", kind=GenerationKind.EDIT, reference_images=(reference,))
    [edited] = await provider.generate(request, on_progress=Progress())
    assert fake.prompts[0]["prompt"]["1"]["class_type"] == "EmptyImage"
    assert fake.prompts[1]["prompt"]["1"]["class_type"] == "LoadImage" and (edited.width, edited.height) == (
        40,
        30,
    )


def test_a_single_generation_workflow_offers_no_edits(make_provider: MakeProvider) -> None:
    """workflow alone without {{image}} (the documented single key): no edits are offered."""
    assert make_provider(workflow=blank()).capabilities.edit is False
