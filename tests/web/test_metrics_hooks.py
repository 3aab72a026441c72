"""The core reports to the ``Metrics`` port at the right places (checked through PrometheusMetrics)."""

from __future__ import annotations

import pytest

from bot.core.errors import Refused, Unavailable
from bot.core.generation.chain import ProviderChain
from bot.core.generation.resilience import RetryPolicy
from bot.core.types import ImageRequest
from bot.observability.metrics import PrometheusMetrics
from tests.fakes.scripted import FakeTimer, ScriptedProvider
from tests.web.test_ops import samples


async def _ignore(fraction: float, preview: bytes | None) -> None:
    return None


async def test_failover_counts_the_error_and_the_winners_latency() -> None:
    """A transient failure is counted by kind; the provider that answered gets a latency sample."""
    metrics, timer = PrometheusMetrics(), FakeTimer()
    broken = ScriptedProvider("first", errors=[Unavailable("down", provider="first")])
    chain = ProviderChain(
        [broken, ScriptedProvider("second")],
        timeout_s=60,
        retry=RetryPolicy(retries=0),
        clock=timer.clock,
        sleep=timer.sleep,
        metrics=metrics,
    )
    await chain.generate(ImageRequest(prompt="a fox"), on_progress=_ignore)
    found = samples(metrics.render().decode())
    assert found[("easel_provider_errors_total", (("kind", "Unavailable"), ("provider", "first")))] == 1
    assert found[("easel_generation_seconds_count", (("provider", "second"),))] == 1
    assert ("easel_generation_seconds_count", (("provider", "first"),)) not in found


async def test_a_refusal_is_counted_too() -> None:
    """Refusals are provider errors of their own kind."""
    metrics = PrometheusMetrics()
    chain = ProviderChain(
        [ScriptedProvider("only", errors=[Refused("no", provider="only")])], timeout_s=60, metrics=metrics
    )
    with pytest.raises(Refused):
        await chain.generate(ImageRequest(prompt="a fox"), on_progress=_ignore)
    found = samples(metrics.render().decode())
    assert found[("easel_provider_errors_total", (("kind", "Refused"), ("provider", "only")))] == 1
