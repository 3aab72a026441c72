"""Running one job from the durable queue: generate, save, deliver — or tell the user why not.

States (``JobStatus``): queued → running → generated → done, or failed / cancelled. Every step is
committed before the next, so a restart picks up where the crash left off:
- ``queued``/``running``: (re)started; each start counts an attempt, and past ``max_attempts`` the job
  fails with a message instead of looping forever;
- ``generated``: the images are saved, so they are delivered from the files without generating again;
- ``failed``/``cancelled`` with no notice recorded: the notice is sent.

The one duplicate this allows: a reply that reached the platform but whose delivery row was not
committed before the process died is sent again on restart. The window is the time between the
platform's answer and one small INSERT.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.core.birthday_card import overlay_images
from bot.core.chain import ProviderChain
from bot.core.codec import intent_from_json, stored_image_from_json
from bot.core.errors import DeliveryFailed, EaselError
from bot.core.jobs import USER_CANCEL
from bot.core.ports import NO_METRICS, ArtifactStore, Clock, HistoryStore, JobStore, Metrics, Platform
from bot.core.requests import params_of
from bot.core.resolve import RequestResolver
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
PROGRESS_INTERVAL_S = 2.0


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

    async def run(self, job_id: int) -> None:
        """Take the job one step further, whatever state a previous run left it in."""
        try:
            await self._advance(job_id)
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

    async def _advance(self, job_id: int) -> None:
        job = await self._jobs.get_job(job_id=job_id)
        if job is None:
            return
        platform = self._platforms.get(job.platform)
        if platform is None:
            log.warning("job %s is for %s, which is not running; left for later", job.id, job.platform)
            return
        if job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            if not job.notified:
                await self._notify_failure(job, platform)
            return
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            record = await self._generate(job, platform)
            if record is not None:
                job = dataclasses.replace(job, status=JobStatus.GENERATED, generation_id=record.id)
                await self._send_result(job, platform, record)
        elif job.status == JobStatus.GENERATED:
            await self._deliver_saved(job, platform)

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

    async def _deliver_saved(self, job: JobRecord, platform: Platform) -> None:
        """Deliver images a previous run saved (after a crash or a failed send)."""
        if await self._jobs.delivered(job_id=job.id, kind=RESULT):
            await self._jobs.finish_job(job_id=job.id, status=JobStatus.DONE, now=self._clock.now())
            return
        record = (
            await self._history.get_generation(generation_id=job.generation_id)
            if job.generation_id is not None
            else None
        )
        if record is None or not record.images:
            await self._fail(job, platform, error="generated images missing", user_message=UNEXPECTED)
            return
        await self._send_result(job, platform, record)

    async def _send_result(self, job: JobRecord, platform: Platform, record: GenerationRecord) -> None:
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
                log.warning("delivery of job %s failed; will retry at the next start: %s", job.id, exc)
                return
            log.warning("delivery of job %s failed for good: %s", job.id, exc)
            await self._jobs.finish_job(
                job_id=job.id, status=JobStatus.FAILED, now=self._clock.now(), error=repr(exc), notified=True
            )
            self._metrics.job_finished(JobStatus.FAILED.value)
            return
        # A crash right here sends this reply again at the next start (documented above).
        await self._jobs.record_delivery(
            job_id=job.id, kind=RESULT, platform=platform.name, message_ids=message_ids, now=self._clock.now()
        )
        self._metrics.delivered(platform.name)
        self._metrics.job_finished(JobStatus.DONE.value)
        await self._emit(platform, job, Done(generation_id=record.id))

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

    async def _notify_failure(self, job: JobRecord, platform: Platform) -> None:
        reply = Reply(text=job.user_message or UNEXPECTED, generation_id=job.generation_id, is_error=True)
        try:
            message_ids = await platform.send(job.target, reply)
        except DeliveryFailed as exc:
            if not exc.permanent:
                return
            message_ids = []
        await self._jobs.record_delivery(
            job_id=job.id,
            kind=FAILURE,
            platform=platform.name,
            message_ids=message_ids,
            now=self._clock.now(),
        )

    async def _emit(self, platform: Platform, job: JobRecord, event: JobEvent) -> None:
        if not self._throttle.allow(job.id, event):
            return
        try:
            await platform.event(job.target, job.id, event)
        except DeliveryFailed as exc:  # progress is best effort; the result is what matters
            log.info("progress for job %s not shown: %s", job.id, exc)
