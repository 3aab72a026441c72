"""flux against the loopback BFL fake: submit, poll the polling_url, download the sample, every end state."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.core.errors import InvalidRequest, Misconfigured, ProviderTimeout, Refused, Unavailable
from bot.core.imaging import sniff
from bot.core.ports import Provider
from bot.core.types import Aspect, GenerationKind, Image, ImageRequest
from bot.providers.flux import FluxProvider, create
from bot.providers.settings import ProviderSettings
from tests.fakes.providers.chat_image_base import animated_gif
from tests.fakes.providers.flux import FakeBFL
from tests.fakes.providers.harness import Progress
from tests.fakes.providers.loopback import make_image

KEY = "bfl-test-key-0123456789"
MakeProvider = Callable[..., FluxProvider]


class Sleeps:
    """A poll sleep that returns at once and remembers what it was asked to wait."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBFL]:
    async with FakeBFL(api_key=KEY) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield http


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_provider(fake: FakeBFL, client: httpx.AsyncClient, sleeps: Sleeps) -> MakeProvider:
    def build(**overrides: Any) -> FluxProvider:
        fields: dict[str, Any] = {"base_url": fake.base_url, "api_key": SecretStr(KEY)}
        fields.update(overrides)
        return FluxProvider(ProviderSettings(**fields), client=client, sleep=sleeps)

    return build


@pytest.fixture
def provider(make_provider: MakeProvider) -> FluxProvider:
    return make_provider()


async def generate(provider: FluxProvider, prompt: str = "a lighthouse", **fields: Any) -> list[Image]:
    return await provider.generate(ImageRequest(prompt, **fields), on_progress=Progress())


# ----------------------------------------------------------------------------------------- generation


def test_implements_the_provider_protocol(provider: FluxProvider) -> None:
    """The provider satisfies the protocol; FLUX.2 takes any aspect, a seed and up to eight references."""
    assert isinstance(provider, Provider)
    caps = provider.capabilities
    assert (caps.edit, caps.max_n, caps.seed, caps.negative_prompt, caps.max_reference_images) == (
        True, 1, True, False, 8,
    )  # fmt: skip
    assert caps.aspects is None and provider.model == "flux-2-pro" and "flux-kontext-pro" in provider.catalog


@pytest.mark.parametrize(
    ("model", "edit", "refs", "has_aspects"),
    [
        ("flux-kontext-pro", True, 1, True),
        ("flux-pro-1.1", False, 0, True),
        ("flux-pro-1.1-ultra", False, 0, True),
    ],
)
def test_capabilities_follow_the_model(
    make_provider: MakeProvider, model: str, edit: bool, refs: int, has_aspects: bool
) -> None:
    """Kontext edits one reference; pro-1.1 and ultra cannot edit; all three list their aspects."""
    caps = make_provider(model=model).capabilities
    assert (caps.edit, caps.max_reference_images, caps.aspects is not None) == (edit, refs, has_aspects)


async def test_generation_returns_the_served_bytes(fake: FakeBFL, provider: FluxProvider) -> None:
    """The sample is downloaded byte-for-byte, with its sniffed mime, the server's seed and the model."""
    [image] = await generate(provider, seed=77)
    assert image.data == fake.served[0] and image.mime == "image/jpeg"
    assert (image.seed, image.model, image.provider, image.revised_prompt) == (77, "flux-2-pro", "flux", None)


async def test_submit_and_poll_requests(fake: FakeBFL, provider: FluxProvider, sleeps: Sleeps) -> None:
    """POST /v1/flux-2-pro with x-key, prompt, seed, width/height; then GETs of the polling_url, 1 s apart."""
    await generate(provider, seed=5, aspect=Aspect(16, 9))
    submit, *polls = fake.requests
    assert submit.path == "/v1/flux-2-pro" and submit.headers["x-key"] == KEY
    assert submit.json == {"prompt": "a lighthouse", "seed": 5, "width": 1024, "height": 576}
    assert [p.path for p in polls] == ["/v1/get_result"] * 3 and all(p.headers["x-key"] == KEY for p in polls)
    assert sleeps.calls == [1.0, 1.0]


async def test_the_server_seed_is_reported(fake: FakeBFL, provider: FluxProvider) -> None:
    """Without a requested seed the image carries the seed the server reports."""
    [image] = await generate(provider)
    assert image.seed == 1234567 and "seed" not in fake.requests[0].json


@pytest.mark.parametrize(
    ("aspect", "size"),
    [(Aspect(1, 1), (1024, 1024)), (Aspect(9, 16), (576, 1024)), (Aspect(3, 2), (1024, 672))],
)
async def test_pro_sizes_are_multiples_of_32(
    fake: FakeBFL, make_provider: MakeProvider, aspect: Aspect, size: tuple[int, int]
) -> None:
    """flux-pro-1.1 gets width/height in 32s within 256-1440."""
    await generate(make_provider(model="flux-pro-1.1"), aspect=aspect)
    body = fake.requests[0].json
    assert (body["width"], body["height"]) == size


async def test_kontext_takes_an_aspect_ratio(fake: FakeBFL, make_provider: MakeProvider) -> None:
    """flux-kontext-pro gets aspect_ratio (reduced), not width/height."""
    await generate(make_provider(model="flux-kontext-pro"), aspect=Aspect(32, 18))
    body = fake.requests[0].json
    assert body["aspect_ratio"] == "16:9" and "width" not in body


async def test_options_pass_through(fake: FakeBFL, make_provider: MakeProvider) -> None:
    """options (output_format, safety_tolerance...) go into the body; the PNG sample is sniffed as PNG."""
    [image] = await generate(make_provider(options={"output_format": "png", "safety_tolerance": 4}))
    assert fake.requests[0].json["safety_tolerance"] == 4 and image.mime == "image/png"


async def test_progress_comes_from_the_poll(provider: FluxProvider) -> None:
    """The poll's progress field is reported, growing, then 1.0 at the end."""
    progress = Progress()
    await provider.generate(ImageRequest("a fox"), on_progress=progress)
    assert progress.calls == [pytest.approx(1 / 3, abs=0.01), pytest.approx(2 / 3, abs=0.01), 1.0]


async def test_progress_is_estimated_without_a_field(fake: FakeBFL, provider: FluxProvider) -> None:
    """With no progress in the poll, a gentle estimate still moves (below 1 until done)."""
    fake.report_progress = False
    progress = Progress()
    fake_clock = iter(range(100))
    provider.timing = provider.timing.__class__(
        interval_s=1.0, timeout_s=60.0, sleep=provider.timing.sleep, clock=lambda: float(next(fake_clock))
    )
    await provider.generate(ImageRequest("a fox"), on_progress=progress)
    assert progress.calls[-1] == 1.0 and 0 < progress.calls[0] < progress.calls[-2] < 0.95


async def test_polling_times_out(fake: FakeBFL, provider: FluxProvider) -> None:
    """A task that never finishes → ProviderTimeout at the deadline (counted on the injected clock)."""
    fake.pending_polls = 10_000
    ticks = iter(range(0, 10_000, 10))
    provider.timing = provider.timing.__class__(
        interval_s=1.0, timeout_s=60.0, sleep=provider.timing.sleep, clock=lambda: float(next(ticks))
    )
    with pytest.raises(ProviderTimeout) as info:
        await generate(provider)
    assert "took too long" in info.value.user_message and len(fake.requests) < 10


def test_poll_deadline_comes_from_the_timeouts(make_provider: MakeProvider) -> None:
    """timeout_s bounds polling; without it, the client's read timeout does."""
    assert make_provider(timeout_s=42).timing.timeout_s == 42
    assert make_provider().timing.timeout_s == 5.0


# ---------------------------------------------------------------------------------------------- edits


async def test_kontext_edit_sends_input_image(fake: FakeBFL, make_provider: MakeProvider) -> None:
    """EDIT on Kontext → bare base64 input_image, the instruction as prompt, no size fields."""
    reference = make_image(16, 12)
    provider = make_provider(model="flux-kontext-pro")
    [image] = await generate(
        provider, "make it warmer", kind=GenerationKind.EDIT, reference_images=(reference,)
    )
    body = fake.requests[0].json
    assert body == {
        "prompt": "Edit the attached image: make it warmer",
        "input_image": base64.b64encode(reference).decode(),
    }
    assert (image.width, image.height) == (16, 12)


async def test_gif_reference_is_sent_as_png(fake: FakeBFL, make_provider: MakeProvider) -> None:
    """A GIF reference goes to BFL as base64 PNG (its first frame)."""
    provider = make_provider(model="flux-kontext-pro")
    await generate(provider, "make it warmer", kind=GenerationKind.EDIT, reference_images=(animated_gif(),))
    assert sniff(base64.b64decode(fake.requests[0].json["input_image"])) == "image/png"


async def test_flux2_edit_sends_several_references(fake: FakeBFL, provider: FluxProvider) -> None:
    """FLUX.2 takes input_image, input_image_2, ..."""
    refs = (make_image(8, 8), make_image(8, 8, "jpeg"), make_image(4, 4))
    await generate(provider, "combine them", kind=GenerationKind.EDIT, reference_images=refs)
    body = fake.requests[0].json
    assert [k for k in body if k.startswith("input_image")] == [
        "input_image",
        "input_image_2",
        "input_image_3",
    ]


async def test_edit_on_a_model_that_cannot_is_invalid(fake: FakeBFL, make_provider: MakeProvider) -> None:
    """EDIT with flux-pro-1.1 fails before any request, naming models that can."""
    with pytest.raises(InvalidRequest) as info:
        await generate(
            make_provider(model="flux-pro-1.1"),
            "x",
            kind=GenerationKind.EDIT,
            reference_images=(make_image(4, 4),),
        )
    assert "kontext" in info.value.user_message and fake.requests == []


# ------------------------------------------------------------------------------------------- failures


@pytest.mark.parametrize("status", ["Request Moderated", "Content Moderated"])
async def test_moderation_is_refused(fake: FakeBFL, provider: FluxProvider, status: str) -> None:
    """A moderated task (an HTTP 200 poll status) → Refused."""
    fake.end_next(status)
    with pytest.raises(Refused, match=status) as info:
        await generate(provider)
    assert info.value.user_message == "The image service refused this prompt (content policy)."


@pytest.mark.parametrize("status", ["Error", "Failed", "Task not found"])
async def test_failed_tasks_are_unavailable(fake: FakeBFL, provider: FluxProvider, status: str) -> None:
    """Error, Failed and Task not found end the task as Unavailable."""
    fake.end_next(status)
    with pytest.raises(Unavailable):
        await generate(provider)


async def test_expired_sample_is_unavailable(fake: FakeBFL, provider: FluxProvider) -> None:
    """A sample URL that already answers 403 → Unavailable saying the link expired."""
    fake.expire_files(403)
    with pytest.raises(Unavailable) as info:
        await generate(provider)
    assert "expired" in info.value.user_message


async def test_out_of_credits_is_misconfigured(fake: FakeBFL, provider: FluxProvider) -> None:
    """402 → Misconfigured about credits."""
    fake.fault(402, {"detail": "Insufficient credits"})
    with pytest.raises(Misconfigured) as info:
        await generate(provider)
    assert "credits" in info.value.user_message


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_unavailable(fake: FakeBFL, provider: FluxProvider, status: int) -> None:
    """500 and 503, at submit or while polling → Unavailable."""
    fake.fault(status, {"detail": "Internal Server Error"}, path="/v1/get_result")
    with pytest.raises(Unavailable, match=f"HTTP {status}"):
        await generate(provider)


async def test_validation_error_is_invalid_request(fake: FakeBFL, make_provider: MakeProvider) -> None:
    """422 detail list → InvalidRequest naming the field."""
    with pytest.raises(InvalidRequest) as info:
        await generate(make_provider(options={"width": 1000}))
    assert "width" in info.value.user_message and "multiple of 16" in info.value.user_message


async def test_malformed_poll_is_unavailable(fake: FakeBFL, provider: FluxProvider) -> None:
    """A poll answer that is not JSON → Unavailable."""
    fake.fault(200, raw=b"<html>gateway", path="/v1/get_result")
    with pytest.raises(Unavailable, match="not JSON"):
        await generate(provider)


def test_user_model_name_cannot_escape_the_path(provider: FluxProvider) -> None:
    """A --model that is not a BFL endpoint name is refused before any request."""
    with pytest.raises(InvalidRequest):
        provider._check_model_name("../v1/credits")


# ---------------------------------------------------------------------------------------- polling url


def _bfl_transport(polling_url: str, seen: list[str]) -> httpx.MockTransport:
    png = make_image(4, 4)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.method == "POST":
            return httpx.Response(200, json={"id": "t1", "polling_url": polling_url})
        if request.url.path == "/v1/get_result":
            sample = "https://delivery-eu1.bfl.ai/results/t1/sample.png?sig=abc"
            return httpx.Response(200, json={"status": "Ready", "result": {"sample": sample, "seed": 3}})
        return httpx.Response(200, content=png)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    "polling_url",
    ["http://169.254.169.254/v1/get_result?id=t1", "https://evil.example/v1/get_result?id=t1"],
)
async def test_untrusted_polling_url_is_not_followed(polling_url: str, sleeps: Sleeps) -> None:
    """With a public base, a polling_url off *.bfl.ai (or not https) gets no key: the base is polled."""
    seen: list[str] = []
    async with httpx.AsyncClient(transport=_bfl_transport(polling_url, seen)) as http:
        provider = FluxProvider(ProviderSettings(api_key=SecretStr(KEY)), client=http, sleep=sleeps)
        await generate(provider)
    assert seen[1] == "https://api.bfl.ai/v1/get_result?id=t1"


async def test_regional_polling_url_is_followed(sleeps: Sleeps) -> None:
    """An https polling_url on another *.bfl.ai host (the task's region) is polled as given."""
    seen: list[str] = []
    regional = "https://api.eu1.bfl.ai/v1/get_result?id=t1"
    async with httpx.AsyncClient(transport=_bfl_transport(regional, seen)) as http:
        provider = FluxProvider(ProviderSettings(api_key=SecretStr(KEY)), client=http, sleep=sleeps)
        [image] = await generate(provider)
    assert seen[1] == regional and image.seed == 3


# ------------------------------------------------------------------------------------ settings, health


def test_default_base_url(client: httpx.AsyncClient) -> None:
    """Without base_url the provider talks to api.bfl.ai."""
    assert create(ProviderSettings(api_key=SecretStr(KEY)), client=client).base_url == "https://api.bfl.ai"


async def test_ready_without_a_sample_is_unavailable(fake: FakeBFL, provider: FluxProvider) -> None:
    """A Ready poll that carries no result sample (an empty result) → Unavailable."""
    fake.fault(200, {"id": "x", "status": "Ready", "result": {}}, path="/v1/get_result")
    with pytest.raises(Unavailable, match="without a result sample"):
        await generate(provider)


# ----------------------------------------------------------------------------------------- the fake


async def test_flux2_safety_tolerance_above_5_is_invalid(make_provider: MakeProvider) -> None:
    """FLUX.2 takes safety_tolerance 0-5 (docs.bfl.ai); 6 from options is a 422 naming the field."""
    with pytest.raises(InvalidRequest) as info:
        await generate(make_provider(options={"safety_tolerance": 6}))
    assert "safety_tolerance" in info.value.user_message


async def test_flux_pro_1_1_still_takes_safety_tolerance_6(
    fake: FakeBFL, make_provider: MakeProvider
) -> None:
    """flux-pro-1.1 keeps the 0-6 range of BFL's SDK models."""
    [image] = await generate(make_provider(model="flux-pro-1.1", options={"safety_tolerance": 6}))
    assert fake.requests[0].json["safety_tolerance"] == 6 and image.data == fake.served[0]


async def test_klein_refuses_a_fifth_reference(fake: FakeBFL) -> None:
    """FLUX.2 [klein] takes at most four input images (docs.bfl.ai); input_image_5 is a 422."""
    data = base64.b64encode(make_image(8, 8)).decode()
    body = {"prompt": "x", **{f"input_image_{i}": data for i in range(2, 6)}, "input_image": data}
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{fake.base_url}/v1/flux-2-klein-9b", json=body, headers={"x-key": KEY})
    assert response.status_code == 422
    assert [p["loc"] for p in response.json()["detail"]] == [["body", "input_image_5"]]


async def test_kontext_samples_default_to_png(make_provider: MakeProvider) -> None:
    """Kontext's output_format defaults to png (BFL's SDK), FLUX.2's to jpeg."""
    [image] = await generate(make_provider(model="flux-kontext-pro"))
    assert image.mime == "image/png"
