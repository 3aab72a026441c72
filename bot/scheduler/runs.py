"""Turning a claimed run into a job, and a finished job into the run's outcome.

A run's job goes through ``JobIntake.submit`` as a scheduled ``Submission``: the same admission and
durable pipeline as a chat request. Its idempotency key is ``schedule-run:<run id>:<attempt>``, so
submitting a claimed run again after a crash finds the job made before it. Its outcome is heard from
``JobOutcomes`` (no polling): done (failures reset); failed → retried after ``retry_backoff`` *
2^(failures-1) with a notice, and after ``max_failures`` consecutive failures the schedule pauses itself
with a notice; cancelled (deleted schedule, /cancel) → nothing more. A birthday card's greeting is a
post-processing step of its job (``birthday_card``), drawn when the images are made.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.core import i18n
from bot.core.errors import DeliveryFailed, EaselError, StorageError
from bot.core.flags import parse_aspect
from bot.core.i18n import N_, _
from bot.core.identity import Directory
from bot.core.jobs.intake import Accepted, NeedsConfirmation, Requester, Submission
from bot.core.jobs.ledger import JobOutcome
from bot.core.messages import Generate, GenerationOptions
from bot.core.ports import Clock, HistoryStore, JobStore, Platform
from bot.core.schedules.birthday_dates import card_prompt, greeting
from bot.core.schedules.commands import CARD_PROMPT_KEY
from bot.core.schedules.ports import (
    BirthdayStore,
    RunRecord,
    RunStatus,
    ScheduleKind,
    ScheduleRecord,
    ScheduleStore,
)
from bot.core.schedules.spec import format_target
from bot.core.schedules.templates import render
from bot.core.types import JobRecord, JobStatus, Reply

log = logging.getLogger(__name__)

_OPEN_JOB = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.GENERATED)
SUBMIT_BATCH = 200
SUBMIT_CONCURRENCY = 16
"""Runs of one batch submitted at once: each is a few statements, and while one waits for the
database the next one's prompt is rendered and its statements are built."""
BIRTHDAY_CARD = "birthday_card"
"""The post-processing step that draws a card's greeting (registered by ``bot.app``)."""


class Submitter(Protocol):
    async def submit(
        self, submission: Submission, *, confirmed: bool = False
    ) -> Accepted | NeedsConfirmation: ...

    async def cancel_jobs(self, job_ids: Sequence[int]) -> None: ...


@dataclass(frozen=True, slots=True)
class RunPolicy:
    max_failures: int = 3
    retry_backoff_s: float = 120.0


class RunExecutor:
    def __init__(
        self,
        *,
        store: ScheduleStore,
        birthdays: BirthdayStore,
        history: HistoryStore,
        submitter: Submitter,
        jobs: JobStore,
        platforms: Mapping[str, Platform],
        clock: Clock,
        policy: RunPolicy,
        on_retry: Callable[[RunRecord, datetime], None],
        wait_for_job: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._birthdays = birthdays
        self._history = history
        self._submitter = submitter
        self._jobs = jobs
        self._platforms = platforms
        self._clock = clock
        self._policy = policy
        self._on_retry = on_retry
        self._wait_for_job = wait_for_job
        self._watched: dict[int, RunRecord] = {}
        """Job id → the run waiting for its outcome."""
        self._outcomes: asyncio.Queue[tuple[int, JobStatus | None]] = asyncio.Queue()
        self._recording = asyncio.Lock()
        """Held while runs are marked submitted and while outcomes are recorded: one at a time."""
        """(job id, its final status, or None: look it up once)."""
        self._submitting: asyncio.Queue[tuple[RunRecord, ScheduleRecord | None]] = asyncio.Queue()
        self._submit_slots = asyncio.Semaphore(SUBMIT_CONCURRENCY)

    @property
    def submitter(self) -> Submitter:
        return self._submitter

    # ----------------------------------------------------------------------------------- submitting

    def submit(self, run: RunRecord, schedule: ScheduleRecord | None = None) -> None:
        """Queue the run for submission (in order, by :meth:`submit_forever`), so the scheduler's loop
        never waits for a thousand job rows to be written."""
        self._submitting.put_nowait((run, schedule))

    async def submit_forever(self) -> None:
        while True:
            batch = [await self._submitting.get()]
            while not self._submitting.empty() and len(batch) < SUBMIT_BATCH:
                batch.append(self._submitting.get_nowait())
            try:
                results = await asyncio.gather(
                    *(self._submit_bounded(run, schedule) for run, schedule in batch)
                )
                submitted = [pair for pair in results if pair is not None]
                # Watched before the write (an outcome may come meanwhile), and under the lock the
                # outcomes are recorded under: a job that already ended is resolved only after this
                # write, which would otherwise overwrite its run's "failed" or "retrying".
                async with self._recording:
                    for run, job_id in submitted:
                        self.watch(run, job_id)
                    await self._store.mark_submitted(submitted, now=self._clock.now())
            except EaselError as exc:
                log.warning("scheduled runs could not be submitted: %s", exc)  # claimed: next start submits
            except Exception:
                log.exception("submitting scheduled runs failed")
            finally:
                for _item in batch:
                    self._submitting.task_done()

    async def _submit_bounded(
        self, run: RunRecord, schedule: ScheduleRecord | None
    ) -> tuple[RunRecord, int] | None:
        async with self._submit_slots:
            return await self._submit(run, schedule)

    async def _submit(self, run: RunRecord, schedule: ScheduleRecord | None) -> tuple[RunRecord, int] | None:
        """Make the run's job; a failure to even queue it counts as a failed run."""
        schedule = schedule or await self._store.get(run.schedule_id)
        now = self._clock.now()
        if schedule is None:
            await self._store.set_run(run.id, status=RunStatus.CANCELLED, now=now, error="schedule deleted")
            return None
        try:
            if schedule.target.platform not in self._platforms:
                raise DeliveryFailed(f"platform {schedule.target.platform!r} is not running", permanent=False)
            prompt, options, steps = await self._request(schedule, run)
            result = await self._submitter.submit(
                Submission(
                    intent=Generate(prompt, options),
                    requester=Requester(schedule.owner_platform, schedule.owner_user, schedule.owner_name),
                    target=schedule.target,
                    key=f"schedule-run:{run.id}:{run.attempts}",
                    steps=steps,
                    scheduled=True,
                )
            )
        except EaselError as exc:
            log.warning("schedule %s: run %s could not be queued: %s", schedule.id, run.id, exc)
            await self._failed(run, schedule, exc.user_message)
            return None
        assert isinstance(result, Accepted)  # scheduled work is never held for confirmation
        return run, result.job_id

    async def _request(
        self, schedule: ScheduleRecord, run: RunRecord
    ) -> tuple[str, GenerationOptions, tuple[Mapping[str, Any], ...]]:
        local = run.fire_time.astimezone(ZoneInfo(schedule.tz))
        overrides = schedule.overrides
        options = GenerationOptions(
            n=1,
            aspect=parse_aspect(overrides.aspect) if overrides.aspect else None,
            model=overrides.model,
            provider=overrides.provider,
        )
        if schedule.kind == ScheduleKind.BIRTHDAY:
            birthday = await self._birthdays.by_schedule(schedule.id)
            if birthday is None:
                raise EaselError("birthday gone", user_message=_("That birthday was removed."))
            settings = await self._chat_settings(schedule)
            with i18n.using(i18n.resolve(settings, None)):  # the chat's /settings language
                text = greeting(birthday.name, born=birthday.year, on=local.date())
            card = {"name": BIRTHDAY_CARD, "text": text, "caption": text}  # the chat sees the greeting
            return card_prompt(settings.get(CARD_PROMPT_KEY), settings), options, (card,)
        rng = random.Random(f"{schedule.id}:{run.fire_time.isoformat()}")  # a retry picks the same choices
        return render(schedule.prompt, when=local, n=max(1, schedule.counter), rng=rng), options, ()

    # ------------------------------------------------------------------------------------- outcomes

    def watch(self, run: RunRecord, job_id: int) -> None:
        """Wait for the job's outcome (looked up once now, in case it came before the watch)."""
        self._watched[job_id] = run
        self._outcomes.put_nowait((job_id, None))

    def heard(self, outcome: JobOutcome) -> None:
        """A ``JobOutcomes`` listener: a watched job ended."""
        if outcome.job_id in self._watched:
            self._outcomes.put_nowait((outcome.job_id, outcome.status))

    async def flush(self) -> None:
        """Until every run handed over so far has been submitted (or failed to be)."""
        await self._submitting.join()

    async def settle(self) -> None:
        """Until every run handed over so far is submitted, its job (if this process runs it) has
        ended, and every outcome heard is recorded (tests, benchmarks)."""
        await self._submitting.join()
        if self._wait_for_job is not None:
            for job_id in list(self._watched):
                await self._wait_for_job(job_id)
        await self._outcomes.join()

    async def watch_forever(self) -> None:
        """Record outcomes as they are heard; the successes of a batch in one transaction."""
        while True:
            batch = [await self._outcomes.get()]
            while not self._outcomes.empty() and len(batch) < SUBMIT_BATCH:
                batch.append(self._outcomes.get_nowait())
            done: list[RunRecord] = []
            try:
                async with self._recording:
                    for job_id, status in batch:
                        run = self._watched.get(job_id)
                        if run is None:
                            continue
                        job = await self._jobs.get_job(job_id=job_id) if status != JobStatus.DONE else None
                        if status == JobStatus.DONE or (job is not None and job.status == JobStatus.DONE):
                            done.append(self._watched.pop(job_id))
                        elif job is None or job.status not in _OPEN_JOB:
                            del self._watched[job_id]
                            await self._resolve(run, job)
                    await self._store.finish_runs(done, now=self._clock.now())
            except EaselError as exc:
                log.warning("outcome of scheduled runs unknown: %s", exc)
            except Exception:
                log.exception("recording the outcome of scheduled runs failed")
            finally:
                for _item in batch:
                    self._outcomes.task_done()

    async def _resolve(self, run: RunRecord, job: JobRecord | None) -> None:
        now = self._clock.now()
        if job is None or job.status == JobStatus.CANCELLED:
            await self._store.set_run(run.id, status=RunStatus.CANCELLED, now=now, error="cancelled")
            return
        schedule = await self._store.get(run.schedule_id)
        if schedule is None:
            await self._store.set_run(run.id, status=RunStatus.CANCELLED, now=now, error="schedule deleted")
            return
        await self._failed(run, schedule, job.user_message or job.error or N_("the job failed"))

    async def _failed(self, run: RunRecord, schedule: ScheduleRecord, reason: str) -> None:
        now = self._clock.now()
        failures = await self._store.record_outcome(
            schedule.id, failed=True, pause_after=self._policy.max_failures, now=now
        )
        if failures >= self._policy.max_failures:
            await self._store.set_run(run.id, status=RunStatus.FAILED, now=now, error=reason)
            log.warning("schedule %s paused after %d failures: %s", schedule.id, failures, reason)
            with i18n.using(await self._language(schedule)):
                text = (
                    _(
                        "Scheduled post #{id} failed {failures} times in a row and is paused ({reason}). "
                        "/schedule resume {id} starts it again."
                    )
                    if schedule.kind == ScheduleKind.POST
                    else _(
                        "The birthday card failed {failures} times in a row and is paused ({reason}). "
                        "/schedule resume {id} starts it again."
                    )
                ).format(id=schedule.id, failures=failures, reason=_(reason))
            await self._notify(schedule, text)
            return
        delay = timedelta(seconds=self._policy.retry_backoff_s * 2 ** (failures - 1))
        when = now + delay
        await self._store.set_run(
            run.id, status=RunStatus.RETRYING, now=now, error=reason, next_attempt_at=when
        )
        self._on_retry(run, when)
        minutes = max(1, round(delay.total_seconds() / 60))
        with i18n.using(await self._language(schedule)):
            text = (
                _("Scheduled post #{id} failed ({reason}); I'll try again in about {minutes} min.")
                if schedule.kind == ScheduleKind.POST
                else _("The birthday card failed ({reason}); I'll try again in about {minutes} min.")
            ).format(id=schedule.id, reason=_(reason), minutes=minutes)
        await self._notify(schedule, text)

    async def _language(self, schedule: ScheduleRecord) -> str:
        """The language of the schedule's chat (its /settings language, else English). A failure's
        reason is in it already when the job ran; one of Easel's texts raised before the job existed
        (so in English) is translated there by ``_(reason)``, and any other text stays as it is."""
        try:
            settings = await self._chat_settings(schedule)
        except StorageError:
            settings = {}
        return i18n.resolve(settings, schedule.target.locale)

    async def _chat_settings(self, schedule: ScheduleRecord) -> dict[str, Any]:
        """The settings that apply in the schedule's chat: its server's defaults (a Discord server's
        ``/settings guild language``) under its own, as its job's runner reads them. Read afresh (a new
        ``Directory`` caches nothing that another replica could have changed)."""
        chat = await self._history.upsert_chat(
            platform=schedule.target.platform, external_id=schedule.target.chat_id
        )
        return await Directory(self._history).settings(chat)

    async def _notify(self, schedule: ScheduleRecord, text: str) -> None:
        """Tell the owner where the schedule posts (its chat); the operator's log has it too."""
        platform = self._platforms.get(schedule.target.platform)
        if platform is None:
            log.warning("schedule %s (%s): %s", schedule.id, format_target(schedule.target), text)
            return
        try:
            await platform.send(schedule.target, Reply(text=text, is_error=True))
        except DeliveryFailed as exc:
            log.warning("schedule %s: notice not delivered (%s): %s", schedule.id, exc, text)
