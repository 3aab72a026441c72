"""zhipu against the loopback Zhipu fake: CogView sizes, quality, URL results, business error codes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from bot.core.errors import InvalidRequest, Misconfigured, RateLimited, Refused
from bot.core.types import Aspect, GenerationKind, ImageRequest
from bot.providers.zhipu import ZhipuProvider, canvas, create
from tests.fakes.providers.harness import generate, keyed_builder
from tests.fakes.providers.loopback import make_image
from tests.fakes.providers.zhipu import FakeZhipu, _size_ok

KEY = "zp-test-key-0123456789"
MakeProvider = Callable[..., ZhipuProvider]


@pytest.fixture
async def fake() -> AsyncIterator[FakeZhipu]:
    async with FakeZhipu(api_key=KEY) as server:
        yield server


@pytest.fixture
def make_provider(fake: FakeZhipu, client: httpx.AsyncClient) -> MakeProvider:
    return keyed_builder(create, base_url=fake.base_url, key=KEY, client=client)


@pytest.mark.parametrize(
    "aspect", [Aspect(1, 1), Aspect(16, 9), Aspect(9, 16), Aspect(21, 9), Aspect(1, 4), Aspect(8, 1)]
)
def test_cogview4_sizes_keep_its_rules(aspect: Aspect) -> None:
    """Every aspect becomes a WxH CogView-4 accepts (sides 512-2048, multiples of 16, ≤ 2^21 pixels)."""
    assert _size_ok(canvas(aspect, "cogview-4-250304"), "cogview-4-250304")


def test_other_models_get_a_recommended_size() -> None:
    """cogview-3-flash takes only the seven recommended sizes: 16:9 → 1344x768."""
    assert canvas(Aspect(16, 9), "cogview-3-flash") == "1344x768"


async def test_the_request_and_the_url_result(fake: FakeZhipu, make_provider: MakeProvider) -> None:
    """model, prompt, size and (on cogview-4-250304) quality hd; the URL is downloaded at once."""
    [image] = await generate(
        make_provider(), ImageRequest("a lighthouse", aspect=Aspect(16, 9), quality="hd")
    )
    sent = fake.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.json == {
        "model": "cogview-4-250304",
        "prompt": "a lighthouse",
        "size": "1024x576",
        "quality": "hd",
    }
    assert image.data == fake.served[-1] and len(fake.downloads) == 1


async def test_quality_is_not_sent_to_models_without_it(fake: FakeZhipu, make_provider: MakeProvider) -> None:
    """cogview-4 (not -250304) takes no quality: it is left out."""
    await generate(make_provider(model="cogview-4"), ImageRequest("a lighthouse", quality="hd"))
    assert "quality" not in fake.requests[-1].json


async def test_code_1301_is_refused(fake: FakeZhipu, make_provider: MakeProvider) -> None:
    """Business code 1301 (unsafe content) → Refused, whatever the HTTP status."""
    fake.refuse_next()
    with pytest.raises(Refused, match="1301"):
        await generate(make_provider(), ImageRequest("a lighthouse"))


async def test_code_1302_is_rate_limited(fake: FakeZhipu, make_provider: MakeProvider) -> None:
    """429 with code 1302 (concurrency) → RateLimited."""
    fake.throttle_next()
    with pytest.raises(RateLimited, match="1302"):
        await generate(make_provider(), ImageRequest("a lighthouse"))


async def test_arrears_are_misconfigured(fake: FakeZhipu, make_provider: MakeProvider) -> None:
    """429 with code 1113 (account in arrears) is not a rate limit: Misconfigured, waiting will not help."""
    fake.fault(429, {"error": {"code": "1113", "message": "Your account is in arrears"}})
    with pytest.raises(Misconfigured, match="1113"):
        await generate(make_provider(), ImageRequest("a lighthouse"))


async def test_an_unknown_model_is_misconfigured(make_provider: MakeProvider) -> None:
    """Code 1211 (model does not exist) → Misconfigured."""
    with pytest.raises(Misconfigured, match="1211"):
        await generate(make_provider(model="cogview-9"), ImageRequest("a lighthouse"))


async def test_an_edit_is_refused_before_sending(fake: FakeZhipu, make_provider: MakeProvider) -> None:
    """CogView only draws from text: an edit is InvalidRequest and nothing is sent."""
    request = ImageRequest("warmer", kind=GenerationKind.EDIT, reference_images=(make_image(8, 8),))
    with pytest.raises(InvalidRequest, match="cannot edit"):
        await generate(make_provider(), request)
    assert fake.requests == []


async def test_check_takes_the_missing_prompt_answer_as_ok(
    fake: FakeZhipu, make_provider: MakeProvider
) -> None:
    """check(): a request without a prompt answers 1213 once the key is accepted → ok."""
    assert (await make_provider().check()).ok
    assert "prompt" not in fake.requests[-1].json
