"""``JobIntake``: the one owner of admission and of a job's life outside its run.

Chat requests and scheduled posts alike come in as a :class:`Submission`: the same limits (rates for
chat requests; the daily quota and the queue's capacity for everyone), the same durable job row, the
same queue. It answers with what happened (:class:`Accepted`, :class:`NeedsConfirmation`) or raises
``LimitExceeded``; talking to the user is the caller's business. Cancelling (``/cancel``, a deleted
schedule) and recovery after a restart live here too; jobs end through :class:`JobLedger`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.core import i18n, imaging
from bot.core.bus import CANCEL, JOBS, EventBus, LocalBus
from bot.core.content.policy import PAYLOAD_KEY, POLICY_KEY, payload_entry
from bot.core.content.screening import needs_screening, screen
from bot.core.errors import DeliveryFailed, InvalidInput, LimitExceeded, StorageError
from bot.core.flags import MAX_SEED
from bot.core.generation.resolve import SEES_HIDDEN
from bot.core.i18n import _
from bot.core.identity import Directory
from bot.core.jobs.codec import intent_to_json
from bot.core.jobs.ledger import JobLedger
from bot.core.jobs.limits import RateLimiter, estimate_cost, humanize_seconds
from bot.core.jobs.queue import JobQueue
from bot.core.messages import Edit, Generate, JobIntent, Reroll, Upscale, Vary
from bot.core.ports import ArtifactStore, Clock, HistoryStore, JobStore, Platform
from bot.core.types import Failed, Image, JobRecord, JobStatus, Target

log = logging.getLogger(__name__)
CONFIRM_TTL = timedelta(minutes=5)
MAX_PENDING = 10_000
LOCAL_ONLY = frozenset({"cli"})
"""Jobs of ``easel gen``: nobody is left to answer them once that process is gone."""


@dataclass(frozen=True, slots=True)
class Policy:
    """The admission rules applied before a job is queued."""

    daily_images_per_user: int = 0
    """0 means unlimited."""
    prices: Mapping[str, float] | None = None
    confirm_over: float | None = None


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks (whose quota and rates): a platform user, as the platform names them."""

    platform: str
    user_id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Submission:
    intent: JobIntent
    requester: Requester
    target: Target
    """Where the answers go; its platform and chat are the job's chat."""
    key: str | None = None
    """Idempotency: the same key (the same platform update, the same schedule run) makes one job."""
    steps: tuple[Mapping[str, Any], ...] = ()
    """Post-processing steps for the images (``{"name": ..., ...}``), e.g. a birthday card's text."""
    scheduled: bool = False
    """A schedule's run: the schedule was the admission (no request rates, no confirmation)."""
    reference: bytes | None = None
    """An uploaded image to edit (checked and kept, so the job can use it after a restart)."""
    sees_hidden: bool = False
    """The requester administers the chat: a generation it names that is hidden (``/hide``) by the time
    the job runs is still used for them (otherwise only for the one who asked for it)."""


@dataclass(frozen=True, slots=True)
class Accepted:
    job_id: int
    position: int
    created: bool
    """False: the same key was submitted before; this is that job."""


@dataclass(frozen=True, slots=True)
class NeedsConfirmation:
    cost: float


@dataclass(frozen=True, slots=True)
class _Pending:
    submission: Submission
    expires: datetime


@dataclass
class _Admission:
    user_id: int
    chat_id: int
    settings: dict[str, Any] = field(default_factory=dict)


class JobIntake:
    def __init__(
        self,
        *,
        directory: Directory,
        history: HistoryStore,
        jobs: JobStore,
        artifacts: ArtifactStore,
        queue: JobQueue,
        ledger: JobLedger,
        limiter: RateLimiter,
        platforms: Mapping[str, Platform],
        clock: Clock,
        primary_provider: str,
        policy: Policy = Policy(),
        rng: random.Random | None = None,
        bus: EventBus | None = None,
    ) -> None:
        self._directory = directory
        self._history = history
        self._jobs = jobs
        self._artifacts = artifacts
        self._queue = queue
        self._ledger = ledger
        self.limiter = limiter
        self._platforms = platforms
        self._clock = clock
        self._primary = primary_provider
        self.policy = policy
        self._rng = rng or random.Random()
        self._pending: dict[tuple[int, int], _Pending] = {}
        self._bus = bus or LocalBus()
        self._bus.subscribe(CANCEL, self.heard_cancel)

    # ------------------------------------------------------------------------------------ submitting

    async def submit(
        self, submission: Submission, *, confirmed: bool = False
    ) -> Accepted | NeedsConfirmation:
        key = submission.key
        if key is not None and (existing := await self._jobs.find_job(idempotency_key=key)) is not None:
            return Accepted(existing.id, await self._queue.position(existing.id), created=False)
        if await self._queue.is_full():
            wait = self._queue.wait_estimate_s()
            text = _("The queue was full.") if submission.scheduled else (
                _("I'm busy right now; try again in about {wait}.").format(wait=humanize_seconds(wait))
            )  # fmt: skip
            raise LimitExceeded("queue full", scope="queue", retry_after=wait, user_message=text)
        who, target = submission.requester, submission.target
        if who.platform == target.platform:  # a new user in a new chat: one transaction
            user_id, chat_id, settings = await self._directory.user_in_chat(
                who.platform, who.user_id, who.name, target.chat_id
            )
            admission = _Admission(user_id=user_id, chat_id=chat_id, settings=settings)
        else:  # a schedule's owner posting elsewhere
            admission = _Admission(
                user_id=await self._directory.user(who.platform, who.user_id, who.name),
                chat_id=await self._directory.chat(target.platform, target.chat_id),
            )
            admission.settings = await self._directory.settings(admission.chat_id)
        await self._screen(submission, admission)
        exempt = self.limiter.is_exempt(who.platform, who.user_id)
        intent = submission.intent
        images = await self._requested_images(intent, admission)
        options = intent.options if isinstance(intent, Generate | Edit) else None
        provider = (options.provider if options else None) or self._primary
        cost = estimate_cost(self.policy.prices or {}, provider, options.model if options else None, images)
        over = self.policy.confirm_over
        if not (confirmed or submission.scheduled or exempt) and over is not None and cost > over:
            self._hold(admission, submission)
            return NeedsConfirmation(cost)
        upload = await self._keep_upload(submission.reference) if submission.reference is not None else None
        if not submission.scheduled:
            await self.limiter.admit(platform=who.platform, chat_id=target.chat_id, user_id=who.user_id)
        now = self._clock.now()
        quota = self.policy.daily_images_per_user
        implicit = isinstance(intent, Edit | Reroll | Vary | Upscale) and intent.generation_id is None
        after = await self._jobs.latest_open_job(chat_id=admission.chat_id) if implicit else None
        seed = (
            options.seed
            if options is not None and options.seed is not None
            else self._rng.randint(0, MAX_SEED)
        )
        payload: dict[str, Any] = {"intent": intent_to_json(intent), "seed": seed}
        if upload is not None:
            payload["upload"] = upload
        if submission.steps:
            payload["steps"] = [dict(step) for step in submission.steps]
        if submission.sees_hidden:
            payload[SEES_HIDDEN] = True
        if POLICY_KEY in admission.settings:  # shown as the chat asked when it was accepted
            payload[PAYLOAD_KEY] = payload_entry(admission.settings)
        made = await self._jobs.create_job(
            idempotency_key=key,
            platform=target.platform,
            chat_id=admission.chat_id,
            user_id=admission.user_id,
            target=target,
            payload=payload,
            images_reserved=images,
            usage_day=now.date(),
            est_cost=cost,
            after_job_id=after,
            now=now,
            count_usage=True,  # the quota and the job in one transaction: both or neither
            quota=quota if quota and not exempt else None,
        )
        if made is None:
            raise _quota_exceeded(now, quota)
        job_id, created = made
        if not created:  # lost a race with the same key: nothing was counted
            return Accepted(job_id, await self._queue.position(job_id), created=False)
        self._queue.queued()
        await self._bus.publish(JOBS, {"job_id": job_id})  # workers of other replicas, too
        # a scheduled post shows no "Queued (#n)": its place is not worth a query over the whole queue
        position = 1 if submission.scheduled else await self._queue.position(job_id)
        return Accepted(job_id, position, created=True)

    async def confirm(self, *, platform: str, chat: str, user: str) -> Accepted | NeedsConfirmation:
        """Go ahead with the request this user held back in this chat for its cost."""
        chat_id = await self._directory.chat(platform, chat)
        user_id = await self._directory.user(platform, user, "")
        pending = self._pending.pop((chat_id, user_id), None)
        if pending is None or pending.expires < self._clock.now():
            raise InvalidInput(
                "nothing to confirm", user_message=_("There is nothing waiting for confirmation.")
            )
        return await self.submit(pending.submission, confirmed=True)

    def _hold(self, admission: _Admission, submission: Submission) -> None:
        if len(self._pending) >= MAX_PENDING:
            now = self._clock.now()
            self._pending = {k: v for k, v in self._pending.items() if v.expires >= now}
        expires = self._clock.now() + CONFIRM_TTL
        self._pending[(admission.chat_id, admission.user_id)] = _Pending(submission, expires)

    async def _screen(self, submission: Submission, admission: _Admission) -> None:
        """The chat's ban list on the request's text (a reroll's or variation's: its source's prompt);
        raises the refusal, logged for the chat's admins."""
        if not needs_screening(admission.settings):
            return
        intent = submission.intent
        if isinstance(intent, Generate):
            text, what = intent.prompt, "schedule prompt" if submission.scheduled else "prompt"
        elif isinstance(intent, Edit):
            text, what = intent.instruction, "edit instruction"
        else:
            source = (
                await self._history.get_generation(generation_id=intent.generation_id)
                if intent.generation_id is not None
                else await self._history.last_generation(chat_id=admission.chat_id)
            )
            if source is None or source.chat_id != admission.chat_id:
                return  # the job says there is nothing to redo
            text, what = source.prompt, "prompt"
        await screen(
            self._directory,
            chat_id=admission.chat_id,
            settings=admission.settings,
            text=text,
            what=what,
            who=submission.requester.name or submission.requester.user_id,
            now=self._clock.now(),
        )

    async def _requested_images(self, intent: JobIntent, admission: _Admission) -> int:
        """How many images the job will make, for the quota: a reroll or variation repeats its source's n."""
        if isinstance(intent, Generate | Edit) and intent.options.n is not None:
            return intent.options.n
        if isinstance(intent, Upscale):
            return 1  # one image, twice as large
        if isinstance(intent, Reroll | Vary):
            source = (
                await self._history.get_generation(generation_id=intent.generation_id)
                if intent.generation_id is not None
                else await self._history.last_generation(chat_id=admission.chat_id)
            )
            if source is not None and source.chat_id == admission.chat_id:
                return int(source.params.get("n") or 1)
        return int(admission.settings.get("n") or 1)

    async def _keep_upload(self, data: bytes) -> dict[str, Any]:
        """Check and keep an uploaded photo so the job can use it after a restart.

        Above ``imaging.PIXEL_BUDGET`` the photo is reduced while it is decoded and kept reduced, so
        the job, the provider and the renderer only ever see a bounded image."""
        bounded = await asyncio.to_thread(imaging.bound_upload, data)
        image = Image(
            data=bounded.data,
            mime=bounded.mime,
            width=bounded.width,
            height=bounded.height,
            provider="upload",
        )
        stored = await self._artifacts.save(image, metadata={"upload": True}, now=self._clock.now())
        return stored.to_json()

    async def wait_for(self, job_id: int) -> None:
        """Until the job is finished, or no longer this process's to do."""
        await self._queue.wait_for(job_id)

    # ------------------------------------------------------------------------------------ cancelling

    async def cancel(self, *, platform: str, chat: str, user: str, job_id: int | None = None) -> int:
        """``/cancel``: the user's waiting jobs in the chat end (their quota given back, their status
        says so), their running ones are stopped, on whichever replica runs them; with ``job_id`` only
        that one, if it is one of them (another user's or chat's job is never touched). Returns how
        many."""
        chat_id = await self._directory.chat(platform, chat)
        user_id = await self._directory.user(platform, user, "")
        jobs = await self._jobs.open_jobs_in(chat_id=chat_id, user_id=user_id)
        if job_id is not None:
            jobs = [job for job in jobs if job.id == job_id]
        return await self._cancel(jobs, error="cancelled")

    async def cancel_jobs(self, job_ids: Sequence[int]) -> None:
        """Jobs of a deleted schedule: waiting ones end cancelled (quota given back), running ones stop."""
        jobs = [job for job_id in job_ids if (job := await self._jobs.get_job(job_id=job_id)) is not None]
        await self._cancel(jobs, error="schedule deleted")

    async def _cancel(self, jobs: Sequence[JobRecord], *, error: str) -> int:
        cancelled = 0
        for job in jobs:
            if job.status == JobStatus.QUEUED:
                ended = await self._ledger.end(job, JobStatus.CANCELLED, error=error, notified=True)
                if ended is not None:  # nobody held it: ended here; its status says so
                    cancelled += 1
                    await self._tell_cancelled(job)
                    continue
            if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):  # held by a worker: it stops it
                if not self._queue.cancel_running(job.id):
                    await self._bus.publish(CANCEL, {"job_id": job.id})
                cancelled += 1
        return cancelled

    def heard_cancel(self, message: Mapping[str, Any]) -> None:
        """A ``cancel`` message from another replica: stop the job if it runs here."""
        self._queue.cancel_running(int(message["job_id"]))

    async def _tell_cancelled(self, job: JobRecord) -> None:
        """Its "Queued (#n)" status says so instead of staying up, in the job's chat's language (the
        canceller may be elsewhere: a schedule removed from the terminal or the web page)."""
        platform = self._platforms.get(job.platform)
        if platform is None:
            return
        try:
            settings: Mapping[str, Any] | None = await self._directory.settings(job.chat_id)
        except StorageError:  # the job is cancelled already: say so in its request's language
            settings = None
        with i18n.using(i18n.resolve(settings, job.target.locale)), contextlib.suppress(DeliveryFailed):
            await platform.event(job.target, job.id, Failed(reason=_("Cancelled.")))

    # -------------------------------------------------------------------------------------- recovery

    async def recover(self, running: Collection[str], *, reclaim: Collection[str] = ()) -> int:
        """End the jobs of ``easel gen`` processes that are gone (nobody is left to answer them); let go
        of the leases on jobs of the platforms ``reclaim`` (only this process serves them: the previous
        run that held them is gone); return how many jobs for the platforms ``running`` are owed work
        (the workers claim them: another replica's only once its lease has expired)."""
        if reclaim:
            await self._jobs.release_platforms(platforms=sorted(reclaim))
        count = 0
        for job in await self._jobs.open_jobs():
            if job.platform in LOCAL_ONLY and job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
                await self._ledger.end(job, JobStatus.FAILED, error="interrupted", notified=True)
            elif job.platform in running:
                count += 1
        if count:
            self._queue.wake()
        return count


def _quota_exceeded(now: datetime, quota: int) -> LimitExceeded:
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
    wait = (midnight - now).total_seconds()
    return LimitExceeded(
        "daily quota reached",
        scope="daily",
        retry_after=wait,
        user_message=_(
            "You have used your {quota} images for today. The quota resets in about {wait} (midnight UTC)."
        ).format(quota=quota, wait=humanize_seconds(wait)),
    )
