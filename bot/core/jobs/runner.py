"""Running one job from the durable queue: generate, save, deliver — or tell the user why not.

States (``JobStatus``): queued → running → generated → done, or failed / cancelled. Every step is
committed before the next, so a restart picks up where the crash left off:
- ``queued``/``running``: (re)started; each start counts an attempt, and past ``max_attempts`` the job
  fails with a message instead of looping forever;
- ``generated``: the images are saved, so they are delivered from the files without generating again;
- ``failed``/``cancelled`` with no notice recorded: the notice is sent.

A result (or failure notice) the platform could not take for now (5xx, time-out, 429) is retried in
this process: the run asks the queue to run it again after a backoff (2 s doubling to 5 min, or the
platform's ``retry_after``) and gives up with a failure after an hour. A failed write of the delivery
record is retried on the spot (the reply has gone out: it must not be sent again). Once a result is
being sent, ``/cancel`` no longer interrupts it, and a shutdown lets it finish within its grace
(``JobQueue.stop``), so the photo and its record go together.

What remains at-least-once: a send whose outcome the platform never told us (the process was killed
with SIGKILL, or lost power, between the platform taking the reply and the record's commit; or the
connection broke after the request reached the platform) is sent again. Telegram's Bot API has no
idempotency key, so a duplicate is the price of never losing a result.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import tenacity

from bot.core.chat.requests import params_of
from bot.core.chat.resolve import RequestResolver
from bot.core.errors import DeliveryFailed, EaselError, StorageError
from bot.core.generation.chain import ProviderChain
from bot.core.jobs.codec import intent_from_json, stored_image_from_json
from bot.core.jobs.pacing import DeliveryRetries, ProgressThrottle
from bot.core.jobs.queue import USER_CANCEL
from bot.core.ports import NO_METRICS, ArtifactStore, Clock, HistoryStore, JobStore, Metrics, Platform
from bot.core.schedules.birthday_card import overlay_images
from bot.core.texts import UNEXPECTED, caption
from bot.core.types import (
    Action,
    Done,
    Failed,
    GenerationRecord,
    GenerationStatus,
    JobEvent,
    JobRecord,
    JobStatus,
    Progress,
    Reply,
    Started,
    StoredImage,
)

log = logging.getLogger(__name__)

RESULT = "result"
FAILURE = "failure"
RESULT_ACTIONS = (Action.REROLL, Action.VARY, Action.EDIT, Action.ORIGINAL, Action.DELETE)
RECORD_RETRY_S = 120.0
"""How long a delivery record that cannot be written is retried (the reply has gone out already)."""
UNDELIVERABLE = "I made your image but could not deliver it here for an hour. Please ask again."


class JobRunner:
    def __init__(
        self,
        *,
        jobs: JobStore,
        history: HistoryStore,
        artifacts: ArtifactStore,
        resolver: RequestResolver,
        chain: ProviderChain,
        platforms: Mapping[str, Platform],
        clock: Clock,
        max_attempts: int,
        throttle: ProgressThrottle | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._jobs = jobs
        self._history = history
        self._artifacts = artifacts
        self._resolver = resolver
        self._chain = chain
        self._platforms = platforms
        self._clock = clock
        self._max_attempts = max_attempts
        self._throttle = throttle or ProgressThrottle()
        self._metrics = metrics or NO_METRICS
        self._retries = DeliveryRetries()

    async def run(self, job_id: int) -> float | None:
        """Take the job one step further, whatever state a previous run left it in; return the delay
        after which to run it again (a delivery to retry), or None."""
        try:
            return await self._advance(job_id)
        except asyncio.CancelledError as exc:
            if USER_CANCEL not in exc.args:
                raise  # shutting down: the job stays as it is and is resumed at the next start
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            job = await self._jobs.get_job(job_id=job_id)
            platform = self._platforms.get(job.platform) if job else None
            still_open = job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
            if job is not None and platform is not None and still_open:
                await self._fail(job, platform, error="cancelled", user_message="Cancelled.", cancelled=True)
            return None

    async def _advance(self, job_id: int) -> float | None:
        job = await self._jobs.get_job(job_id=job_id)
        if job is None:
            return None
        platform = self._platforms.get(job.platform)
        if platform is None:
            log.warning("job %s is for %s, which is not running; left for later", job.id, job.platform)
            return None
        if job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            return await self._notify_failure(job, platform) if not job.notified else None
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            record = await self._generate(job, platform)
            if record is None:
                return None
            job = dataclasses.replace(job, status=JobStatus.GENERATED, generation_id=record.id)
            return await self._send_result(job, platform, record)
        if job.status == JobStatus.GENERATED:
            return await self._deliver_saved(job, platform)
        return None

    # ----------------------------------------------------------------------------------- generating

    async def _generate(self, job: JobRecord, platform: Platform) -> GenerationRecord | None:
        """Make and save the images; None when the job failed (and the user has been told)."""
        attempts = await self._jobs.start_job(job_id=job.id, now=self._clock.now())
        if attempts > self._max_attempts:
            await self._fail(
                job,
                platform,
                error=f"gave up after {attempts - 1} interrupted attempts",
                user_message="Easel was interrupted several times while making this image and has given up. "
                "Please ask again.",
            )
            return None
        if job.generation_id is not None:  # an earlier attempt died mid-way: close its row honestly
            await self._history.fail_generation(
                generation_id=job.generation_id, error="interrupted by a restart", now=self._clock.now()
            )
        try:
            return await self._produce(job, platform)
        except EaselError as exc:
            await self._fail(job, platform, error=repr(exc), user_message=exc.user_message)
            return None
        except Exception as exc:
            log.exception("job %s failed unexpectedly", job.id)
            await self._fail(job, platform, error=repr(exc), user_message=UNEXPECTED)
            return None

    async def _produce(self, job: JobRecord, platform: Platform) -> GenerationRecord:
        payload = job.payload
        upload = stored_image_from_json(payload["upload"]) if payload.get("upload") else None
        chat_settings = await self._history.get_chat_settings(chat_id=job.chat_id)
        resolved = await self._resolver.resolve(
            intent_from_json(payload["intent"]),
            chat_id=job.chat_id,
            chat_settings=chat_settings,
            seed=int(payload["seed"]),
            upload=upload,
        )
        request = resolved.request
        generation_id = await self._history.create_generation(
            chat_id=job.chat_id,
            user_id=job.user_id,
            kind=request.kind,
            prompt=request.prompt,
            negative=request.negative,
            params=params_of(request),
            parent_id=resolved.parent_id,
            now=self._clock.now(),
        )
        await self._jobs.set_job_generation(job_id=job.id, generation_id=generation_id)
        await self._emit(platform, job, Started(provider=request.provider or self._chain.primary.name))

        async def on_progress(fraction: float, preview: bytes | None) -> None:
            await self._emit(platform, job, Progress(fraction=fraction, preview=preview))

        try:
            result = await self._chain.generate(request, on_progress=on_progress)
            stored: list[StoredImage] = []
            for image in await overlay_images(result.images, payload.get("overlay")):
                metadata: dict[str, Any] = {
                    "generation_id": generation_id,
                    "job_id": job.id,
                    "prompt": request.prompt,
                    "params": params_of(request),
                    "provider": result.provider,
                    "model": image.model,
                    "parent": resolved.parent_id,
                    "revised_prompt": image.revised_prompt,
                }
                stored.append(await self._artifacts.save(image, metadata=metadata, now=self._clock.now()))
        except BaseException as exc:
            await self._history.fail_generation(
                generation_id=generation_id,
                error=repr(exc),
                now=self._clock.now(),
                cancelled=isinstance(exc, asyncio.CancelledError),
            )
            raise
        notes = list(result.notes)
        notes += [
            img.revised_prompt
            for img in result.images[:1]
            if img.revised_prompt and img.provider == "builtin"
        ]
        await self._history.complete_generation(
            generation_id=generation_id,
            provider=result.provider,
            model=result.model,
            images=stored,
            now=self._clock.now(),
            notes=notes,
        )
        if job.usage_day is not None and len(stored) != job.images_reserved:
            await self._history.add_usage(
                user_id=job.user_id, day=job.usage_day, images=len(stored) - job.images_reserved
            )
        finished = self._clock.now()
        await self._jobs.finish_job(job_id=job.id, status=JobStatus.GENERATED, now=finished)
        return GenerationRecord(
            id=generation_id,
            chat_id=job.chat_id,
            user_id=job.user_id,
            kind=request.kind,
            status=GenerationStatus.DONE,
            prompt=request.prompt,
            negative=request.negative,
            params={**params_of(request), "notes": notes},
            provider=result.provider,
            model=result.model,
            parent_id=resolved.parent_id,
            error=None,
            created_at=finished,
            finished_at=finished,
            images=tuple(stored),
        )

    # ------------------------------------------------------------------------------------ delivering

    async def _deliver_saved(self, job: JobRecord, platform: Platform) -> float | None:
        """Deliver images a previous run saved (after a crash or a failed send)."""
        if await self._jobs.delivered(job_id=job.id, kind=RESULT):
            await self._jobs.finish_job(job_id=job.id, status=JobStatus.DONE, now=self._clock.now())
            return None
        record = (
            await self._history.get_generation(generation_id=job.generation_id)
            if job.generation_id is not None
            else None
        )
        if record is None or not record.images:
            await self._fail(job, platform, error="generated images missing", user_message=UNEXPECTED)
            return None
        return await self._send_result(job, platform, record)

    async def _send_result(
        self, job: JobRecord, platform: Platform, record: GenerationRecord
    ) -> float | None:
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
            text=caption(record),
            images=record.images,
            generation_id=record.id,
            actions=RESULT_ACTIONS,
            notes=tuple(record.params.get("notes") or ()),
        )
        try:
            message_ids = await platform.send(job.target, reply)
        except DeliveryFailed as exc:
            if not exc.permanent:
                return await self._retry_later(job, platform, exc)
            log.warning("delivery of job %s failed for good: %s", job.id, exc)
            self._retries.forget(job.id)
            await self._jobs.finish_job(
                job_id=job.id, status=JobStatus.FAILED, now=self._clock.now(), error=repr(exc), notified=True
            )
            self._metrics.job_finished(JobStatus.FAILED.value)
            return None
        self._retries.forget(job.id)
        await self._record(job, RESULT, platform, message_ids)
        self._metrics.delivered(platform.name)
        self._metrics.job_finished(JobStatus.DONE.value)
        await self._emit(platform, job, Done(generation_id=record.id))
        return None

    async def _retry_later(self, job: JobRecord, platform: Platform, exc: DeliveryFailed) -> float | None:
        """The delay before the next try of a result the platform refused for now, or None after
        failing the job when it has been refused for too long."""
        delay = self._retries.next_delay(job.id, exc.retry_after)
        if delay is not None:
            log.warning("delivery of job %s failed (%s); retrying in %.0f s", job.id, exc, delay)
            return delay
        log.warning("delivery of job %s failed for an hour; giving up: %s", job.id, exc)
        await self._fail(job, platform, error=f"undeliverable: {exc!r}", user_message=UNDELIVERABLE)
        return None

    async def _record(self, job: JobRecord, kind: str, platform: Platform, message_ids: list[str]) -> None:
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
                    now=self._clock.now(),
                )  # fmt: skip

    async def _fail(
        self, job: JobRecord, platform: Platform, *, error: str, user_message: str, cancelled: bool = False
    ) -> None:
        status = JobStatus.CANCELLED if cancelled else JobStatus.FAILED
        await self._jobs.finish_job(
            job_id=job.id,
            status=status,
            now=self._clock.now(),
            error=error,
            user_message=user_message,
            notified=cancelled,  # /cancel already answered the user
        )
        self._metrics.job_finished(status.value)
        if job.usage_day is not None and job.images_reserved:
            await self._history.add_usage(
                user_id=job.user_id, day=job.usage_day, images=-job.images_reserved, est_cost=-job.est_cost
            )
        await self._emit(platform, job, Failed(reason=user_message))
        if not cancelled:  # re-read: the failed attempt may have created a generation meanwhile
            refreshed = await self._jobs.get_job(job_id=job.id)
            await self._notify_failure(
                refreshed or dataclasses.replace(job, user_message=user_message), platform
            )

    async def _notify_failure(self, job: JobRecord, platform: Platform) -> float | None:
        """Tell the user why the job failed; a delay when the platform asks for a retry."""
        reply = Reply(text=job.user_message or UNEXPECTED, generation_id=job.generation_id, is_error=True)
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

    async def _emit(self, platform: Platform, job: JobRecord, event: JobEvent) -> None:
        if not self._throttle.allow(job.id, event):
            return
        try:
            await platform.event(job.target, job.id, event)
        except DeliveryFailed as exc:  # progress is best effort; the result is what matters
            log.info("progress for job %s not shown: %s", job.id, exc)
