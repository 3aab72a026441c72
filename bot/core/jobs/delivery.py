"""Sending a job's answers: its result, once, and the notice when it failed.

A result the platform could not take for now (5xx, time-out, 429) is retried in this process: the run
asks the queue to run it again after a backoff (``DeliveryRetries``), and after an hour the job fails
with a notice. A failed write of the delivery record is retried on the spot (the reply has gone out: it
must not be sent again). Once a result is being sent, ``/cancel`` no longer interrupts it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import tenacity

from bot.core.content.policy import shown_as_spoiler
from bot.core.errors import DeliveryFailed, StorageError
from bot.core.i18n import N_, _
from bot.core.jobs.ledger import JobLedger
from bot.core.jobs.pacing import DeliveryRetries, ProgressThrottle
from bot.core.jobs.queue import USER_CANCEL
from bot.core.ports import Clock, JobStore, Platform
from bot.core.texts import UNEXPECTED, caption
from bot.core.types import (
    DELIVERY_KEY,
    Action,
    Done,
    Failed,
    GenerationRecord,
    JobEvent,
    JobRecord,
    JobStatus,
    Reply,
)

log = logging.getLogger(__name__)

RESULT = "result"
FAILURE = "failure"
RESULT_ACTIONS = (Action.REROLL, Action.VARY, Action.UPSCALE, Action.EDIT, Action.ORIGINAL, Action.DELETE)
RECORD_RETRY_S = 120.0
"""How long a delivery record that cannot be written is retried (the reply has gone out already)."""
UNDELIVERABLE = N_("I made your image but could not deliver it here for an hour. Please ask again.")
FORMAT = "format"
"""``Reply.extra`` key of a result: the chat's ``/settings format`` (``file``: send the original files)."""


class Delivery:
    def __init__(
        self,
        *,
        jobs: JobStore,
        ledger: JobLedger,
        clock: Clock,
        owner: str | None = None,
        throttle: ProgressThrottle | None = None,
        chat_settings: Callable[[int], Awaitable[Mapping[str, Any]]] | None = None,
    ) -> None:
        """``chat_settings``: a chat's settings, read when its result is sent (``/settings format``)."""
        self._jobs = jobs
        self._chat_settings = chat_settings
        self._owner = owner
        """The replica whose lease the job is run under (every write is made under it)."""
        self._ledger = ledger
        self._clock = clock
        self._throttle = throttle or ProgressThrottle()
        self._retries = DeliveryRetries()

    async def send_result(self, job: JobRecord, platform: Platform, record: GenerationRecord) -> float | None:
        """Send the result and record it, as one step /cancel cannot cut in two (a cancel that comes
        while it is on its way lets it arrive); a delay when the platform asks for a retry."""
        delivery = asyncio.ensure_future(self._deliver_result(job, platform, record))
        try:
            return await asyncio.shield(delivery)
        except asyncio.CancelledError as exc:
            if USER_CANCEL not in exc.args:
                delivery.cancel()
                raise
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            log.info("job %s: cancelled while its result was being sent; delivering it", job.id)
            return await delivery

    async def _deliver_result(
        self, job: JobRecord, platform: Platform, record: GenerationRecord
    ) -> float | None:
        reply = Reply(
            text=caption(record, title=_title(job.payload)),
            images=record.images,
            generation_id=record.id,
            actions=RESULT_ACTIONS,
            notes=tuple(record.params.get("notes") or ()),
            extra=await self._result_extra(job),
            spoiler=shown_as_spoiler(job.payload, record.params),  # the policy when asked; flagged
        )
        try:
            message_ids = await platform.send(job.target, reply)
        except DeliveryFailed as exc:
            if not exc.permanent:
                return await self._retry_later(job, platform, exc)
            log.warning("delivery of job %s failed for good: %s", job.id, exc)
            self._retries.forget(job.id)
            # its images were made: the quota they used stays used
            await self._ledger.end(
                job, JobStatus.FAILED, error=repr(exc), notified=True, refund=False, owner=self._owner
            )
            return None
        self._retries.forget(job.id)
        await self._record(job, RESULT, platform, message_ids, shown=(job.target.chat_id, record.id))
        await self._ledger.delivered(job, platform=platform.name, generation_id=record.id)
        await self.emit(platform, job, Done(generation_id=record.id))
        return None

    async def _result_extra(self, job: JobRecord) -> dict[str, Any]:
        """What a platform needs to know to show a result: its idempotency key, the chat's format."""
        extra: dict[str, Any] = {DELIVERY_KEY: result_key(job.id)}
        if self._chat_settings is None:
            return extra
        chosen = (await self._chat_settings(job.chat_id)).get(FORMAT)
        return (extra | {FORMAT: str(chosen)}) if chosen else extra

    async def _retry_later(self, job: JobRecord, platform: Platform, exc: DeliveryFailed) -> float | None:
        """The delay before the next try of a result the platform refused for now, or None after
        failing the job when it has been refused for too long."""
        delay = self._retries.next_delay(job.id, exc.retry_after)
        if delay is not None:
            log.warning("delivery of job %s failed (%s); retrying in %.0f s", job.id, exc, delay)
            return delay
        log.warning("delivery of job %s failed for an hour; giving up: %s", job.id, exc)
        await self.fail(job, platform, error=f"undeliverable: {exc!r}", user_message=_(UNDELIVERABLE))
        return None

    async def _record(
        self,
        job: JobRecord,
        kind: str,
        platform: Platform,
        message_ids: list[str],
        *,
        shown: tuple[str, int] | None = None,
    ) -> None:
        """Write the delivery record, retrying while the database fails: the reply has gone out, and
        without its record a restart would send it again."""
        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(StorageError),
            wait=tenacity.wait_exponential(multiplier=0.5, max=10),
            stop=tenacity.stop_after_delay(RECORD_RETRY_S),
            before_sleep=lambda state: log.warning(
                "recording the delivery of job %s failed; retrying: %s", job.id, state.outcome
            ),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self._jobs.record_delivery(
                    job_id=job.id, kind=kind, platform=platform.name, message_ids=message_ids,
                    now=self._clock.now(), shown=shown, owner=self._owner,
                )  # fmt: skip

    async def fail(
        self, job: JobRecord, platform: Platform, *, error: str, user_message: str, cancelled: bool = False
    ) -> None:
        status = JobStatus.CANCELLED if cancelled else JobStatus.FAILED
        ended = await self._ledger.end(
            job,
            status,
            owner=self._owner,
            error=error,
            user_message=user_message,
            notified=cancelled,  # /cancel answered
        )
        if ended is None:
            return  # it had ended already
        await self.emit(platform, job, Failed(reason=user_message))
        if not cancelled:  # re-read: the failed attempt may have created a generation meanwhile
            refreshed = await self._jobs.get_job(job_id=job.id)
            await self.notify_failure(
                refreshed or dataclasses.replace(job, user_message=user_message), platform
            )

    async def notify_failure(self, job: JobRecord, platform: Platform) -> float | None:
        """Tell the user why the job failed; a delay when the platform asks for a retry."""
        reply = Reply(
            text=job.user_message or _(UNEXPECTED),
            generation_id=job.generation_id,
            is_error=True,
            extra={DELIVERY_KEY: failure_key(job.id)},
        )
        try:
            message_ids = await platform.send(job.target, reply)
        except DeliveryFailed as exc:
            delay = None if exc.permanent else self._retries.next_delay(job.id, exc.retry_after)
            if delay is not None:
                log.info(
                    "failure notice of job %s not delivered (%s); retrying in %.0f s", job.id, exc, delay
                )
                return delay
            message_ids = []  # not deliverable: recorded as told, so it is not tried forever
        self._retries.forget(job.id)
        await self._record(job, FAILURE, platform, message_ids)
        return None

    async def emit(self, platform: Platform, job: JobRecord, event: JobEvent) -> None:
        if not self._throttle.allow(job.id, event):
            return
        try:
            await platform.event(job.target, job.id, event)
        except DeliveryFailed as exc:  # progress is best effort; the result is what matters
            log.info("progress for job %s not shown: %s", job.id, exc)


def result_key(job_id: int) -> str:
    """The idempotency key of a job's result (``Reply.extra[DELIVERY_KEY]``): the same in every process."""
    return f"job-{job_id}"


def failure_key(job_id: int) -> str:
    """The idempotency key of a job's failure notice."""
    return f"job-{job_id}-f"


def _title(payload: Mapping[str, Any]) -> str | None:
    """The caption a post-processing step asks for (a birthday card's greeting), if any."""
    for step in payload.get("steps") or ():
        if isinstance(step, Mapping) and step.get("caption"):
            return str(step["caption"])
    return None
