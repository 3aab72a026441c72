"""How jobs end, in one place: the final move, the usage given back, the metric, the announcement.

Admission (``JobIntake``) and execution (``JobRunner``) both end jobs through :class:`JobLedger`, so a
refund is written once, and everyone who waits for a job's end (the scheduler) hears it from
:class:`JobOutcomes` instead of polling the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.bus import OUTCOMES, EventBus, LocalBus
from bot.core.ports import NO_METRICS, Clock, HistoryStore, JobStore, Metrics
from bot.core.types import JobRecord, JobStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JobOutcome:
    job_id: int
    status: JobStatus
    """``done``, ``failed`` or ``cancelled``."""
    generation_id: int | None = None
    user_message: str | None = None
    error: str | None = None


Listener = Callable[[JobOutcome], None]


class JobOutcomes:
    """Announces each job's end, over the bus, to the listeners of every replica (called in the event
    loop; they must not block). Without a bus (one process, tests) it is told here only."""

    def __init__(self, bus: EventBus | None = None) -> None:
        self._bus = bus or LocalBus()
        self._listeners: list[Listener] = []
        self._bus.subscribe(OUTCOMES, self._heard)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def announce(self, outcome: JobOutcome) -> None:
        message = {
            "job_id": outcome.job_id,
            "status": outcome.status.value,
            "generation_id": outcome.generation_id,
            "user_message": (outcome.user_message or "")[:1000] or None,
        }
        await self._bus.publish(OUTCOMES, message)

    def _heard(self, message: Mapping[str, Any]) -> None:
        outcome = JobOutcome(
            job_id=int(message["job_id"]),
            status=JobStatus(str(message["status"])),
            generation_id=message.get("generation_id"),
            user_message=message.get("user_message"),
        )
        for listener in list(self._listeners):
            try:
                listener(outcome)
            except Exception:
                log.exception("a listener of job %s's outcome failed", outcome.job_id)


class JobLedger:
    def __init__(
        self,
        *,
        jobs: JobStore,
        history: HistoryStore,
        clock: Clock,
        outcomes: JobOutcomes,
        metrics: Metrics | None = None,
    ) -> None:
        self._jobs = jobs
        self._history = history
        self._clock = clock
        self.outcomes = outcomes
        self._metrics = metrics or NO_METRICS

    async def end(
        self,
        job: JobRecord,
        status: JobStatus,
        *,
        error: str,
        user_message: str | None = None,
        notified: bool = False,
        refund: bool = True,
        owner: str | None = None,
    ) -> JobRecord | None:
        """Move the job to ``failed`` or ``cancelled`` and give back what it reserved (unless its images
        were made: ``refund=False``); ``owner``: the replica holding it (without: only while nobody
        holds it). None, and nothing else done, when it may not be ended (ended already, held)."""
        moved = await self._jobs.move(
            job_id=job.id,
            to=status,
            now=self._clock.now(),
            error=error,
            user_message=user_message,
            notified=notified,
            owner=owner,
        )
        if moved is None:
            return None
        if refund:
            await self.refund(moved)
        self._metrics.job_finished(status.value)
        await self.outcomes.announce(
            JobOutcome(moved.id, status, moved.generation_id, user_message=user_message, error=error)
        )
        return moved

    async def cancel_waiting(self, job_ids: Sequence[int], *, error: str) -> None:
        """End the jobs among ``job_ids`` that are still waiting in the database (a deleted schedule's;
        also from another process, such as ``easel schedule remove``)."""
        for job_id in job_ids:
            job = await self._jobs.get_job(job_id=job_id)
            if job is not None and job.status == JobStatus.QUEUED:
                await self.end(job, JobStatus.CANCELLED, error=error, notified=True)

    async def refund(self, job: JobRecord) -> None:
        """Give back the images and estimated spend the job reserved against its day's quota."""
        if job.usage_day is not None and (job.images_reserved or job.est_cost):
            await self._history.add_usage(
                user_id=job.user_id, day=job.usage_day, images=-job.images_reserved, est_cost=-job.est_cost
            )

    async def settle(self, job: JobRecord, made: int) -> None:
        """Count the images actually made instead of those reserved (a provider may make fewer)."""
        if job.usage_day is not None and made != job.images_reserved:
            await self._history.add_usage(
                user_id=job.user_id, day=job.usage_day, images=made - job.images_reserved
            )

    async def delivered(self, job: JobRecord, *, platform: str, generation_id: int) -> None:
        """The result arrived (its record moved the job to ``done``)."""
        self._metrics.delivered(platform)
        self._metrics.job_finished(JobStatus.DONE.value)
        await self.outcomes.announce(JobOutcome(job.id, JobStatus.DONE, generation_id))
