"""The comfyui provider's scenarios against a real ComfyUI (opt-in) and against the fake (always).

A real server is used when ``EASEL_TEST_COMFYUI_URL`` names one set up by
``deploy/comfyui-cpu-setup.sh`` (CPU torch, no models, the EaselSteps node); without it those cases
are skipped with that reason. The same model-free workflows run on both, so a scenario that passes
on the fake and fails on the real server shows where the fake is wrong.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.core.errors import InvalidRequest
from bot.core.types import GenerationKind, ImageRequest
from bot.providers.comfyui.provider import ComfyUIProvider
from bot.providers.comfyui.settings import ComfyUISettings
from tests.fakes.providers.comfyui import FakeComfyUI, make_png
from tests.fakes.providers.harness import Progress

REAL_URL = os.environ.get("EASEL_TEST_COMFYUI_URL", "").rstrip("/")
SERVERS = [
    "fake",
    pytest.param(
        "real",
        marks=pytest.mark.skipif(
            not REAL_URL, reason="EASEL_TEST_COMFYUI_URL is not set (deploy/comfyui-cpu-setup.sh starts one)"
        ),
    ),
]


def generation(steps: int = 3, seconds: float = 0.05, batch: int = 1, fail_at: int = 0) -> dict[str, Any]:
    """EmptyImage → EaselSteps (a new seed each run: never answered from the cache) → SaveImage."""
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 64, "height": 48, "batch_size": batch, "color": 4242},
        },
        "2": {
            "class_type": "EaselSteps",
            "inputs": {
                "image": ["1", 0],
                "steps": steps,
                "seconds": seconds,
                "fail_at": fail_at,
                "seed": "{{seed}}",
            },
        },
        "9": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "easel-test/run"}},
    }


EDIT = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
    "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
    "9": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "easel-test/edit"}},
}


@pytest.fixture(params=SERVERS)
async def base_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if request.param == "real":
        yield REAL_URL
        return
    async with FakeComfyUI() as fake:
        yield fake.base_url


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as http:
        yield http


def provider_for(
    base_url: str, client: httpx.AsyncClient, tmp_path: Path, workflow: Any, **knobs: Any
) -> ComfyUIProvider:
    gen, edit = tmp_path / "workflow.json", tmp_path / "edit.json"
    gen.write_text(json.dumps(workflow))
    edit.write_text(json.dumps(EDIT))
    settings = ComfyUISettings(base_url=base_url, workflow=gen, edit_workflow=edit, timeout_s=60)
    return ComfyUIProvider(settings, client=client, poll_interval_s=0.1, **knobs)


async def test_generates_with_progress_and_previews(
    base_url: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """One image from the model-free workflow; progress rises to 1.0 with our own previews."""
    provider = provider_for(base_url, client, tmp_path, generation(steps=3))
    progress = Progress()
    try:
        [image] = await provider.generate(
            ImageRequest("fox", seed=secrets.randbelow(2**31)), on_progress=progress
        )
    finally:
        await provider.aclose()
    assert (image.width, image.height, image.mime) == (64, 48, "image/png")
    assert progress.calls[-1] == 1.0 and len([p for p in progress.previews if p]) == 3


async def test_edits_through_the_edit_workflow(
    base_url: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """An upload, LoadImage → ImageInvert → SaveImage: the image comes back at the upload's size."""
    provider = provider_for(base_url, client, tmp_path, generation())
    request = ImageRequest(
        "invert",
        kind=GenerationKind.EDIT,
        reference_images=(make_png(40, 30, (secrets.randbelow(255), 9, 9)),),
    )
    try:
        [image] = await provider.generate(request, on_progress=Progress())
    finally:
        await provider.aclose()
    assert (image.width, image.height) == (40, 30)


async def test_a_batch_gives_the_images_asked_for(
    base_url: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """batch_size 3, one image asked for: one image."""
    provider = provider_for(base_url, client, tmp_path, generation(batch=3, steps=1))
    try:
        images = await provider.generate(
            ImageRequest("fox", seed=secrets.randbelow(2**31)), on_progress=Progress()
        )
    finally:
        await provider.aclose()
    assert len(images) == 1


async def test_a_failing_node_is_reported(base_url: str, client: httpx.AsyncClient, tmp_path: Path) -> None:
    """EaselSteps failing at step 2: InvalidRequest with the node's message."""
    provider = provider_for(base_url, client, tmp_path, generation(steps=3, fail_at=2))
    try:
        with pytest.raises(InvalidRequest, match="failed at step 2"):
            await provider.generate(
                ImageRequest("fox", seed=secrets.randbelow(2**31)), on_progress=Progress()
            )
    finally:
        await provider.aclose()


async def test_a_rejected_workflow_names_the_node(
    base_url: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """An out-of-range input: 400 read into a message naming the node and the input."""
    workflow = generation()
    workflow["1"]["inputs"]["batch_size"] = 0
    provider = provider_for(base_url, client, tmp_path, workflow)
    try:
        with pytest.raises(InvalidRequest) as caught:
            await provider.generate(ImageRequest("fox", seed=1), on_progress=Progress())
    finally:
        await provider.aclose()
    assert "node 1 (EmptyImage)" in caught.value.user_message


async def test_interrupt_stops_our_run(base_url: str, client: httpx.AsyncClient, tmp_path: Path) -> None:
    """interrupt() during a slow run: cancelled, reported as such."""
    provider = provider_for(base_url, client, tmp_path, generation(steps=40, seconds=0.1))
    task = asyncio.create_task(
        provider.generate(ImageRequest("fox", seed=secrets.randbelow(2**31)), on_progress=Progress())
    )
    try:
        await asyncio.sleep(1.0)
        await provider.interrupt()
        with pytest.raises(InvalidRequest, match="interrupted"):
            await asyncio.wait_for(task, 30)
    finally:
        await provider.aclose()


async def test_another_clients_run_is_not_ours(
    base_url: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A run queued without a client id first (broadcast to every socket): none of its previews are ours."""
    theirs = generation(steps=4, seconds=0.05)
    theirs["2"]["inputs"]["seed"] = secrets.randbelow(2**31)
    answer = await client.post(f"{base_url}/prompt", json={"prompt": theirs})
    assert answer.status_code == 200, answer.text
    provider = provider_for(base_url, client, tmp_path, generation(steps=2))
    progress = Progress()
    try:
        await provider.generate(ImageRequest("fox", seed=secrets.randbelow(2**31)), on_progress=progress)
    finally:
        await provider.aclose()
    assert len([p for p in progress.previews if p]) == 2


async def test_a_cleared_queue_fails_quickly(
    base_url: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Queued behind another run, our prompt is cleared by someone: a clear error within seconds."""
    theirs = generation(steps=60, seconds=0.1)
    theirs["2"]["inputs"]["seed"] = secrets.randbelow(2**31)
    first = await client.post(f"{base_url}/prompt", json={"prompt": theirs})
    provider = provider_for(base_url, client, tmp_path, generation(steps=1), watch_s=0.5)
    task = asyncio.create_task(
        provider.generate(ImageRequest("fox", seed=secrets.randbelow(2**31)), on_progress=Progress())
    )
    try:
        await asyncio.sleep(0.5)
        await client.post(f"{base_url}/queue", json={"clear": True})
        with pytest.raises(InvalidRequest, match="neither queued"):
            await asyncio.wait_for(task, 10)
    finally:
        await client.post(f"{base_url}/interrupt", json={"prompt_id": first.json()["prompt_id"]})
        await provider.aclose()


async def test_models_are_listed_from_the_server(
    base_url: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """list_models() answers with the server's checkpoints (a model-free server may have none)."""
    provider = provider_for(base_url, client, tmp_path, generation())
    try:
        models = await provider.list_models()
    finally:
        await provider.aclose()
    assert isinstance(models, list) and all(isinstance(m, str) for m in models)
