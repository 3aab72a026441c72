"""replicate against the loopback Replicate fake: sync (Prefer: wait) and polled predictions, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.core.errors import InvalidRequest, Misconfigured, ProviderTimeout, RateLimited, Refused, Unavailable
from bot.core.generation.fitting import fit_to_capabilities
from bot.core.ports import Provider
from bot.core.types import Aspect, GenerationKind, Image, ImageRequest
from bot.providers.replicate import ReplicateProvider, create
from bot.providers.settings import ProviderSettings
from tests.fakes.providers.harness import Progress
from tests.fakes.providers.loopback import make_image
from tests.fakes.providers.replicate import SCHEMAS, VERSION, FakeReplicate

KEY = "r8_test_token_0123456789"
MakeProvider = Callable[..., ReplicateProvider]


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
async def fake() -> AsyncIterator[FakeReplicate]:
    async with FakeReplicate(api_key=KEY) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30.0) as http:
        yield http


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_provider(fake: FakeReplicate, client: httpx.AsyncClient, sleeps: Sleeps) -> MakeProvider:
    def build(**overrides: Any) -> ReplicateProvider:
        fields: dict[str, Any] = {"base_url": fake.base_url, "api_key": SecretStr(KEY)}
        fields.update(overrides)
        return ReplicateProvider(ProviderSettings(**fields), client=client, sleep=sleeps)

    return build


@pytest.fixture
def provider(make_provider: MakeProvider) -> ReplicateProvider:
    return make_provider()


async def generate(provider: ReplicateProvider, prompt: str = "a lighthouse", **fields: Any) -> list[Image]:
    return await provider.generate(ImageRequest(prompt, **fields), on_progress=Progress())


# ----------------------------------------------------------------------------------------- generation


def test_implements_the_provider_protocol(provider: ReplicateProvider) -> None:
    """The default model is flux-schnell: four outputs, its aspect list, a seed, no negative, no edits."""
    assert isinstance(provider, Provider)
    caps = provider.capabilities
    assert provider.model == "black-forest-labs/flux-schnell"
    assert (caps.edit, caps.max_n, caps.seed, caps.negative_prompt) == (False, 4, True, False)
    assert caps.aspects is not None and Aspect(21, 9) in caps.aspects


@pytest.mark.parametrize(
    ("model", "edit", "negative", "max_n"),
    [
        ("black-forest-labs/flux-kontext-pro", True, False, 1),
        ("stability-ai/stable-diffusion-3.5-large", True, True, 1),
        ("someone/new-model", False, False, 1),
    ],
)
def test_capabilities_follow_the_model(
    make_provider: MakeProvider, model: str, edit: bool, negative: bool, max_n: int
) -> None:
    """Catalogue models declare what they take; an unknown model is assumed to take the basics only."""
    caps = make_provider(model=model).capabilities
    assert (caps.edit, caps.negative_prompt, caps.max_n) == (edit, negative, max_n)


async def test_fast_model_answers_synchronously(fake: FakeReplicate, provider: ReplicateProvider) -> None:
    """With Prefer: wait a fast prediction comes back finished: one request, no polling, served bytes."""
    images = await generate(provider, n=2, seed=9)
    assert [image.data for image in images] == fake.served
    assert [r.method for r in fake.requests] == ["POST"]
    assert {(i.mime, i.seed, i.model) for i in images} == {
        ("image/webp", 9, "black-forest-labs/flux-schnell")
    }


async def test_create_request_fields(fake: FakeReplicate, provider: ReplicateProvider) -> None:
    """POST /models/{owner}/{name}/predictions: Bearer, Prefer: wait=N, input with the mapped fields."""
    await generate(provider, n=3, seed=1, aspect=Aspect(5, 4), negative="text")
    [request] = fake.requests
    assert request.path == "/v1/models/black-forest-labs/flux-schnell/predictions"
    assert request.headers["authorization"] == f"Bearer {KEY}" and request.headers["prefer"] == "wait=25"
    assert request.json == {
        "input": {"prompt": "a lighthouse", "aspect_ratio": "5:4", "seed": 1, "num_outputs": 3}
    }


async def test_flux_pro_gets_no_aspect_outside_its_enum(
    make_provider: MakeProvider, fake: FakeReplicate
) -> None:
    """flux-1.1-pro has no 21:9: the chain's fitting sends its nearest, 16:9, and the fake takes it."""
    provider = make_provider(model="black-forest-labs/flux-1.1-pro")
    fitted, notes = fit_to_capabilities(ImageRequest(prompt="a lighthouse", aspect=Aspect(21, 9)), provider)
    await provider.generate(fitted, on_progress=Progress())
    assert fake.requests[0].json["input"]["aspect_ratio"] == "16:9"
    assert notes == ["replicate has no 21:9; used the nearest, 16:9."]


async def test_unsupported_aspect_goes_to_the_nearest(
    fake: FakeReplicate, provider: ReplicateProvider
) -> None:
    """An aspect the model lacks is sent as its nearest enum value."""
    await generate(provider, aspect=Aspect(7, 3))
    assert fake.requests[0].json["input"]["aspect_ratio"] == "21:9"


async def test_negative_prompt_where_the_model_has_it(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    """SD 3.5 gets negative_prompt; a single output comes back as a string URL."""
    [image] = await generate(make_provider(model="stability-ai/stable-diffusion-3.5-large"), negative="text")
    assert fake.requests[0].json["input"]["negative_prompt"] == "text" and image.data == fake.served[0]


async def test_version_goes_to_predictions(fake: FakeReplicate, make_provider: MakeProvider) -> None:
    """owner/name:version → POST /predictions with version and input, no model key."""
    provider = make_provider(model=f"black-forest-labs/flux-schnell:{VERSION}")
    await generate(provider)
    [request] = fake.requests
    assert (
        request.path == "/v1/predictions"
        and request.json["version"] == VERSION
        and "model" not in request.json
    )


async def test_options_pass_through(fake: FakeReplicate, make_provider: MakeProvider) -> None:
    """options go into input: output_format png yields a PNG."""
    [image] = await generate(make_provider(options={"output_format": "png", "go_fast": True}))
    assert fake.requests[0].json["input"]["go_fast"] is True and image.mime == "image/png"


async def test_more_images_than_the_model_makes_take_several_calls(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    """n=2 on a single-output model → two predictions."""
    images = await generate(make_provider(model="black-forest-labs/flux-1.1-pro"), n=2)
    assert (
        len(images) == 2 and len(fake.requests) == 2 and "num_outputs" not in fake.requests[0].json["input"]
    )


@pytest.mark.parametrize("model", sorted(SCHEMAS))
async def test_every_input_is_in_the_models_published_schema(
    fake: FakeReplicate, make_provider: MakeProvider, model: str
) -> None:
    """Generations (and edits where the model takes an image) send only inputs its schema has."""
    provider = make_provider(model=model)
    await generate(provider, n=provider.capabilities.max_n, seed=3, aspect=Aspect(3, 2), negative="fog")
    if provider.capabilities.edit:
        reference = make_image(32, 32)
        request = ImageRequest(
            "make it warmer", kind=GenerationKind.EDIT, reference_images=(reference,), source_prompt="x"
        )
        await provider.generate(request, on_progress=Progress())
    assert fake.ignored_inputs == [] and all(p["status"] == "succeeded" for p in fake.predictions.values())


async def test_fake_holds_inputs_to_the_schema_ranges(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    """flux-1.1-pro's safety_tolerance is 1..6 in its schema: 7 is a 422 naming the field."""
    provider = make_provider(model="black-forest-labs/flux-1.1-pro", options={"safety_tolerance": 7})
    with pytest.raises(InvalidRequest) as info:
        await generate(provider)
    assert "input.safety_tolerance" in info.value.user_message


async def test_fake_holds_inputs_to_the_schema_enums(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    """flux-kontext-pro's output_format is jpg or png: webp is a 422."""
    provider = make_provider(model="black-forest-labs/flux-kontext-pro", options={"output_format": "webp"})
    with pytest.raises(InvalidRequest) as info:
        await generate(provider)
    assert "input.output_format" in info.value.user_message


async def test_output_shape_follows_the_schema(fake: FakeReplicate, make_provider: MakeProvider) -> None:
    """flux-schnell's output is a list of URLs, SD 3.5's a single URL; both are read."""
    await generate(make_provider(), n=2)
    await generate(make_provider(model="stability-ai/stable-diffusion-3.5-large"))
    outputs = [p["output"] for p in fake.predictions.values()]
    assert isinstance(outputs[0], list) and len(outputs[0]) == 2 and isinstance(outputs[1], str)


# ------------------------------------------------------------------------------------------- polling


async def test_slow_model_is_polled(fake: FakeReplicate, provider: ReplicateProvider, sleeps: Sleeps) -> None:
    """A prediction still starting is polled at urls.get until it succeeds; logs give the seed."""
    fake.processing_polls = 2
    [image] = await generate(provider)
    assert [r.method + " " + r.path for r in fake.requests][1:] == ["GET /v1/predictions/p00000001"] * 3
    assert sleeps.calls == [1.0, 1.0] and image.seed == 42424 and image.data == fake.served[0]


async def test_progress_is_read_from_the_logs(fake: FakeReplicate, provider: ReplicateProvider) -> None:
    """The tqdm percentage in logs is reported, then 1.0."""
    fake.processing_polls = 3
    progress = Progress()
    await provider.generate(ImageRequest("a fox"), on_progress=progress)
    assert progress.calls == [0.25, 0.5, 0.75, 1.0]


async def test_polling_times_out_and_cancels(fake: FakeReplicate, provider: ReplicateProvider) -> None:
    """A prediction that never finishes → ProviderTimeout at the deadline, and it is cancelled."""
    fake.processing_polls = 10_000
    ticks = iter(range(0, 10_000, 10))
    provider.timing = provider.timing.__class__(
        interval_s=1.0, timeout_s=60.0, sleep=provider.timing.sleep, clock=lambda: float(next(ticks))
    )
    with pytest.raises(ProviderTimeout):
        await generate(provider)
    assert fake.cancelled == ["p00000001"]


def test_untrusted_get_url_is_not_followed(client: httpx.AsyncClient) -> None:
    """With the public base, urls.get off api.replicate.com is replaced by {base}/predictions/{id}."""
    provider = create(ProviderSettings(api_key=SecretStr(KEY)), client=client)
    own = "https://api.replicate.com/v1/predictions/abc"
    evil: dict[str, Any] = {"id": "abc", "urls": {"get": "http://169.254.169.254/latest"}}
    good: dict[str, Any] = {"id": "abc", "urls": {"get": own}}
    assert provider._get_url(evil) == own
    assert provider._get_url(good) == own


# ---------------------------------------------------------------------------------------------- edits


async def test_kontext_edit_sends_input_image(fake: FakeReplicate, make_provider: MakeProvider) -> None:
    """EDIT on Kontext → input_image as a data URL and aspect_ratio match_input_image."""
    reference = make_image(8, 8)
    provider = make_provider(model="black-forest-labs/flux-kontext-pro")
    [image] = await generate(
        provider, "make it warmer", kind=GenerationKind.EDIT, reference_images=(reference,)
    )
    inputs = fake.requests[0].json["input"]
    assert inputs["input_image"].startswith("data:image/png;base64,")
    assert inputs["aspect_ratio"] == "match_input_image"
    assert inputs["prompt"] == "Edit the attached image: make it warmer"
    assert image.data == fake.served[0]


# ------------------------------------------------------------------------------------------- failures


@pytest.mark.parametrize("polls", [0, 2])
async def test_nsfw_failure_is_refused(fake: FakeReplicate, provider: ReplicateProvider, polls: int) -> None:
    """A prediction failed with an NSFW error (sync or polled) → Refused."""
    fake.processing_polls = polls
    fake.fail_prediction_next()
    with pytest.raises(Refused, match="NSFW") as info:
        await generate(provider)
    assert info.value.user_message == "The image service refused this prompt (content policy)."


async def test_other_failure_is_unavailable(fake: FakeReplicate, provider: ReplicateProvider) -> None:
    """A prediction failed for another reason → Unavailable quoting it."""
    fake.fail_prediction_next("CUDA out of memory")
    with pytest.raises(Unavailable, match="CUDA out of memory"):
        await generate(provider)


async def test_canceled_is_unavailable(fake: FakeReplicate, provider: ReplicateProvider) -> None:
    """A canceled prediction → Unavailable."""
    fake.cancel_next()
    with pytest.raises(Unavailable, match="canceled"):
        await generate(provider)


async def test_empty_output_is_refused(fake: FakeReplicate, provider: ReplicateProvider) -> None:
    """Succeeded without any output (filtered) → Refused."""
    fake.empty_output_next()
    with pytest.raises(Refused):
        await generate(provider)


async def test_invalid_input_is_invalid_request(fake: FakeReplicate, make_provider: MakeProvider) -> None:
    """422 invalid_fields → InvalidRequest naming the field."""
    with pytest.raises(InvalidRequest) as info:
        await generate(make_provider(options={"num_outputs": 9}))
    assert "input.num_outputs" in info.value.user_message


async def test_throttled_carries_the_wait_from_the_detail(
    fake: FakeReplicate, provider: ReplicateProvider
) -> None:
    """429 "resets in ~30s" without Retry-After → RateLimited(retry_after=30)."""
    fake.rate_limit_next()
    with pytest.raises(RateLimited) as info:
        await generate(provider)
    assert info.value.retry_after == 30.0 and "about 30 s" in info.value.user_message


async def test_retry_after_header_wins(fake: FakeReplicate, provider: ReplicateProvider) -> None:
    """429 with Retry-After: 4 → retry_after 4."""
    fake.rate_limit_next(retry_after="4")
    with pytest.raises(RateLimited) as info:
        await generate(provider)
    assert info.value.retry_after == 4.0


async def test_expired_output_is_unavailable(fake: FakeReplicate, provider: ReplicateProvider) -> None:
    """An output URL already deleted (404) → Unavailable saying the link expired."""
    fake.expire_files()
    with pytest.raises(Unavailable) as info:
        await generate(provider)
    assert "expired" in info.value.user_message


async def test_unknown_model_is_misconfigured(make_provider: MakeProvider) -> None:
    """404 for a model Replicate does not have → Misconfigured."""
    with pytest.raises(Misconfigured):
        await generate(make_provider(model="nobody/nothing"))


async def test_bad_model_reference_is_refused(provider: ReplicateProvider) -> None:
    """A --model that is not owner/name is InvalidRequest before any request."""
    with pytest.raises(InvalidRequest):
        await generate(provider, model="../../account")


# ------------------------------------------------------------------------------------ settings, health


def test_bad_configured_model_is_misconfigured(client: httpx.AsyncClient) -> None:
    """A configured model that is not owner/name[:version] → Misconfigured."""
    with pytest.raises(Misconfigured):
        create(ProviderSettings(api_key=SecretStr(KEY), model="flux schnell"), client=client)
