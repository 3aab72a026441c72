"""comfyui against the loopback ComfyUI fake: workflows, placeholders, websocket, history, errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.core.errors import InvalidRequest, Misconfigured, ProviderTimeout, Unavailable
from bot.core.ports import Provider
from bot.core.types import Aspect, Capabilities, GenerationKind, Image, ImageRequest
from bot.providers.comfyui.provider import ComfyUIProvider
from bot.providers.comfyui.settings import ComfyUISettings
from bot.providers.comfyui.workflow import TXT2IMG, fill
from tests.fakes.providers.comfyui import FakeComfyUI, make_png
from tests.fakes.providers.harness import Progress

MakeProvider = Callable[..., ComfyUIProvider]
REFERENCE = make_png(96, 64, (10, 200, 30))


@pytest.fixture
async def fake() -> AsyncIterator[FakeComfyUI]:
    async with FakeComfyUI() as server:
        yield server


@pytest.fixture
async def make_provider(fake: FakeComfyUI) -> AsyncIterator[MakeProvider]:
    made: list[ComfyUIProvider] = []
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:

        def build(**fields: Any) -> ComfyUIProvider:
            fields.setdefault("base_url", fake.base_url)
            provider = ComfyUIProvider(ComfyUISettings(**fields), client=client, poll_interval_s=0.01)
            made.append(provider)
            return provider

        yield build
        for provider in made:
            await provider.aclose()


@pytest.fixture
def provider(make_provider: MakeProvider) -> ComfyUIProvider:
    return make_provider()


async def generate(provider: ComfyUIProvider, prompt: str = "a red fox", **fields: Any) -> list[Image]:
    return await provider.generate(ImageRequest(prompt, **fields), on_progress=Progress())


def workflow_of(fake: FakeComfyUI, index: int = 0) -> dict[str, Any]:
    prompt: dict[str, Any] = fake.prompts[index]["prompt"]
    return prompt


async def wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("condition never met")


async def wait_for_run(fake: FakeComfyUI) -> None:
    await wait_until(lambda: bool(fake.prompts))


def write_workflow(tmp_path: Path, workflow: Any) -> Path:
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(workflow))
    return path


# ----------------------------------------------------------------------------------------- generation


def test_implements_the_provider_protocol(provider: ComfyUIProvider) -> None:
    """The built-in templates give edit, seed, negative prompt and upscale, one image per run."""
    assert isinstance(provider, Provider)
    assert provider.capabilities == Capabilities(
        edit=True,
        max_n=1,
        aspects=None,
        negative_prompt=True,
        seed=True,
        max_reference_images=1,
        upscale=True,
    )
    assert "sd_xl_base_1.0.safetensors" in provider.catalog


async def test_image_is_byte_identical_to_the_saved_output(
    fake: FakeComfyUI, provider: ComfyUIProvider
) -> None:
    """The /view bytes come back unchanged with size, mime, seed, provider and default model."""
    [image] = await generate(provider, aspect=Aspect(16, 9), seed=7)
    assert image.data == fake.served[0]
    assert (image.mime, image.width, image.height, image.seed) == ("image/png", 1024, 576, 7)
    assert (image.provider, image.model) == ("comfyui", "sd_xl_base_1.0.safetensors")
    view = next(r for r in fake.requests if r.path == "/view")
    assert view.query["type"] == "output" and view.query["filename"].startswith("easel_")


async def test_builtin_workflow_gets_real_values(fake: FakeComfyUI, make_provider: MakeProvider) -> None:
    """Placeholders are filled with numbers as numbers, texts as texts, settings where given."""
    provider = make_provider(
        model="v1-5-pruned-emaonly.safetensors", steps=12, cfg_scale=4.5, sampler="dpmpp_2m"
    )
    await generate(provider, aspect=Aspect(3, 2), seed=99, negative="text, watermark")
    workflow = workflow_of(fake)
    assert workflow["4"]["inputs"]["ckpt_name"] == "v1-5-pruned-emaonly.safetensors"
    assert workflow["6"]["inputs"]["text"] == "a red fox"
    assert workflow["7"]["inputs"]["text"] == "text, watermark"
    assert workflow["5"]["inputs"] == {"width": 512, "height": 344, "batch_size": 1}
    sampler = workflow["3"]["inputs"]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"], sampler["sampler_name"]) == (
        99,
        12,
        4.5,
        "dpmpp_2m",
    )


async def test_client_id_matches_the_websocket(fake: FakeComfyUI, provider: ComfyUIProvider) -> None:
    """/prompt carries the client_id the websocket was opened with."""
    await generate(provider)
    ws = next(r for r in fake.requests if r.path == "/ws")
    assert fake.prompts[0]["client_id"] == ws.query["clientId"]


async def test_random_seed_is_chosen_and_recorded(fake: FakeComfyUI, provider: ComfyUIProvider) -> None:
    """Without a seed one is picked, put in the workflow, and reported on the image."""
    [image] = await generate(provider)
    assert image.seed is not None and image.seed == workflow_of(fake)["3"]["inputs"]["seed"]


async def test_prompt_text_cannot_break_the_workflow(fake: FakeComfyUI, provider: ComfyUIProvider) -> None:
    """Quotes, backslashes and placeholder-looking text arrive verbatim."""
    nasty = 'a "fox" \\ {{seed}} }"], "x": {'
    await generate(provider, nasty, seed=1)
    assert workflow_of(fake)["6"]["inputs"]["text"] == nasty


def test_fill_keeps_numbers_and_embeds_in_text() -> None:
    """A whole-string placeholder becomes the value; inside text it becomes the value's text."""
    filled = fill({"a": "{{seed}}", "b": "seed {{seed}}!", "c": ["{{other}}", 3]}, {"seed": 5})
    assert filled == {"a": 5, "b": "seed 5!", "c": ["{{other}}", 3]}
    assert TXT2IMG["3"]["inputs"]["seed"] == "{{seed}}"  # the template itself is untouched


async def test_options_go_into_the_prompt_body(fake: FakeComfyUI, make_provider: MakeProvider) -> None:
    """settings.options (but long_side) are passed through in the /prompt body."""
    await generate(
        make_provider(options={"extra_data": {"tag": "easel"}, "long_side": 768}), aspect=Aspect(1, 1)
    )
    assert fake.prompts[0]["extra_data"] == {"tag": "easel"} and "long_side" not in fake.prompts[0]
    assert workflow_of(fake)["5"]["inputs"]["width"] == 768


# ------------------------------------------------------------------------------------------ workflows


async def test_custom_workflow_file_is_used(
    fake: FakeComfyUI, make_provider: MakeProvider, tmp_path: Path
) -> None:
    """providers.comfyui.workflow replaces the template; embedded placeholders are filled as text."""
    custom = fill(TXT2IMG, {"model": "sd_xl_base_1.0.safetensors", "negative": "ugly"})
    custom["6"]["inputs"]["text"] = "cinematic photo of {{prompt}}, seed {{seed}}"
    provider = make_provider(workflow=write_workflow(tmp_path, custom))
    assert provider.capabilities.negative_prompt is False and provider.capabilities.edit is False
    [image] = await generate(provider, "a fox", seed=3)
    assert workflow_of(fake)["6"]["inputs"]["text"] == "cinematic photo of a fox, seed 3"
    assert workflow_of(fake)["7"]["inputs"]["text"] == "ugly"
    assert image.data == fake.served[0] and image.seed == 3


async def test_workflow_without_seed_reports_no_seed(
    fake: FakeComfyUI, make_provider: MakeProvider, tmp_path: Path
) -> None:
    """A workflow with a fixed seed cannot honour one: capabilities and the image say so."""
    fixed = fill(TXT2IMG, {"seed": 1, "model": "sd_xl_base_1.0.safetensors"})
    provider = make_provider(workflow=write_workflow(tmp_path, fixed))
    assert provider.capabilities.seed is False
    [image] = await generate(provider, seed=5)
    assert image.seed is None


def test_ui_format_workflow_is_misconfigured(tmp_path: Path) -> None:
    """A UI-format export is refused with a hint to save it in API format."""
    path = write_workflow(tmp_path, {"nodes": [], "links": [], "version": 0.4})
    with pytest.raises(Misconfigured, match="API Format"):
        ComfyUIProvider(
            ComfyUISettings(base_url="http://127.0.0.1:8188", workflow=path), client=httpx.AsyncClient()
        )


def test_missing_workflow_file_is_misconfigured(tmp_path: Path) -> None:
    """A workflow path that does not exist names the setting."""
    with pytest.raises(Misconfigured, match=r"providers\.comfyui\.workflow"):
        ComfyUIProvider(
            ComfyUISettings(base_url="http://127.0.0.1:8188", workflow=tmp_path / "missing.json"),
            client=httpx.AsyncClient(),
        )


# ---------------------------------------------------------------------------------------------- edits


async def test_edit_uploads_the_reference_and_loads_it(fake: FakeComfyUI, provider: ComfyUIProvider) -> None:
    """EDIT uploads the image (multipart), LoadImage names it, KSampler denoises 0.55."""
    request = ImageRequest(
        "make it warmer",
        kind=GenerationKind.EDIT,
        reference_images=(REFERENCE,),
        source_prompt="a fox",
        seed=4,
    )
    [image] = await provider.generate(request, on_progress=Progress())
    [(name, data)] = fake.uploads.items()
    assert data == REFERENCE
    upload = next(r for r in fake.requests if r.path == "/upload/image")
    assert upload.headers["content-type"].startswith("multipart/form-data")
    workflow = workflow_of(fake)
    assert workflow["10"]["inputs"]["image"] == name
    assert workflow["3"]["inputs"]["denoise"] == 0.55
    assert workflow["6"]["inputs"]["text"] == "a fox, make it warmer"
    assert (image.width, image.height) == (96, 64) and image.data == fake.served[0]


async def test_variation_denoises_less(fake: FakeComfyUI, make_provider: MakeProvider) -> None:
    """VARY uses 0.35 unless settings.denoising_strength is set."""
    request = ImageRequest(
        "a fox", kind=GenerationKind.VARY, reference_images=(REFERENCE,), source_prompt="a fox"
    )
    await make_provider().generate(request, on_progress=Progress())
    await make_provider(denoising_strength=0.7).generate(request, on_progress=Progress())
    assert workflow_of(fake, 0)["3"]["inputs"]["denoise"] == 0.35
    assert workflow_of(fake, 1)["3"]["inputs"]["denoise"] == 0.7


# ------------------------------------------------------------------------------------------- progress


async def test_progress_and_previews_from_the_websocket(fake: FakeComfyUI, provider: ComfyUIProvider) -> None:
    """progress events give rising fractions, binary frames give JPEG previews, the end gives 1.0."""
    progress = Progress()
    await provider.generate(ImageRequest("a fox"), on_progress=progress)
    fractions = progress.calls
    assert fractions[-1] == 1.0 and 0.25 in fractions
    assert fractions == sorted(fractions)
    assert any(preview and preview.startswith(b"\xff\xd8\xff") for preview in progress.previews)


async def test_history_polling_when_the_websocket_is_unavailable(
    fake: FakeComfyUI, provider: ComfyUIProvider
) -> None:
    """With /ws refused, /history/{id} is polled until the run is there."""
    fake.websocket = False
    fake.step_s = 0.01
    [image] = await generate(provider)
    assert image.data == fake.served[0]
    assert sum(r.path.startswith("/history/") for r in fake.requests) >= 2


async def test_history_written_after_the_done_event(fake: FakeComfyUI, provider: ComfyUIProvider) -> None:
    """A run that shows up in /history a moment after executing{node: null} is still collected."""
    fake.history_delay_s = 0.05
    [image] = await generate(provider)
    assert image.data == fake.served[0]


async def test_interrupt_stops_the_run(fake: FakeComfyUI, provider: ComfyUIProvider) -> None:
    """interrupt() interrupts the executing run; generate() reports it as cancelled."""
    fake.step_s = 0.05
    task = asyncio.create_task(generate(provider))
    await wait_for_run(fake)
    await asyncio.sleep(0.02)
    await provider.interrupt()
    with pytest.raises(InvalidRequest) as caught:
        await asyncio.wait_for(task, 2.0)
    assert fake.interrupts == 1 and "cancelled" in caught.value.user_message


async def test_interrupt_of_a_queued_run_ends_its_wait(
    fake: FakeComfyUI, make_provider: MakeProvider
) -> None:
    """A run still pending is deleted from the queue (not interrupted) and generate() ends at once."""
    fake.step_s = 0.05
    busy, queued = make_provider(), make_provider()
    first = asyncio.create_task(generate(busy))
    await wait_for_run(fake)
    second = asyncio.create_task(generate(queued))
    await wait_until(lambda: bool(queued._running))
    await queued.interrupt()
    with pytest.raises(InvalidRequest, match="interrupted"):
        await asyncio.wait_for(second, 1.0)
    assert fake.deleted == [fake.prompt_ids[1]] and fake.interrupts == 0
    [image] = await first
    assert image.data == fake.served[0]


async def test_cancelling_generate_stops_the_run(fake: FakeComfyUI, provider: ComfyUIProvider) -> None:
    """A cancelled generate() deletes the run from the queue and interrupts it."""
    fake.step_s = 0.05
    task = asyncio.create_task(generate(provider))
    await wait_for_run(fake)
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fake.deleted == fake.prompt_ids
    assert fake.interrupts == 1


async def test_waiting_too_long_is_provider_timeout(fake: FakeComfyUI, make_provider: MakeProvider) -> None:
    """A run that outlives timeout_s is ProviderTimeout and is stopped on the server."""
    fake.step_s = 0.2
    with pytest.raises(ProviderTimeout):
        await generate(make_provider(timeout_s=0.1))
    assert fake.interrupts == 1


# --------------------------------------------------------------------------------------------- errors


async def test_unknown_checkpoint_is_a_readable_invalid_request(
    fake: FakeComfyUI, make_provider: MakeProvider
) -> None:
    """400 with node_errors → InvalidRequest naming the node, the input and the value."""
    with pytest.raises(InvalidRequest) as caught:
        await generate(make_provider(model="nope.safetensors"))
    message = caught.value.user_message
    assert "node 4 (CheckpointLoaderSimple)" in message and "ckpt_name: 'nope.safetensors'" in message


async def test_execution_error_is_invalid_request(fake: FakeComfyUI, provider: ComfyUIProvider) -> None:
    """execution_error from a node → InvalidRequest with the exception message."""
    fake.error_next("ValueError", "bad tensor shape")
    with pytest.raises(InvalidRequest) as caught:
        await generate(provider)
    assert "bad tensor shape" in caught.value.user_message


async def test_out_of_memory_is_unavailable(fake: FakeComfyUI, provider: ComfyUIProvider) -> None:
    """A CUDA out-of-memory execution_error → Unavailable (worth another backend or a later try)."""
    fake.error_next("torch.OutOfMemoryError", "Allocation on device")
    with pytest.raises(Unavailable) as caught:
        await generate(provider)
    assert "GPU memory" in caught.value.user_message


async def test_execution_error_seen_through_history(fake: FakeComfyUI, provider: ComfyUIProvider) -> None:
    """Without a websocket the failure is read from the history entry's messages."""
    fake.websocket = False
    fake.error_next("ValueError", "bad tensor shape")
    with pytest.raises(InvalidRequest, match="bad tensor shape"):
        await generate(provider)


async def test_run_without_images_is_invalid_request(fake: FakeComfyUI, provider: ComfyUIProvider) -> None:
    """A successful run with no output images → InvalidRequest that says so."""
    fake.empty_next()
    with pytest.raises(InvalidRequest) as caught:
        await generate(provider)
    assert "without an image" in caught.value.user_message


async def test_vanished_output_is_unavailable(fake: FakeComfyUI, provider: ComfyUIProvider) -> None:
    """/view answering 404 for the output → Unavailable."""
    fake.expire_outputs = True
    with pytest.raises(Unavailable) as caught:
        await generate(provider)
    assert "could not be fetched" in caught.value.user_message


# --------------------------------------------------------------------------------------------- health


async def test_list_models_reads_object_info(fake: FakeComfyUI, provider: ComfyUIProvider) -> None:
    """list_models() gives CheckpointLoaderSimple's ckpt_name choices."""
    assert await provider.list_models() == list(fake.checkpoints)
