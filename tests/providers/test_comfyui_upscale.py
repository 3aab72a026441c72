"""comfyui's upscaler (issue 20): the image uploaded and enlarged by a workflow of ComfyUI's own nodes
(ImageScaleBy with Lanczos; or an upscale model, then ImageScale to the exact size) against the fake,
which validates those nodes' inputs as upstream's nodes.py does; and /upscale through Easel."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from bot.app import open_easel
from bot.core.errors import InvalidRequest
from bot.core.generation.chain import ProviderChain
from bot.core.generation.resilience import RetryPolicy
from bot.core.messages import Incoming
from bot.core.types import GenerationKind, ImageRequest
from bot.providers.comfyui.provider import ComfyUIProvider
from bot.providers.comfyui.settings import ComfyUISettings
from tests.core.conftest import easel_settings
from tests.fakes.clock import FixedClock
from tests.fakes.platform import RecordingPlatform
from tests.fakes.providers.comfyui import FakeComfyUI, make_png

SOURCE = make_png(96, 64, (10, 200, 30))


async def nothing(fraction: float, preview: bytes | None) -> None:
    return None


@pytest.fixture
async def fake() -> AsyncIterator[FakeComfyUI]:
    async with FakeComfyUI() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:
        yield client


def comfyui(fake: FakeComfyUI, http: httpx.AsyncClient, **fields: Any) -> ComfyUIProvider:
    return ComfyUIProvider(
        ComfyUISettings(base_url=fake.base_url, **fields), client=http, poll_interval_s=0.01
    )


def classes(fake: FakeComfyUI) -> list[str]:
    workflow: dict[str, Any] = fake.prompts[-1]["prompt"]
    return [node["class_type"] for node in workflow.values()]


def node(fake: FakeComfyUI, class_type: str) -> dict[str, Any]:
    workflow: dict[str, Any] = fake.prompts[-1]["prompt"]
    inputs: dict[str, Any] = next(n["inputs"] for n in workflow.values() if n["class_type"] == class_type)
    return inputs


async def post_prompt(fake: FakeComfyUI, prompt: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(f"{fake.base_url}/prompt", json={"prompt": prompt})


def scale_by(method: str, factor: float) -> dict[str, Any]:
    return {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
        "2": {
            "class_type": "ImageScaleBy",
            "inputs": {"image": ["1", 0], "upscale_method": method, "scale_by": factor},
        },
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "t"}},
    }


async def test_upscale_runs_image_scale_by_lanczos_on_the_uploaded_image(
    fake: FakeComfyUI, http: httpx.AsyncClient
) -> None:
    """No upscale model: LoadImage (the upload) → ImageScaleBy lanczos x2 → SaveImage; the saved file."""
    provider = comfyui(fake, http)
    try:
        image = await provider.upscale(SOURCE, 2, on_progress=nothing)
    finally:
        await provider.aclose()
    assert image is not None and (image.width, image.height) == (192, 128)
    assert image.data == fake.served[-1] and image.provider == "comfyui"
    assert classes(fake) == ["LoadImage", "ImageScaleBy", "SaveImage"]
    assert node(fake, "ImageScaleBy")["upscale_method"] == "lanczos"
    assert node(fake, "ImageScaleBy")["scale_by"] == 2.0
    assert fake.uploads[node(fake, "LoadImage")["image"]] == SOURCE


async def test_upscale_with_a_model_sizes_its_result_to_the_factor(
    fake: FakeComfyUI, http: httpx.AsyncClient
) -> None:
    """upscale_model: UpscaleModelLoader + ImageUpscaleWithModel (4x), then ImageScale to exactly 2x."""
    provider = comfyui(fake, http, upscale_model="RealESRGAN_x4plus.pth")
    try:
        image = await provider.upscale(SOURCE, 2, on_progress=nothing)
    finally:
        await provider.aclose()
    assert image is not None and (image.width, image.height) == (192, 128)
    assert image.model == "RealESRGAN_x4plus.pth" and image.data == fake.served[-1]
    assert classes(fake) == [
        "LoadImage",
        "UpscaleModelLoader",
        "ImageUpscaleWithModel",
        "ImageScale",
        "SaveImage",
    ]
    assert node(fake, "UpscaleModelLoader") == {"model_name": "RealESRGAN_x4plus.pth"}


async def test_an_upscale_model_the_server_lacks_is_refused_and_the_chain_uses_lanczos(
    fake: FakeComfyUI, http: httpx.AsyncClient
) -> None:
    """A model not in models/upscale_models: ComfyUI's 400; the chain enlarges with Lanczos and says so."""
    provider = comfyui(fake, http, upscale_model="4x-Nope.pth")
    try:
        with pytest.raises(InvalidRequest, match="not in"):
            await provider.upscale(SOURCE, 2, on_progress=nothing)
        chain = ProviderChain([provider], timeout_s=30, retry=RetryPolicy(retries=0))
        request = ImageRequest(
            "a fox", kind=GenerationKind.UPSCALE, reference_images=(SOURCE,), made_by="comfyui"
        )
        result = await chain.generate(request, on_progress=nothing)
    finally:
        await provider.aclose()
    assert result.provider == "lanczos"
    assert result.notes == ("upscaled 2x with Lanczos; comfyui could not upscale it",)


async def test_fake_refuses_an_upscale_method_upstream_does_not_have(fake: FakeComfyUI) -> None:
    """upscale_method "lanczos3": 400 value_not_in_list naming upstream's five methods."""
    answer = await post_prompt(fake, scale_by("lanczos3", 2.0))
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    [error] = body["node_errors"]["2"]["errors"]
    assert error["type"] == "value_not_in_list" and error["message"] == "Value not in list"
    assert error["details"] == (
        "upscale_method: 'lanczos3' not in ['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos']"
    )


async def test_fake_refuses_a_scale_above_upstreams_max(fake: FakeComfyUI) -> None:
    """scale_by is FLOAT min 0.01 max 8.0: 9 is value_bigger_than_max."""
    answer = await post_prompt(fake, scale_by("lanczos", 9.0))
    assert answer.status_code == 400
    [error] = answer.json()["node_errors"]["2"]["errors"]
    assert error["type"] == "value_bigger_than_max" and error["details"] == "scale_by"


async def test_upscale_command_of_a_comfyui_image_is_made_by_the_server(
    fake: FakeComfyUI, http: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    """/upscale of a ComfyUI picture: a 2x image ComfyUI saved, credited to it, with no Lanczos note."""
    platform = RecordingPlatform()
    provider = comfyui(fake, http, options={"long_side": 128})
    settings = easel_settings(db_url, tmp_path / "media")
    async with open_easel(
        settings, platforms={"test": platform}, clock=FixedClock(), providers_override=[provider]
    ) as easel:

        async def say(text: str) -> None:
            message = Incoming(platform="test", chat_id="c1", user_id="u1", text=text, display_name="u1")
            job_id = await easel.service.handle(message)
            assert job_id is not None
            await easel.queue.wait_for(job_id)

        await say("/imagine a red fox")
        first = platform.replies[-1]
        assert first.images and first.generation_id is not None
        await say(f"/upscale #{first.generation_id}")
        up = platform.replies[-1]
        record = await easel.history.get_generation(generation_id=up.generation_id or 0)
    with (
        PILImage.open(first.images[0].path) as small,
        PILImage.open(io.BytesIO(up.images[0].path.read_bytes())) as big,
    ):
        assert big.size == (small.width * 2, small.height * 2)
    assert classes(fake)[1] == "ImageScaleBy" and len(fake.prompts) == 2
    assert record is not None and record.kind is GenerationKind.UPSCALE and record.provider == "comfyui"
    assert not any("Lanczos" in note for note in up.notes)
