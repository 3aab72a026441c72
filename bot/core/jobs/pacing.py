"""Pacing a job's messages: how often progress is shown, and when a refused reply is tried again."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.core.types import Done, Failed, JobEvent, Progress

PROGRESS_INTERVAL_S = 2.0
DELIVERY_RETRY_FIRST_S = 2.0
DELIVERY_RETRY_MAX_S = 300.0
DELIVERY_GIVE_UP_S = 3600.0
"""How long a result the platform keeps refusing for now is retried before the job fails."""


class ProgressThrottle:
    """At most one progress update per job every ``interval_s``; other events always pass."""

    def __init__(
        self, interval_s: float = PROGRESS_INTERVAL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._last: dict[int, float] = {}

    def allow(self, job_id: int, event: JobEvent) -> bool:
        if not isinstance(event, Progress):
            if isinstance(event, Done | Failed):
                self._last.pop(job_id, None)
            return True
        now = self._clock()
        last = self._last.get(job_id)
        if last is not None and now - last < self._interval_s:
            return False
        self._last[job_id] = now
        return True


class DeliveryRetries:
    """Backoff for replies a platform refuses for now: per job, 2 s doubling to 5 min (or the
    platform's ``retry_after``), for an hour from the first refusal."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._since: dict[int, tuple[float, int]] = {}
        """Job id → (first refusal, refusals so far)."""

    def next_delay(self, job_id: int, retry_after: float | None) -> float | None:
        """Seconds before the next try, or None once the job has been refused for too long."""
        now = self._clock()
        first, count = self._since.get(job_id, (now, 0))
        if now - first >= DELIVERY_GIVE_UP_S:
            self._since.pop(job_id, None)
            return None
        self._since[job_id] = (first, count + 1)
        backoff = min(DELIVERY_RETRY_MAX_S, DELIVERY_RETRY_FIRST_S * 2.0**count)
        return max(backoff, retry_after or 0.0)

    def forget(self, job_id: int) -> None:
        self._since.pop(job_id, None)
