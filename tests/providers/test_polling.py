"""The poll loop and helpers shared by the asynchronous cloud providers (flux, replicate)."""

from __future__ import annotations

import httpx
import pytest

from bot.core.errors import ProviderTimeout, Unavailable
from bot.core.types import Aspect, GenerationKind, ImageRequest
from bot.providers._http.cloud import fetch_result
from bot.providers._http.common import instruction_prompt, reduced
from bot.providers._http.polling import PollTiming, ProgressReporter, as_fraction, estimate, poll, trusted_url
from tests.fakes.providers.loopback import make_image


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_poll_returns_the_first_result() -> None:
    """The step is repeated, a sleep apart, until it returns something."""
    clock = Clock()
    answers = iter([None, None, "done"])

    async def step(elapsed: float) -> str | None:
        return next(answers)

    assert await poll(step, provider="x", timing=PollTiming(2.0, 60.0, clock.sleep, clock)) == "done"
    assert clock.sleeps == [2.0, 2.0]


async def test_poll_gives_up_at_the_deadline() -> None:
    """A step that never finishes → ProviderTimeout once the next sleep would pass timeout_s."""
    clock = Clock()

    async def step(elapsed: float) -> None:
        return None

    with pytest.raises(ProviderTimeout, match="no result after 10 s"):
        await poll(step, provider="x", timing=PollTiming(1.0, 10.0, clock.sleep, clock))
    assert len(clock.sleeps) == 10


async def test_poll_passes_elapsed_time_and_errors_through() -> None:
    """The step sees the elapsed time; an error it raises ends the loop as it is."""
    clock = Clock()
    seen: list[float] = []

    async def step(elapsed: float) -> None:
        seen.append(elapsed)
        if len(seen) == 3:
            raise Unavailable("ended", provider="x")

    with pytest.raises(Unavailable, match="ended"):
        await poll(step, provider="x", timing=PollTiming(1.5, 60.0, clock.sleep, clock))
    assert seen == [0.0, 1.5, 3.0]


@pytest.mark.parametrize(
    ("value", "fraction"),
    [(0.25, 0.25), (40, 0.4), (100, 1.0), (None, None), ("50", None), (True, None), (-1, None)],
)
def test_as_fraction(value: object, fraction: float | None) -> None:
    """Fractions stay, percentages are divided, anything else is None."""
    assert as_fraction(value) == fraction


def test_estimate_is_gentle() -> None:
    """The made-up progress grows, passes half at the typical time and never reaches 0.9."""
    values = [estimate(t, 10.0) for t in (0, 5, 10, 60, 10_000)]
    assert values == sorted(values) and values[0] == 0 and 0.5 < values[2] < 0.6 and values[-1] <= 0.9


async def test_progress_reporter_only_grows_and_stops_below_one() -> None:
    """Reports that go backwards, repeat or say nothing are dropped; 1.0 only from done()."""
    calls: list[float] = []

    async def on_progress(fraction: float, preview: bytes | None) -> None:
        calls.append(fraction)

    reporter = ProgressReporter(on_progress)
    for value in (0.2, 0.1, None, 0.2, 0.5, 1.0):
        await reporter.report(value)
    await reporter.done()
    assert calls == [0.2, 0.5, 0.95, 1.0]


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("https://api.eu.bfl.ai/v1/get_result?id=1", True),
        ("https://api.bfl.ai/v1/get_result?id=1", True),
        ("http://api.eu.bfl.ai/v1/get_result?id=1", False),
        ("https://evilbfl.ai/v1/get_result?id=1", False),
        ("https://api.bfl.ai.evil.example/x", False),
        ("https://user:pw@api.eu.bfl.ai/x", False),
        ("http://127.0.0.1:9/x", False),
        ("file:///etc/passwd", False),
    ],
)
def test_trusted_url_with_a_public_base(url: str, trusted: bool) -> None:
    """With the public base only https URLs on the expected hosts get the key."""
    assert trusted_url(url, base="https://api.bfl.ai", hosts=(".bfl.ai",)) is trusted


def test_trusted_url_with_a_local_base() -> None:
    """A local base (tests, a local proxy) may hand out any http(s) URL."""
    assert trusted_url("http://127.0.0.1:9/x", base="http://127.0.0.1:8/v1", hosts=())
    assert not trusted_url("ftp://127.0.0.1/x", base="http://127.0.0.1:8/v1", hosts=())


def test_reduced_and_instruction_prompt() -> None:
    """32:18 reduces to 16:9; VARY asks for a variation of the source prompt; a generation is the prompt."""
    assert reduced(Aspect(32, 18)) == Aspect(16, 9)
    vary = ImageRequest("p", kind=GenerationKind.VARY, source_prompt="a red fox")
    assert "a red fox" in instruction_prompt(vary) and instruction_prompt(ImageRequest("warmer")) == "warmer"


async def test_fetch_result_keeps_signatures_out_of_messages() -> None:
    """An expired signed URL → Unavailable whose message names the status, not the signature."""
    transport = httpx.MockTransport(lambda request: httpx.Response(403, text="<Error>AccessDenied</Error>"))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(Unavailable) as info:
            await fetch_result(
                client, "http://127.0.0.1/x.png?sig=SECRET", provider="x", model=None, allow_private=True
            )
    assert "403" in str(info.value) and "SECRET" not in str(info.value)


async def test_fetch_result_returns_the_bytes() -> None:
    """A working URL gives the bytes with sniffed mime and size."""
    png = make_image(5, 3)
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=png))
    async with httpx.AsyncClient(transport=transport) as client:
        image = await fetch_result(
            client, "http://127.0.0.1/x", provider="x", model="m", allow_private=True, seed=4
        )
    assert (image.data, image.mime, image.width, image.height, image.seed) == (png, "image/png", 5, 3, 4)
