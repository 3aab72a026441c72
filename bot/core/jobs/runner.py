"""Running one job from the durable queue: generate, save, deliver — or tell the user why not.

States (``JobStatus``): queued → running → generated → done, or failed / cancelled. Every step is
committed before the next, so a restart picks up where the crash left off:
- ``queued``/``running``: (re)started; each start counts an attempt, and past ``max_attempts`` the job
  fails with a message instead of looping forever;
- ``generated``: the images are saved, so they are delivered from the files without generating again;
- ``failed``/``cancelled`` with no notice recorded: the notice is sent.

A storage error while generating (the database busy or away for a moment, the media disk full) does
not fail the job: the run asks to be run again after ``STORAGE_RETRY_S``, which counts an attempt, so a
lasting failure still ends with a message after ``max_attempts``.

Every move goes through ``JobStore.move`` (the allowed moves: ``bot.core.jobs.lifecycle``); jobs end
through ``JobLedger`` (refunds, metrics, the outcome announced to listeners such as the scheduler).
The images pass through the post-processing steps the job's payload names (``steps``: registered by
features, e.g. the birthday card's greeting), so the generic pipeline knows no feature.

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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from bot.core import i18n
from bot.core.content.policy import content_entry, screen
from bot.core.errors import EaselError, StorageError
from bot.core.generation.chain import ProviderChain
from bot.core.generation.requests import params_of
from bot.core.generation.resolve import SEES_HIDDEN, RequestResolver, Viewer
from bot.core.i18n import N_, _
from bot.core.jobs.codec import intent_from_json
from bot.core.jobs.delivery import RESULT, Delivery
from bot.core.jobs.ledger import JobLedger
from bot.core.jobs.made import check_reroll, describe, recorded
from bot.core.jobs.pacing import ProgressThrottle
from bot.core.jobs.queue import USER_CANCEL
from bot.core.messages import Reroll
from bot.core.ports import ArtifactStore, Clock, HistoryStore, JobStore, Platform
from bot.core.texts import UNEXPECTED
from bot.core.types import (
    GenerationRecord,
    GenerationStatus,
    Image,
    JobRecord,
    JobStatus,
    Progress,
    Started,
    StoredImage,
)

log = logging.getLogger(__name__)

STORAGE_RETRY_S = 2.0
GAVE_UP = N_(
    "Easel was interrupted several times while making this image and has given up. Please ask again."
)

ImageStep = Callable[[Sequence[Image], Mapping[str, Any]], Awaitable[list[Image]]]
"""A post-processing step: the images and the step's entry of the payload → the images to keep."""


class JobRunner:
    def __init__(
        self,
        *,
        jobs: JobStore,
        history: HistoryStore,
        artifacts: ArtifactStore,
        resolver: RequestResolver,
        chain: ProviderChain,
        ledger: JobLedger,
        platforms: Mapping[str, Platform],
        clock: Clock,
        max_attempts: int,
        owner: str | None = None,
        steps: Mapping[str, ImageStep] | None = None,
        throttle: ProgressThrottle | None = None,
        chat_settings: Callable[[int], Awaitable[dict[str, Any]]] | None = None,
    ) -> None:
        self._jobs = jobs
        self._history = history
        self._artifacts = artifacts
        self._resolver = resolver
        self._chain = chain
        self._ledger = ledger
        self._platforms = platforms
        self._clock = clock
        self._max_attempts = max_attempts
        self._owner = owner
        """This replica: every write of a job is made under its lease (``JobStore.move``)."""
        self._steps = dict(steps or {})
        self._chat_settings = chat_settings or (lambda chat_id: history.get_chat_settings(chat_id=chat_id))
        """A chat's settings (``Directory.settings``: cached, and read again when they change)."""
        self._delivery = Delivery(
            jobs=jobs, ledger=ledger, clock=clock, owner=owner, throttle=throttle,
            chat_settings=self._chat_settings,
        )  # fmt: skip

    async def run(self, job_id: int, claimed: JobRecord | None = None) -> float | None:
        """Take the job one step further, whatever state a previous run left it in; return the delay
        after which to run it again (a delivery to retry), or None. ``claimed``: the job as its claim
        just left it (a claim starts a job to generate: ``JobStore.claim_next``); otherwise it is read."""
        with i18n.using(None):  # the job's language, once it is read (``_in_language``)
            return await self._run(job_id, claimed)

    async def _in_language(self, job: JobRecord) -> None:
        """Answer in the job's chat's /settings language, else the one its request came in with."""
        try:
            settings: Mapping[str, Any] | None = await self._chat_settings(job.chat_id)
        except StorageError:
            settings = None
        i18n.choose(i18n.resolve(settings, job.target.locale))

    async def _run(self, job_id: int, claimed: JobRecord | None) -> float | None:
        try:
            return await self._advance(job_id, claimed)
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
                await self._in_language(job)
                await self._delivery.fail(
                    job, platform, error="cancelled", user_message=_("Cancelled."), cancelled=True
                )
            return None

    async def _advance(self, job_id: int, claimed: JobRecord | None) -> float | None:
        job = claimed if claimed is not None else await self._jobs.get_job(job_id=job_id)
        if job is None:
            return None
        await self._in_language(job)
        platform = self._platforms.get(job.platform)
        if platform is None:
            log.warning("job %s is for %s, which is not running; left for later", job.id, job.platform)
            return None
        if job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            return await self._delivery.notify_failure(job, platform) if not job.notified else None
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            try:
                record = await self._generate(job, platform, started=claimed is not None)
            except StorageError as exc:
                log.warning("job %s: %s; running it again in %.0f s", job.id, exc, STORAGE_RETRY_S)
                return STORAGE_RETRY_S
            if record is None:
                return None
            job = dataclasses.replace(job, status=JobStatus.GENERATED, generation_id=record.id)
            return await self._delivery.send_result(job, platform, record)
        if job.status == JobStatus.GENERATED:
            return await self._deliver_saved(job, platform)
        return None

    # ----------------------------------------------------------------------------------- generating

    async def _generate(
        self, job: JobRecord, platform: Platform, *, started: bool
    ) -> GenerationRecord | None:
        """Make and save the images; None when the job failed (and the user has been told).
        ``started``: its claim started it (counted the attempt); otherwise this run does."""
        run: JobRecord | None = job
        if not (started and job.status == JobStatus.RUNNING):
            run = await self._jobs.move(
                owner=self._owner, job_id=job.id, to=JobStatus.RUNNING, now=self._clock.now(), attempt=True
            )
        if run is None:  # it ended meanwhile (cancelled): nothing to do
            return None
        if run.attempts > self._max_attempts:
            error = f"gave up after {run.attempts - 1} interrupted attempts"
            await self._delivery.fail(run, platform, error=error, user_message=_(GAVE_UP))
            return None
        if job.generation_id is not None:  # an earlier attempt died mid-way: close its row honestly
            await self._history.fail_generation(
                generation_id=job.generation_id, error="interrupted by a restart", now=self._clock.now()
            )
        try:
            return await self._produce(job, platform)
        except LeaseLost as exc:  # another replica took the job over: it is theirs to finish
            log.warning("%s", exc)
            return None
        except StorageError:
            raise  # not the job's fault: it runs again (``_advance``)
        except EaselError as exc:
            await self._delivery.fail(job, platform, error=repr(exc), user_message=exc.user_message)
            return None
        except Exception as exc:
            log.exception("job %s failed unexpectedly", job.id)
            await self._delivery.fail(job, platform, error=repr(exc), user_message=_(UNEXPECTED))
            return None

    async def _produce(self, job: JobRecord, platform: Platform) -> GenerationRecord:
        payload = job.payload
        upload = StoredImage.from_json(payload["upload"]) if payload.get("upload") else None
        chat_settings = await self._chat_settings(job.chat_id)
        intent = intent_from_json(payload["intent"])
        resolved = await self._resolver.resolve(
            intent,
            chat_id=job.chat_id,
            chat_settings=chat_settings,
            seed=int(payload["seed"]),
            upload=upload,
            viewer=Viewer(job.user_id, sees_hidden=payload.get(SEES_HIDDEN) is True),
        )
        request = resolved.request
        started = self._clock.now()
        await self._delivery.emit(
            platform, job, Started(provider=request.provider or self._chain.primary.name)
        )

        async def on_progress(fraction: float, preview: bytes | None) -> None:
            await self._delivery.emit(platform, job, Progress(fraction=fraction, preview=preview))

        def record(params: Mapping[str, Any], **outcome: Any) -> Awaitable[tuple[int, bool]]:
            return self._history.record_generation(
                chat_id=job.chat_id,
                user_id=job.user_id,
                kind=request.kind,
                prompt=request.prompt,
                negative=request.negative,
                params=params,
                parent_id=resolved.parent_id,
                started=started,
                now=self._clock.now(),
                **outcome,
            )

        try:
            generated = await self._chain.generate(request, on_progress=on_progress)
            result = screen(generated, payload, await self._source_params(resolved.source))
            if isinstance(intent, Reroll) and resolved.parent_id is not None:
                rerolled = await self._history.get_generation(generation_id=resolved.parent_id)
                check_reroll(rerolled, result.images, result.provider)  # the same picture: say why
            made = describe(intent, request, result)
            params = recorded(params_of(request), made, resolved.source) | content_entry(
                result.images, payload
            )
            stored: list[StoredImage] = []
            for image in await self._post_process(result.images, payload):
                metadata: dict[str, Any] = {
                    "job_id": job.id,
                    "prompt": request.prompt,
                    "negative": request.negative,
                    "params": params,
                    "provider": result.provider,
                    "model": image.model,
                    "parent": resolved.parent_id,
                    "revised_prompt": image.revised_prompt,
                }
                stored.append(await self._artifacts.save(image, metadata=metadata, now=self._clock.now()))
        except BaseException as exc:
            await record(
                params_of(request),
                error=repr(exc),
                cancelled=isinstance(exc, asyncio.CancelledError),
                job_id=job.id,
            )
            raise
        preview = self._chain.is_preview(result.provider)
        notes = [*result.notes, *made.notes]
        notes += [img.revised_prompt for img in result.images[:1] if img.revised_prompt and preview]
        extra: dict[str, Any] = {"notes": notes} if notes else {}
        if preview:
            extra["preview"] = True
        generation_id, moved = await record(
            {**params, **extra},
            provider=result.provider,
            model=result.model,
            images=stored,
            job_id=job.id,  # the saved images and the job's move to generated: one transaction
            owner=self._owner,
        )
        await self._ledger.settle(job, len(stored))
        if not moved:
            raise LeaseLost(f"job {job.id}: no longer held by {self._owner}")
        finished = self._clock.now()
        return GenerationRecord(
            id=generation_id,
            chat_id=job.chat_id,
            user_id=job.user_id,
            kind=request.kind,
            status=GenerationStatus.DONE,
            prompt=request.prompt,
            negative=request.negative,
            params={**params, "notes": notes, **({"preview": True} if preview else {})},
            provider=result.provider,
            model=result.model,
            parent_id=resolved.parent_id,
            error=None,
            created_at=finished,
            finished_at=finished,
            images=tuple(stored),
        )

    async def _source_params(self, source: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """The params of the generation whose image an upscale, edit or variation (or a reroll of
        one) starts from (whether it was flagged: its pixels are the blurred picture's), else None."""
        generation = source.get("generation") if source is not None else None
        if not isinstance(generation, int) or isinstance(generation, bool):
            return None
        parent = await self._history.get_generation(generation_id=generation)
        return parent.params if parent is not None else None

    async def _post_process(self, images: Sequence[Image], payload: Mapping[str, Any]) -> list[Image]:
        """The images through each step the payload names, in order (an unknown step: an error)."""
        out = list(images)
        for step in _steps_of(payload):
            apply = self._steps.get(str(step.get("name")))
            if apply is None:
                raise EaselError(
                    f"unknown post-processing step {step.get('name')!r}", user_message=_(UNEXPECTED)
                )
            out = await apply(out, step)
        return out

    # ------------------------------------------------------------------------------------ delivering

    async def _deliver_saved(self, job: JobRecord, platform: Platform) -> float | None:
        """Deliver images a previous run saved (after a crash or a failed send)."""
        if await self._jobs.delivered(job_id=job.id, kind=RESULT):
            await self._jobs.move(job_id=job.id, to=JobStatus.DONE, now=self._clock.now(), owner=self._owner)
            return None
        record = (
            await self._history.get_generation(generation_id=job.generation_id)
            if job.generation_id is not None
            else None
        )
        if record is None or not record.images:
            await self._delivery.fail(
                job, platform, error="generated images missing", user_message=_(UNEXPECTED)
            )
            return None
        return await self._delivery.send_result(job, platform, record)


class LeaseLost(EaselError):
    """This replica no longer holds the job (it stalled past its lease and another took over)."""


def _steps_of(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The payload's post-processing steps; jobs queued before steps existed carry ``overlay``."""
    steps = list(payload.get("steps") or ())
    if not steps and payload.get("overlay"):
        steps = [{"name": "birthday_card", **payload["overlay"]}]
    return steps
