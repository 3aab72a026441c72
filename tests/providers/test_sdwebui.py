"""sdwebui against the loopback A1111 fake: request shapes, seeds, progress, interrupts, errors, health."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage
from pydantic import SecretStr
from typer.testing import CliRunner

from bot.cli import app
from bot.core.errors import InvalidRequest, Misconfigured, ProviderTimeout, Unavailable
from bot.core.ports import Provider
from bot.core.types import Aspect, Capabilities, GenerationKind, Image, ImageRequest
from bot.providers.sdwebui import SDWebUIProvider
from bot.providers.settings import SamplerSettings
from tests.fakes.providers.harness import Progress
from tests.fakes.providers.sdwebui import FakeSDWebUI, make_image

MakeProvider = Callable[..., SDWebUIProvider]
REFERENCE = make_image(96, 64, (10, 200, 30))


@pytest.fixture
async def fake() -> AsyncIterator[FakeSDWebUI]:
    async with FakeSDWebUI() as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as http:
        yield http


@pytest.fixture
def make_provider(fake: FakeSDWebUI, client: httpx.AsyncClient) -> MakeProvider:
    def build(*, http: httpx.AsyncClient | None = None, **fields: Any) -> SDWebUIProvider:
        fields.setdefault("base_url", fake.base_url)
        return SDWebUIProvider(SamplerSettings(**fields), client=http or client, poll_interval_s=0.01)

    return build


@pytest.fixture
def provider(make_provider: MakeProvider) -> SDWebUIProvider:
    return make_provider()


async def generate(provider: SDWebUIProvider, prompt: str = "a red fox", **fields: Any) -> list[Image]:
    return await provider.generate(ImageRequest(prompt, **fields), on_progress=Progress())


def edit_request(**fields: Any) -> ImageRequest:
    fields.setdefault("kind", GenerationKind.EDIT)
    return ImageRequest("make it warmer", reference_images=(REFERENCE,), source_prompt="a red fox", **fields)


async def wait_for_job(fake: FakeSDWebUI) -> None:
    for _ in range(500):
        if fake.jobs:
            return
        await asyncio.sleep(0.002)
    raise AssertionError("the job never reached the fake")


# ----------------------------------------------------------------------------------------- generation


def test_implements_the_provider_protocol(provider: SDWebUIProvider) -> None:
    """The provider satisfies the Provider protocol and declares what A1111 can do."""
    assert isinstance(provider, Provider)
    assert provider.capabilities == Capabilities(
        edit=True,
        max_n=4,
        aspects=None,
        negative_prompt=True,
        seed=True,
        max_reference_images=1,
        upscale=True,
    )
    assert "sd_xl_base_1.0.safetensors" in provider.catalog


async def test_images_are_byte_identical_to_what_the_server_sent(
    fake: FakeSDWebUI, provider: SDWebUIProvider
) -> None:
    """Decoded base64 images equal the fake's bytes, with real size, mime, provider and model."""
    images = await generate(provider, n=2, aspect=Aspect(16, 9), seed=7)
    assert [image.data for image in images] == fake.served
    for image in images:
        assert (image.mime, image.width, image.height) == ("image/png", 1024, 576)
        assert (image.provider, image.model) == ("sdwebui", "sd_xl_base_1.0")


async def test_txt2img_request_shape(fake: FakeSDWebUI, provider: SDWebUIProvider) -> None:
    """POST txt2img with prompt, seed, batch_size, size from the aspect and default steps."""
    await generate(provider, n=3, aspect=Aspect(2, 3), seed=11)
    [job] = fake.jobs
    assert (job.method, job.path) == ("POST", "/sdapi/v1/txt2img")
    assert job.json == {
        "prompt": "a red fox",
        "seed": 11,
        "batch_size": 3,
        "n_iter": 1,
        "width": 704,
        "height": 1024,
        "steps": 25,
    }


async def test_settings_negative_and_model_reach_the_request(
    fake: FakeSDWebUI, make_provider: MakeProvider
) -> None:
    """negative_prompt, sampler, cfg, steps, options and the checkpoint override are sent."""
    provider = make_provider(
        model="sd_xl_base_1.0",
        sampler="DPM++ 2M",
        cfg_scale=5.5,
        steps=30,
        options={"enable_hr": False, "override_settings": {"CLIP_stop_at_last_layers": 2}},
    )
    await generate(provider, negative="blurry, text", seed=1)
    body = fake.jobs[0].json
    assert body["negative_prompt"] == "blurry, text"
    assert (body["sampler_name"], body["cfg_scale"], body["steps"], body["enable_hr"]) == (
        "DPM++ 2M",
        5.5,
        30,
        False,
    )
    assert body["override_settings"] == {
        "CLIP_stop_at_last_layers": 2,
        "sd_model_checkpoint": "sd_xl_base_1.0",
    }


async def test_request_model_wins_and_is_reported(fake: FakeSDWebUI, make_provider: MakeProvider) -> None:
    """--model overrides providers.sdwebui.model and is the image's model."""
    [image] = await generate(make_provider(model="sd_xl_base_1.0"), model="v1-5-pruned-emaonly")
    assert fake.jobs[0].json["override_settings"] == {"sd_model_checkpoint": "v1-5-pruned-emaonly"}
    assert image.model == "v1-5-pruned-emaonly"


async def test_sd15_model_gets_a_512_canvas(fake: FakeSDWebUI, make_provider: MakeProvider) -> None:
    """A checkpoint named like SD 1.5 draws at 512 on the long side; options.long_side overrides."""
    await generate(make_provider(model="v1-5-pruned-emaonly"), aspect=Aspect(16, 9))
    await generate(make_provider(options={"long_side": 768}), aspect=Aspect(1, 1))
    assert (fake.jobs[0].json["width"], fake.jobs[0].json["height"]) == (512, 288)
    assert (fake.jobs[1].json["width"], fake.jobs[1].json["height"]) == (768, 768)
    assert "long_side" not in fake.jobs[1].json


async def test_seed_reported_by_the_server_is_recorded(fake: FakeSDWebUI, provider: SDWebUIProvider) -> None:
    """Each image carries all_seeds from the answer's info, even when the server changed the seed."""
    fake.seed_override = 424242
    images = await generate(provider, n=2, seed=7)
    info = json.loads(fake.responses[0]["info"])
    assert [image.seed for image in images] == info["all_seeds"] == [424242, 424243]


async def test_random_seed_chosen_by_the_server_is_recorded(
    fake: FakeSDWebUI, provider: SDWebUIProvider
) -> None:
    """Without a seed the request sends -1 and the images carry the server's choice."""
    [image] = await generate(provider)
    assert fake.jobs[0].json["seed"] == -1
    assert image.seed == json.loads(fake.responses[0]["info"])["seed"]


async def test_no_grid_without_save_images(fake: FakeSDWebUI, provider: SDWebUIProvider) -> None:
    """Upstream makes a grid only when the job saves images: a batch of 2 answers exactly 2 images."""
    images = await generate(provider, n=2, seed=3)
    assert len(fake.responses[0]["images"]) == 2
    assert [image.data for image in images] == fake.served and [image.seed for image in images] == [3, 4]


async def test_grid_with_save_images_is_dropped(fake: FakeSDWebUI, make_provider: MakeProvider) -> None:
    """options.save_images: the grid comes first (index_of_first_image 1) and is not returned."""
    images = await generate(make_provider(options={"save_images": True}), n=2, seed=3)
    assert len(fake.responses[0]["images"]) == 3
    assert [image.data for image in images] == fake.served and [image.seed for image in images] == [3, 4]


async def test_extension_images_at_the_end_are_not_returned(
    fake: FakeSDWebUI, provider: SDWebUIProvider
) -> None:
    """ControlNet-style outputs appended after the batch are dropped, and no real image is lost."""
    fake.extension_images_next(1)
    images = await generate(provider, n=2, seed=3)
    assert len(fake.responses[0]["images"]) == 3
    assert [image.data for image in images] == fake.served and fake.extras[0] not in [i.data for i in images]


async def test_grid_and_extension_images_together(fake: FakeSDWebUI, make_provider: MakeProvider) -> None:
    """Grid first, batch, then extension outputs: exactly the batch comes back, in order."""
    fake.extension_images_next(2)
    images = await generate(make_provider(options={"save_images": True}), n=3, seed=5)
    assert len(fake.responses[0]["images"]) == 6
    assert [image.data for image in images] == fake.served and [image.seed for image in images] == [5, 6, 7]


async def test_grid_found_by_size_when_info_does_not_say(
    fake: FakeSDWebUI, make_provider: MakeProvider
) -> None:
    """Without index_of_first_image a first image bigger than the next is taken for the grid."""
    fake.omit_info = {"index_of_first_image"}
    images = await generate(make_provider(options={"save_images": True}), n=2, seed=3)
    assert [image.data for image in images] == fake.served


async def test_jpeg_output_is_sniffed(fake: FakeSDWebUI, provider: SDWebUIProvider) -> None:
    """samples_format jpg gives image/jpeg."""
    fake.image_format = "jpeg"
    [image] = await generate(provider)
    assert image.mime == "image/jpeg" and image.data == fake.served[0]


# ---------------------------------------------------------------------------------------------- edits


async def test_edit_uses_img2img(fake: FakeSDWebUI, provider: SDWebUIProvider) -> None:
    """EDIT posts img2img with the reference as init_images, denoising 0.55 and a combined prompt."""
    [image] = await provider.generate(edit_request(seed=5), on_progress=Progress())
    job = fake.jobs[0]
    assert job.path == "/sdapi/v1/img2img"
    assert base64.b64decode(job.json["init_images"][0]) == REFERENCE
    assert job.json["denoising_strength"] == 0.55
    assert job.json["prompt"] == "a red fox, make it warmer"
    assert "mask" not in job.json
    assert image.data == fake.served[0] and image.seed == 5


async def test_variation_moves_less(fake: FakeSDWebUI, provider: SDWebUIProvider) -> None:
    """VARY uses denoising 0.35 and the source prompt."""
    request = ImageRequest(
        "a red fox", kind=GenerationKind.VARY, reference_images=(REFERENCE,), source_prompt="a red fox"
    )
    await provider.generate(request, on_progress=Progress())
    assert fake.jobs[0].json["denoising_strength"] == 0.35
    assert fake.jobs[0].json["prompt"] == "a red fox"


async def test_configured_denoising_and_mask_are_sent(fake: FakeSDWebUI, make_provider: MakeProvider) -> None:
    """settings.denoising_strength wins; a mask goes as base64 in mask."""
    mask = make_image(96, 64, (255, 255, 255))
    await make_provider(denoising_strength=0.8).generate(edit_request(mask=mask), on_progress=Progress())
    assert fake.jobs[0].json["denoising_strength"] == 0.8
    assert base64.b64decode(fake.jobs[0].json["mask"]) == mask


# ------------------------------------------------------------------------------------------- progress


async def test_progress_rises_with_previews_and_ends_at_one(
    fake: FakeSDWebUI, provider: SDWebUIProvider
) -> None:
    """GET progress is polled while the POST blocks: rising fractions, JPEG previews, then 1.0."""
    fake.job_s = 0.15
    progress = Progress()
    await provider.generate(ImageRequest("a fox"), on_progress=progress)
    fractions = progress.calls
    assert len(fractions) >= 3 and fractions[-1] == 1.0
    assert fractions[:-1] == sorted(fractions[:-1]) and all(0 < f < 1 for f in fractions[:-1])
    assert any(preview and preview.startswith(b"\xff\xd8\xff") for preview in progress.previews)
    assert any(
        r.path == "/sdapi/v1/progress" and r.query == {"skip_current_image": "false"} for r in fake.requests
    )


async def test_polling_stops_when_the_job_is_done(fake: FakeSDWebUI, provider: SDWebUIProvider) -> None:
    """No progress request is made after generate() returns."""
    fake.job_s = 0.05
    await generate(provider)
    polls = sum(r.path == "/sdapi/v1/progress" for r in fake.requests)
    await asyncio.sleep(0.05)
    assert sum(r.path == "/sdapi/v1/progress" for r in fake.requests) == polls


async def test_interrupt_stops_the_running_job(fake: FakeSDWebUI, provider: SDWebUIProvider) -> None:
    """interrupt() posts /interrupt; the early return is reported as cancelled, not as images."""
    fake.job_s = 5.0
    task = asyncio.create_task(generate(provider))
    await wait_for_job(fake)
    await provider.interrupt()
    with pytest.raises(InvalidRequest) as caught:
        await asyncio.wait_for(task, 2.0)
    assert fake.interrupts == 1
    assert "cancelled" in caught.value.user_message


async def test_cancelling_generate_interrupts_the_server(
    fake: FakeSDWebUI, provider: SDWebUIProvider
) -> None:
    """A cancelled generate() tells the backend to stop drawing."""
    fake.job_s = 5.0
    task = asyncio.create_task(generate(provider))
    await wait_for_job(fake)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fake.interrupts == 1


async def test_read_timeout_is_provider_timeout_and_interrupts(
    fake: FakeSDWebUI, make_provider: MakeProvider
) -> None:
    """A POST that outlives the client's read timeout is ProviderTimeout and the job is interrupted."""
    fake.job_s = 5.0
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.2)) as short:
        with pytest.raises(ProviderTimeout):
            await generate(make_provider(http=short))
    assert fake.interrupts == 1


# ----------------------------------------------------------------------------------------------- auth


async def test_basic_auth_from_user_pass(make_provider: MakeProvider) -> None:
    """api_key user:pass is sent as HTTP Basic auth and accepted."""
    async with FakeSDWebUI(auth="easel:s3cret") as secured:
        provider = make_provider(base_url=secured.base_url, api_key=SecretStr("easel:s3cret"))
        await generate(provider)
        expected = "Basic " + base64.b64encode(b"easel:s3cret").decode()
        assert secured.jobs[0].headers["authorization"] == expected


def test_api_key_without_colon_is_misconfigured(fake: FakeSDWebUI, client: httpx.AsyncClient) -> None:
    """api_key must be user:pass."""
    with pytest.raises(Misconfigured, match="user:pass"):
        SDWebUIProvider(SamplerSettings(base_url=fake.base_url, api_key=SecretStr("token")), client=client)


# --------------------------------------------------------------------------------------------- errors


async def test_unknown_sampler_404_is_invalid_request(make_provider: MakeProvider) -> None:
    """A1111 up to 1.9: 404 "Sampler not found" → InvalidRequest that says so."""
    async with FakeSDWebUI(version="1.9") as old:
        with pytest.raises(InvalidRequest) as caught:
            await generate(make_provider(base_url=old.base_url, sampler="Nonexistent"))
    assert "Sampler not found" in caught.value.user_message


async def test_sampler_not_found_400_is_invalid_request(fake: FakeSDWebUI, provider: SDWebUIProvider) -> None:
    """400 with upstream's body (status since PR #16140) → InvalidRequest naming it, not a generic error."""
    fake.fail_next(400, detail="Sampler not found")
    with pytest.raises(InvalidRequest) as caught:
        await generate(provider)
    assert "Sampler not found" in caught.value.user_message


async def test_unknown_sampler_replaced_by_the_server_is_logged(
    fake: FakeSDWebUI, make_provider: MakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """A1111 1.10 draws with its default sampler instead: the image comes back and a warning says so."""
    [image] = await generate(make_provider(sampler="Nonexistent"))
    assert image.data == fake.served[0]
    assert json.loads(fake.responses[0]["info"])["sampler_name"] == "DPM++ 2M"
    assert "used sampler 'DPM++ 2M', not the configured 'Nonexistent'" in caplog.text


async def test_a_scheduler_suffix_is_not_taken_for_another_sampler(
    fake: FakeSDWebUI, make_provider: MakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """ "DPM++ 2M Karras" runs as DPM++ 2M with the Karras schedule: no warning."""
    await generate(make_provider(sampler="DPM++ 2M Karras"))
    assert "used sampler" not in caplog.text


async def test_fake_404_body_is_upstreams(make_provider: MakeProvider) -> None:
    """The fake's "Sampler not found" body is api.py's handle_exception envelope."""
    async with FakeSDWebUI(version="1.9") as old, httpx.AsyncClient() as http:
        response = await http.post(f"{old.base_url}/sdapi/v1/txt2img", json={"sampler_name": "Nope"})
    assert response.status_code == 404
    assert response.json() == {
        "error": "HTTPException",
        "detail": "Sampler not found",
        "body": "",
        "errors": "",
    }


async def test_client_sends_only_fields_the_request_models_have(
    fake: FakeSDWebUI, make_provider: MakeProvider
) -> None:
    """Every field of txt2img and img2img (with a mask) is in upstream's request models."""
    provider = make_provider(model="sd_xl_base_1.0", sampler="Euler", cfg_scale=6.0, steps=20)
    await generate(provider, negative="blur", seed=1, n=2)
    mask = make_image(96, 64, (255, 255, 255))
    await provider.generate(edit_request(mask=mask), on_progress=Progress())
    assert fake.ignored_fields == []


async def test_fake_ignores_unknown_fields_as_upstream(
    fake: FakeSDWebUI, make_provider: MakeProvider
) -> None:
    """An unknown field is not an error upstream (pydantic ignores it); the fake records it."""
    await generate(make_provider(options={"bogus_field": 1}))
    assert fake.ignored_fields == ["bogus_field"]


async def test_validation_error_is_readable(fake: FakeSDWebUI, make_provider: MakeProvider) -> None:
    """422 from FastAPI → InvalidRequest naming the field."""
    with pytest.raises(InvalidRequest) as caught:
        await generate(make_provider(options={"subseed": "abc"}))
    assert "subseed: value is not a valid integer" in caught.value.user_message


async def test_bad_base_url_path_is_misconfigured(fake: FakeSDWebUI, make_provider: MakeProvider) -> None:
    """A route the server does not have (no --api, wrong prefix) → Misconfigured."""
    with pytest.raises(Misconfigured) as caught:
        await generate(make_provider(base_url=fake.base_url + "/nope"))
    assert "--api" in caught.value.user_message


async def test_empty_answer_is_unavailable(fake: FakeSDWebUI, provider: SDWebUIProvider) -> None:
    """A 200 without images → Unavailable that says no image came back."""
    fake.empty_next()
    with pytest.raises(Unavailable) as caught:
        await generate(provider)
    assert "without any image" in caught.value.user_message


# --------------------------------------------------------------------------------------------- health


async def test_list_models_returns_titles(provider: SDWebUIProvider) -> None:
    """list_models() gives the sd-models titles."""
    assert await provider.list_models() == [
        "sd_xl_base_1.0.safetensors [31e35c80fc]",
        "v1-5-pruned-emaonly.safetensors [6ce0161689]",
    ]


# ------------------------------------------------------------------------------------------ end to end


async def test_cli_gen_end_to_end(fake: FakeSDWebUI, tmp_path: Path) -> None:
    """`easel gen "a red fox" --provider sdwebui --aspect 16:9 --seed 7` saves the server's bytes and seed."""
    env = {
        "EASEL__PROVIDERS__SDWEBUI__BASE_URL": fake.base_url,
        "EASEL__DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/e.db",
        "EASEL__MEDIA_DIR": str(tmp_path / "media"),
    }
    args = ["gen", "a red fox", "--provider", "sdwebui", "--aspect", "16:9", "--seed", "7"]
    result = await asyncio.to_thread(CliRunner().invoke, app, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.strip()]
    saved = Path(line)
    stored = await asyncio.to_thread(saved.read_bytes)  # the server's PNG with its parameters text
    served = PILImage.open(io.BytesIO(fake.served[0]))
    kept = PILImage.open(io.BytesIO(stored))
    assert kept.tobytes() == served.tobytes() and kept.text["parameters"].startswith("a red fox")
    [job] = fake.jobs
    assert (job.json["prompt"], job.json["seed"], job.json["width"], job.json["height"]) == (
        "a red fox",
        7,
        1024,
        576,
    )
    reported = json.loads(fake.responses[0]["info"])["seed"]
    sidecar = json.loads(await asyncio.to_thread(saved.with_suffix(".json").read_text))
    assert sidecar["seed"] == reported == 7
    assert sidecar["params"]["seed"] == 7 and sidecar["provider"] == "sdwebui"
