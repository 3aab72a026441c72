"""``PrometheusMetrics``: the core's :class:`bot.core.ports.Metrics` port on prometheus-client.

Each instance has its own ``CollectorRegistry`` (never the process-global one), so several Easels in
one process (tests) do not clash. ``render()`` gives the text exposition format for ``GET /metrics``.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
"""Seconds: the offline renderer answers in well under a second, cloud models in 5-60 s."""


class PrometheusMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._latency = Histogram(
            "easel_generation_seconds",
            "Time of one successful provider call, retries included.",
            ["provider"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._provider_errors = Counter(
            "easel_provider_errors",
            "Provider calls that failed after their retries, by error kind.",
            ["provider", "kind"],
            registry=self.registry,
        )
        self._jobs = Counter("easel_jobs", "Jobs finished, by outcome.", ["outcome"], registry=self.registry)
        self._deliveries = Counter(
            "easel_deliveries", "Results delivered, by platform.", ["platform"], registry=self.registry
        )
        self._rate_limited = Counter(
            "easel_rate_limited",
            "Requests refused by a rate, quota or queue limit, by scope.",
            ["scope"],
            registry=self.registry,
        )
        self._queue_depth = Gauge("easel_queue_depth", "Jobs waiting for a worker.", registry=self.registry)
        self._running = Gauge("easel_jobs_running", "Jobs being worked on.", registry=self.registry)

    def generation_seconds(self, provider: str, seconds: float) -> None:
        self._latency.labels(provider=provider).observe(max(0.0, seconds))

    def provider_error(self, provider: str, kind: str) -> None:
        self._provider_errors.labels(provider=provider, kind=kind).inc()

    def job_finished(self, outcome: str) -> None:
        self._jobs.labels(outcome=outcome).inc()

    def delivered(self, platform: str) -> None:
        self._deliveries.labels(platform=platform).inc()

    def rate_limited(self, scope: str) -> None:
        self._rate_limited.labels(scope=scope).inc()

    def watch_queue(self, queued: Callable[[], int], running: Callable[[], int]) -> None:
        self._queue_depth.set_function(queued)
        self._running.set_function(running)

    def render(self) -> bytes:
        """The registry in the Prometheus text format (``CONTENT_TYPE``)."""
        return generate_latest(self.registry)
