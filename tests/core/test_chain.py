"""The provider chain: capability fitting, deadline, retries, breakers, concurrency, failover."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import pytest

from bot.core.errors import InvalidInput, ProviderTimeout, RateLimited, Refused, TooLarge, Unavailable
from bot.core.generation.chain import MemorySlots, ProviderChain
from bot.core.generation.fitting import fit_to_capabilities, nearest_aspect
from bot.core.generation.resilience import BreakerState, MemoryBreakers, RetryPolicy
from bot.core.ports import Provider
from bot.core.types import Aspect, Capabilities, GenerationKind, ImageRequest
from tests.fakes.scripted import FakeTimer, ScriptedProvider

NO_RETRIES = RetryPolicy(retries=0)


async def no_progress(fraction: float, preview: bytes | None) -> None:
    return None


def make_chain(
    providers: Sequence[Provider],
    *,
    timer: FakeTimer | None = None,
    timeout_s: float = 5,
    retry: RetryPolicy = NO_RETRIES,
    breaker_failures: int = 5,
    breaker_reset_s: float = 60.0,
    concurrency: Mapping[str, int] | None = None,
) -> ProviderChain:
    """A chain on a fake timer (waits are recorded, not slept) with no retries unless asked."""
    timer = timer or FakeTimer()
    return ProviderChain(
        providers,
        timeout_s=timeout_s,
        retry=retry,
        breaker_failures=breaker_failures,
        breaker_reset_s=breaker_reset_s,
        concurrency=concurrency,
        clock=timer.clock,
        sleep=timer.sleep,
    )


async def test_first_provider_result_returned() -> None:
    """With a healthy first provider its images come back with no notes."""
    first, second = ScriptedProvider("a"), ScriptedProvider("b")
    result = await make_chain([first, second]).generate(ImageRequest("fox", seed=3), on_progress=no_progress)
    assert result.provider == "a" and result.notes == ()
    assert second.requests == []


async def test_transient_error_fails_over_and_says_so() -> None:
    """An outage on the first provider moves to the next and the note tells the user."""
    first = ScriptedProvider("a", errors=[Unavailable("down", provider="a")])
    result = await make_chain([first, ScriptedProvider("b")]).generate(
        ImageRequest("fox"), on_progress=no_progress
    )
    assert result.provider == "b"
    assert any("a was unavailable" in note for note in result.notes)


async def test_refusal_is_not_failed_over() -> None:
    """A content refusal is the answer; the next provider is not asked."""
    first, second = ScriptedProvider("a", errors=[Refused("no", provider="a")]), ScriptedProvider("b")
    with pytest.raises(Refused):
        await make_chain([first, second]).generate(ImageRequest("x"), on_progress=no_progress)
    assert second.requests == []


async def test_last_transient_error_raised_when_all_fail() -> None:
    """When every provider fails transiently the last error is raised."""
    chain = make_chain([ScriptedProvider("a", errors=[Unavailable("down", provider="a")])])
    with pytest.raises(Unavailable):
        await chain.generate(ImageRequest("x"), on_progress=no_progress)


async def test_deadline_becomes_provider_timeout() -> None:
    """A provider slower than the deadline is abandoned with ProviderTimeout."""
    chain = make_chain([ScriptedProvider("slow", delay_s=1.0)], timeout_s=0.01)
    with pytest.raises(ProviderTimeout) as caught:
        await chain.generate(ImageRequest("x"), on_progress=no_progress)
    assert "too long" in caught.value.user_message


async def test_pinned_provider_must_be_in_chain() -> None:
    """--provider naming something not configured is a clear input error."""
    chain = make_chain([ScriptedProvider("a")])
    with pytest.raises(InvalidInput) as caught:
        await chain.generate(ImageRequest("x", provider="openai"), on_progress=no_progress)
    assert "not set up" in caught.value.user_message


async def test_pinned_provider_skips_others() -> None:
    """--provider b goes straight to b."""
    first, second = ScriptedProvider("a"), ScriptedProvider("b")
    result = await make_chain([first, second]).generate(
        ImageRequest("x", provider="b"), on_progress=no_progress
    )
    assert result.provider == "b" and first.requests == []


async def test_edit_skips_providers_that_cannot_edit() -> None:
    """An edit goes to the first provider able to edit."""
    no_edit = ScriptedProvider("a", capabilities=Capabilities(edit=False, max_n=4))
    result = await make_chain([no_edit, ScriptedProvider("b")]).generate(
        ImageRequest("warmer", kind=GenerationKind.EDIT, reference_images=(b"x",)), on_progress=no_progress
    )
    assert result.provider == "b" and no_edit.requests == []


def test_fit_drops_negative_the_provider_lacks_with_a_note() -> None:
    """A negative prompt the provider cannot take is dropped and the user told."""
    provider = ScriptedProvider("p", capabilities=Capabilities(max_n=1, negative_prompt=False))
    fitted, notes = fit_to_capabilities(ImageRequest("x", n=3, negative="text"), provider)
    assert fitted.negative is None and fitted.n == 3
    assert notes == ["p has no negative prompt; --no was ignored."]


async def test_more_images_than_a_call_allows_are_split_into_calls() -> None:
    """n=3 on a provider making one image per call becomes three calls with consecutive seeds."""
    provider = ScriptedProvider("p", capabilities=Capabilities(max_n=1))
    result = await make_chain([provider]).generate(ImageRequest("x", n=3, seed=10), on_progress=no_progress)
    assert [request.n for request in provider.requests] == [1, 1, 1]
    assert [image.seed for image in result.images] == [10, 11, 12]


def test_fit_picks_nearest_supported_aspect() -> None:
    """An unsupported aspect becomes the nearest supported one, with a note."""
    caps = Capabilities(max_n=1, aspects=(Aspect(1, 1), Aspect(16, 9), Aspect(9, 16)))
    fitted, notes = fit_to_capabilities(
        ImageRequest("x", aspect=Aspect(21, 9)), ScriptedProvider("p", capabilities=caps)
    )
    assert fitted.aspect == Aspect(16, 9)
    assert "nearest" in notes[0]


def test_nearest_aspect_for_portrait() -> None:
    """2:3 maps to 9:16 rather than a landscape ratio."""
    assert nearest_aspect(Aspect(2, 3), [Aspect(1, 1), Aspect(16, 9), Aspect(9, 16)]) == Aspect(9, 16)


# ---------------------------------------------------------------------------------- resilience


async def test_transient_error_is_retried_on_the_same_provider_first() -> None:
    """With retries an outage is retried on the same provider (after a wait) before failing over."""
    timer = FakeTimer()
    first, second = ScriptedProvider("a", errors=[Unavailable("down", provider="a")]), ScriptedProvider("b")
    chain = make_chain([first, second], timer=timer, retry=RetryPolicy(retries=2))
    result = await chain.generate(ImageRequest("fox"), on_progress=no_progress)
    assert result.provider == "a" and result.notes == ()
    assert len(first.requests) == 2 and len(timer.sleeps) == 1 and second.requests == []


async def test_retries_stop_at_the_deadline_and_fail_over() -> None:
    """Waits on one provider never run past the generate() deadline; the next provider gets the job."""
    timer = FakeTimer()
    busy = [RateLimited("busy", provider="a", retry_after=8.0) for _ in range(3)]
    first, second = ScriptedProvider("a", errors=busy), ScriptedProvider("b")
    chain = make_chain([first, second], timer=timer, timeout_s=10, retry=RetryPolicy(retries=2))
    result = await chain.generate(ImageRequest("fox"), on_progress=no_progress)
    assert result.provider == "b"
    assert timer.sleeps == [8.0] and len(first.requests) == 2


async def test_open_breaker_skips_provider_with_note() -> None:
    """A provider whose breaker is open is not called; the next one serves and the note says why."""
    first, second = ScriptedProvider("a", errors=[Unavailable("down", provider="a")]), ScriptedProvider("b")
    chain = make_chain([first, second], breaker_failures=1)
    await chain.generate(ImageRequest("fox"), on_progress=no_progress)
    result = await chain.generate(ImageRequest("fox"), on_progress=no_progress)
    assert result.provider == "b" and len(first.requests) == 1
    assert any("a is paused after repeated failures" in note for note in result.notes)


async def test_all_breakers_open_raise_unavailable_with_wait() -> None:
    """When every candidate is paused the user is told roughly when to try again."""
    timer = FakeTimer()
    chain = make_chain(
        [ScriptedProvider("a", errors=[Unavailable("down", provider="a")])],
        timer=timer,
        breaker_failures=1,
        breaker_reset_s=60.0,
    )
    with pytest.raises(Unavailable):
        await chain.generate(ImageRequest("x"), on_progress=no_progress)
    timer.advance(15.0)
    with pytest.raises(Unavailable) as caught:
        await chain.generate(ImageRequest("x"), on_progress=no_progress)
    assert caught.value.user_message.endswith("try again in about 45 s.")
    assert caught.value.provider == "a"


async def test_breaker_probe_success_closes_it_again() -> None:
    """After the reset time one request probes the paused provider and, on success, closes the breaker."""
    timer = FakeTimer()
    provider = ScriptedProvider("a", errors=[Unavailable("down", provider="a")])
    chain = make_chain([provider], timer=timer, breaker_failures=1, breaker_reset_s=60.0)
    with pytest.raises(Unavailable):
        await chain.generate(ImageRequest("x"), on_progress=no_progress)
    assert chain.health() == {"a": BreakerState.OPEN}
    timer.advance(60.0)
    result = await chain.generate(ImageRequest("x"), on_progress=no_progress)
    assert result.provider == "a" and chain.health() == {"a": BreakerState.CLOSED}


async def test_refusal_does_not_count_against_the_breaker() -> None:
    """A refusal means the provider is up: it breaks a run of transient failures."""
    errors = [
        Unavailable("down", provider="a"),
        Refused("no", provider="a"),
        Unavailable("down", provider="a"),
    ]
    chain = make_chain([ScriptedProvider("a", errors=errors)], breaker_failures=2)
    for expected in (Unavailable, Refused, Unavailable):
        with pytest.raises(expected):
            await chain.generate(ImageRequest("x"), on_progress=no_progress)
    assert chain.health() == {"a": BreakerState.CLOSED}


async def test_too_long_retry_after_fails_over_instead_of_waiting() -> None:
    """A Retry-After beyond what the policy waits for moves straight to the next provider."""
    timer = FakeTimer()
    first = ScriptedProvider("a", errors=[RateLimited("busy", provider="a", retry_after=600.0)])
    second = ScriptedProvider("b")
    chain = make_chain([first, second], timer=timer, timeout_s=900, retry=RetryPolicy(retries=2))
    result = await chain.generate(ImageRequest("x"), on_progress=no_progress)
    assert result.provider == "b" and len(first.requests) == 1 and timer.sleeps == []


async def test_too_long_retry_after_on_last_provider_tells_user_when() -> None:
    """The last provider's long Retry-After is raised with a message saying when to come back."""
    provider = ScriptedProvider("a", errors=[RateLimited("busy", provider="a", retry_after=45.0)])
    chain = make_chain([provider], timeout_s=30, retry=RetryPolicy(retries=2))
    with pytest.raises(RateLimited) as caught:
        await chain.generate(ImageRequest("x"), on_progress=no_progress)
    assert caught.value.user_message == "The image service is busy; try again in about 45 s."


async def test_rate_limit_keeps_its_own_user_message() -> None:
    """A provider's own user_message on a RateLimited is not overwritten."""
    error = RateLimited("429", provider="a", retry_after=500.0, user_message="Quota used up for today.")
    chain = make_chain([ScriptedProvider("a", errors=[error])])
    with pytest.raises(RateLimited) as caught:
        await chain.generate(ImageRequest("x"), on_progress=no_progress)
    assert caught.value.user_message == "Quota used up for today."


async def test_concurrency_limit_serialises_calls_into_a_provider() -> None:
    """With concurrency {"p": 1} two simultaneous generate() calls never overlap inside the provider."""
    gate = asyncio.Event()
    provider = ScriptedProvider("p", gate=gate)
    chain = make_chain([provider], concurrency={"p": 1})
    tasks = [
        asyncio.create_task(chain.generate(ImageRequest("x"), on_progress=no_progress)) for _ in range(2)
    ]
    for _ in range(5):
        await asyncio.sleep(0)
    assert provider.in_flight == 1 and len(provider.requests) == 1
    gate.set()
    results = await asyncio.gather(*tasks)
    assert [r.provider for r in results] == ["p", "p"] and provider.max_in_flight == 1


async def test_providers_without_a_limit_run_concurrently() -> None:
    """A provider missing from the concurrency mapping takes simultaneous calls (the fake measures it)."""
    gate = asyncio.Event()
    provider = ScriptedProvider("p", gate=gate)
    chain = make_chain([provider], concurrency={"other": 1})
    tasks = [
        asyncio.create_task(chain.generate(ImageRequest("x"), on_progress=no_progress)) for _ in range(2)
    ]
    for _ in range(5):
        await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*tasks)
    assert provider.max_in_flight == 2


async def test_waiting_for_a_concurrency_slot_counts_against_the_deadline() -> None:
    """A request stuck behind a busy provider's only slot times out like a slow provider."""
    gate = asyncio.Event()
    provider = ScriptedProvider("p", gate=gate)
    chain = make_chain([provider], concurrency={"p": 1}, timeout_s=0.01)
    holder = asyncio.create_task(chain.generate(ImageRequest("x"), on_progress=no_progress))
    await asyncio.sleep(0)
    with pytest.raises(ProviderTimeout) as caught:
        await chain.generate(ImageRequest("x"), on_progress=no_progress)
    assert "too long" in caught.value.user_message and len(provider.requests) == 1
    gate.set()
    await asyncio.gather(holder, return_exceptions=True)


def test_health_reports_every_provider() -> None:
    """health() names each provider's breaker state, all closed at the start."""
    chain = make_chain([ScriptedProvider("a"), ScriptedProvider("b")])
    assert chain.health() == {"a": BreakerState.CLOSED, "b": BreakerState.CLOSED}


async def test_current_health_reads_the_breaker_store() -> None:
    """current_health() (what /status shows) names an opened breaker, like health()."""
    chain = make_chain(
        [ScriptedProvider("a", errors=[Unavailable("down", provider="a")])], breaker_failures=1
    )
    with pytest.raises(Unavailable):
        await chain.generate(ImageRequest("x"), on_progress=no_progress)
    assert await chain.current_health() == chain.health() == {"a": BreakerState.OPEN}


async def test_chains_given_one_breaker_store_share_a_paused_provider() -> None:
    """The injected store is the one consulted: a breaker opened through one chain pauses the other."""
    timer = FakeTimer()
    store = MemoryBreakers(clock=timer.clock)
    failing = ScriptedProvider("a", errors=[Unavailable("down", provider="a")])
    chains = [
        ProviderChain([failing, ScriptedProvider("b")], timeout_s=5, retry=NO_RETRIES, breaker_failures=1,
                      clock=timer.clock, sleep=timer.sleep, breakers=store)
        for _ in range(2)
    ]  # fmt: skip
    await chains[0].generate(ImageRequest("x"), on_progress=no_progress)
    result = await chains[1].generate(ImageRequest("x"), on_progress=no_progress)
    assert result.provider == "b" and len(failing.requests) == 1
    assert any("a is paused" in note for note in result.notes)


async def test_chains_given_one_slots_object_share_the_cap() -> None:
    """The injected slots are the ones held: two chains on one MemorySlots never overlap in "p"."""
    gate = asyncio.Event()
    provider = ScriptedProvider("p", gate=gate)
    slots = MemorySlots()
    chains = [ProviderChain([provider], timeout_s=5, concurrency={"p": 1}, slots=slots) for _ in range(2)]
    tasks = [asyncio.create_task(c.generate(ImageRequest("x"), on_progress=no_progress)) for c in chains]
    for _ in range(5):
        await asyncio.sleep(0)
    assert provider.in_flight == 1
    gate.set()
    await asyncio.gather(*tasks)
    assert provider.max_in_flight == 1


async def test_a_cancelled_probe_lets_the_next_request_probe() -> None:
    """A half-open probe cancelled mid-call (the job was cancelled) frees the probe for the next one."""
    timer = FakeTimer()
    gate = asyncio.Event()
    provider = ScriptedProvider("a", errors=[Unavailable("down", provider="a")], gate=gate)
    chain = make_chain([provider], timer=timer, breaker_failures=1, breaker_reset_s=60.0)
    gate.set()
    with pytest.raises(Unavailable):
        await chain.generate(ImageRequest("x"), on_progress=no_progress)
    gate.clear()
    timer.advance(60.0)
    probe = asyncio.create_task(chain.generate(ImageRequest("x"), on_progress=no_progress))
    for _ in range(5):
        await asyncio.sleep(0)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    gate.set()
    result = await chain.generate(ImageRequest("x"), on_progress=no_progress)
    assert result.provider == "a" and chain.health() == {"a": BreakerState.CLOSED}


async def test_an_answer_too_large_is_not_asked_for_again() -> None:
    """TooLarge (an answer over the cap) is not retried: the same request would get the same answer."""
    provider = ScriptedProvider("a", errors=[TooLarge("a: 100 MB answer", provider="a")])
    chain = make_chain([provider], retry=RetryPolicy(retries=2, attempt_timeout_s=5))
    with pytest.raises(TooLarge):
        await chain.generate(ImageRequest("fox"), on_progress=no_progress)
    assert len(provider.requests) == 1
