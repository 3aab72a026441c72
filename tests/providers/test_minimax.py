"""minimax against the loopback MiniMax fake: the body, subject reference, base_resp errors in a 200."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from pydantic import SecretStr

from bot.core.errors import InvalidRequest, Misconfigured, RateLimited, Refused, Unavailable
from bot.core.imaging import sniff
from bot.core.types import Aspect, GenerationKind, ImageRequest
from bot.providers.minimax import MiniMaxProvider, create
from tests.fakes.providers.chat_image_base import animated_gif
from tests.fakes.providers.harness import generate, keyed_builder
from tests.fakes.providers.loopback import make_image
from tests.fakes.providers.minimax import FakeMiniMax

KEY = "mm-test-key-0123456789"
MakeProvider = Callable[..., MiniMaxProvider]


@pytest.fixture
async def fake() -> AsyncIterator[FakeMiniMax]:
    async with FakeMiniMax(api_key=KEY) as server:
        yield server


@pytest.fixture
def make_provider(fake: FakeMiniMax, client: httpx.AsyncClient) -> MakeProvider:
    return keyed_builder(create, base_url=fake.base_url, key=KEY, client=client)


def edit(reference: bytes) -> ImageRequest:
    return ImageRequest(
        "at the beach", kind=GenerationKind.EDIT, reference_images=(reference,), source_prompt="a woman"
    )


async def test_the_body_is_minimaxs(fake: FakeMiniMax, make_provider: MakeProvider) -> None:
    """model, prompt, the nearest aspect_ratio, n, seed and base64 results, with the Bearer key."""
    images = await generate(make_provider(), ImageRequest("a lighthouse", n=3, seed=7, aspect=Aspect(7, 3)))
    sent = fake.requests[-1]
    assert sent.path == "/v1/image_generation" and sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.json == {
        "model": "image-01", "prompt": "a lighthouse", "aspect_ratio": "21:9", "n": 3,
        "response_format": "base64", "seed": 7,
    }  # fmt: skip
    assert [i.data for i in images] == fake.served and images[0].mime == "image/jpeg"


async def test_nine_images_at_most_per_call(fake: FakeMiniMax, make_provider: MakeProvider) -> None:
    """n above nine is asked for as nine (the chain asks again for the rest)."""
    assert len(await generate(make_provider(), ImageRequest("a lighthouse", n=12))) == 9


async def test_an_edit_sends_the_reference_as_a_character(
    fake: FakeMiniMax, make_provider: MakeProvider
) -> None:
    """EDIT → subject_reference [{type: character, image_file: data URL}] and the scene as the prompt."""
    reference = make_image(16, 16, "png")
    await generate(make_provider(), edit(reference))
    body = fake.requests[-1].json
    [subject] = body["subject_reference"]
    assert subject["type"] == "character" and body["prompt"] == "a woman, at the beach"
    assert subject["image_file"] == "data:image/png;base64," + base64.b64encode(reference).decode()


def sent_reference(fake: FakeMiniMax) -> bytes:
    [subject] = fake.requests[-1].json["subject_reference"]
    return base64.b64decode(subject["image_file"].removeprefix("data:image/png;base64,"))


async def test_a_webp_reference_goes_as_png_with_a_note(
    fake: FakeMiniMax, make_provider: MakeProvider
) -> None:
    """MiniMax takes JPEG and PNG references only: a WebP is sent as PNG and every image says so."""
    images = await generate(make_provider(), edit(make_image(16, 16, "webp")))
    assert sniff(sent_reference(fake)) == "image/png"
    assert all(image.notes == ("minimax does not take WebP images; it was sent as PNG.",) for image in images)


async def test_an_animated_gif_reference_goes_as_its_first_frame(
    fake: FakeMiniMax, make_provider: MakeProvider
) -> None:
    """An animated GIF is sent as its first frame in PNG, with the note."""
    [image] = await generate(make_provider(), edit(animated_gif()))
    assert sniff(sent_reference(fake)) == "image/png"
    assert image.notes == ("minimax takes still images only; the first frame of the animated GIF was sent.",)


async def test_a_prompt_over_1500_characters_is_refused_locally(
    fake: FakeMiniMax, make_provider: MakeProvider
) -> None:
    """The documented prompt limit is checked before sending."""
    with pytest.raises(InvalidRequest, match="1500"):
        await generate(make_provider(), ImageRequest("x" * 1501))
    assert fake.requests == []


async def test_sensitive_input_in_a_200_is_refused(fake: FakeMiniMax, make_provider: MakeProvider) -> None:
    """base_resp 1026 (input new_sensitive) inside an HTTP 200 → Refused."""
    fake.sensitive_next()
    with pytest.raises(Refused, match="1026"):
        await generate(make_provider(), ImageRequest("a lighthouse"))


async def test_throttling_in_a_200_is_rate_limited(fake: FakeMiniMax, make_provider: MakeProvider) -> None:
    """base_resp 1002 (rate limit) → RateLimited, with no wait (MiniMax names none)."""
    fake.throttle_next()
    with pytest.raises(RateLimited) as info:
        await generate(make_provider(), ImageRequest("a lighthouse"))
    assert info.value.retry_after is None


async def test_no_balance_is_misconfigured(fake: FakeMiniMax, make_provider: MakeProvider) -> None:
    """base_resp 1008 (insufficient balance) → Misconfigured: waiting will not help."""
    fake.base_resp_next(1008, "insufficient balance")
    with pytest.raises(Misconfigured, match="balance"):
        await generate(make_provider(), ImageRequest("a lighthouse"))


async def test_a_server_error_in_a_200_is_unavailable(fake: FakeMiniMax, make_provider: MakeProvider) -> None:
    """base_resp 1024 (internal error) → Unavailable (retried by the chain)."""
    fake.base_resp_next(1024, "internal error")
    with pytest.raises(Unavailable):
        await generate(make_provider(), ImageRequest("a lighthouse"))


async def test_invalid_params_are_invalid_request(make_provider: MakeProvider) -> None:
    """An option the API refuses (a bad aspect_ratio) → base_resp 2013 → InvalidRequest naming it."""
    with pytest.raises(InvalidRequest, match=r"2013.*aspect_ratio"):
        await generate(make_provider(options={"aspect_ratio": "5:1"}), ImageRequest("a lighthouse"))


async def test_all_images_failed_is_refused(fake: FakeMiniMax, make_provider: MakeProvider) -> None:
    """status 0 but no image (every one failed) → Refused, saying how many failed."""
    fake.fail_all_next = True
    with pytest.raises(Refused, match="failed_count 2"):
        await generate(make_provider(), ImageRequest("a lighthouse", n=2))


async def test_check_sees_a_rejected_key(make_provider: MakeProvider) -> None:
    """check() with a wrong key: base_resp 2049 → not ok, saying the key was rejected."""
    health = await make_provider(api_key=SecretStr("mm-wrong-key-000000")).check()
    assert not health.ok and "rejected" in health.detail
