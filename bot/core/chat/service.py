"""Use cases: what happens for each message. Quick answers are sent at once; image work becomes a
durable job (see ``bot.core.jobs.queue`` and ``bot.core.jobs.runner``) before the user is acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core import imaging, texts
from bot.core.chat.requests import Defaults, new_seed, validate_chat_setting
from bot.core.chat.router import Router
from bot.core.errors import DeliveryFailed, EaselError, InvalidInput, NotFound
from bot.core.generation.chain import ProviderChain
from bot.core.jobs.codec import intent_to_json, stored_image_to_json
from bot.core.jobs.limits import LimitExceeded, RateLimiter, estimate_cost, humanize_seconds
from bot.core.jobs.queue import JobQueue, QueuedJob
from bot.core.ports import NO_METRICS, ArtifactStore, Clock, HistoryStore, JobStore, Metrics, Platform
from bot.core.rights import may_manage, require_admin
from bot.core.schedules.ports import ScheduleCommandHandler
from bot.core.texts import UNEXPECTED
from bot.core.types import (
    BirthdayCommand,
    Cancel,
    Confirm,
    Deletion,
    Edit,
    Failed,
    Generate,
    GenerationOptions,
    Help,
    History,
    Ignore,
    Image,
    Incoming,
    Intent,
    JobIntent,
    JobStatus,
    Queued,
    Reply,
    Reroll,
    ScheduleCommand,
    Settings,
    Status,
    Target,
    Vary,
)

log = logging.getLogger(__name__)

HISTORY_PAGE = 10
MAX_NAME_CHARS = 128
CREATING_ACTIONS = frozenset({"add", "set"})
GONE = "That image is gone."
NOT_SENT_YET = "That image is still being sent; try again in a moment."
DELETE_REFUSED = "Only the person who asked for it or an admin can delete this."
CONFIRM_TTL = timedelta(minutes=5)
CACHE_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class Policy:
    """The admission rules the service applies before queueing a job."""

    daily_images_per_user: int = 0
    """0 means unlimited."""
    prices: Mapping[str, float] | None = None
    confirm_over: float | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    message: Incoming
    platform: Platform
    target: Target
    user_id: int
    chat_id: int
    chat_settings: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Pending:
    intent: JobIntent
    message: Incoming
    expires: datetime


def _clean_names(message: Incoming) -> Incoming:
    """Display names are the sender's to choose: NUL and other control characters (which PostgreSQL
    refuses or logs would garble) are dropped, and the length is bounded, before anything keeps them."""
    name = message.display_name
    if name.isprintable() and len(name) <= MAX_NAME_CHARS:
        return message
    clean = "".join(ch for ch in name if ch.isprintable())[:MAX_NAME_CHARS]
    return dataclasses.replace(message, display_name=clean)


def target_of(message: Incoming) -> Target:
    return Target(
        platform=message.platform,
        chat_id=message.chat_id,
        user_id=message.user_id,
        reply_to_message_id=message.message_id,
        extra=dict(message.extra),
    )


class EaselService:
    def __init__(
        self,
        *,
        router: Router,
        history: HistoryStore,
        jobs: JobStore,
        artifacts: ArtifactStore,
        queue: JobQueue,
        chain: ProviderChain,
        limiter: RateLimiter,
        platforms: Mapping[str, Platform],
        clock: Clock,
        defaults: Defaults,
        policy: Policy = Policy(),
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._router = router
        self._history = history
        self._jobs = jobs
        self._artifacts = artifacts
        self._queue = queue
        self._chain = chain
        self._limiter = limiter
        self._platforms = platforms
        self._clock = clock
        self._defaults = defaults
        self._policy = policy
        self._rng = rng or random.Random()
        self._metrics = metrics or NO_METRICS
        self._pending: dict[tuple[int, int], _Pending] = {}
        # Ids never change and one process owns the database, so these save three queries a message.
        self._users: dict[tuple[str, str], tuple[int, str]] = {}
        self._chats: dict[tuple[str, str], int] = {}
        self._chat_settings: dict[int, dict[str, Any]] = {}
        self.scheduling: ScheduleCommandHandler | None = None
        """Answers /schedule and /birthday; set by ``bot.scheduler`` when the scheduler runs."""

    async def handle(self, message: Incoming, *, addressed: bool = True) -> int | None:
        """Answer one message; return the id of the job it queued, if any. Never raises for the user's
        mistakes: they are answered in the chat."""
        platform = self._platforms[message.platform]
        target = target_of(message)
        message = _clean_names(message)
        try:
            intent = self._router.route(message, addressed=addressed)
            return await self._execute(intent, message, platform, target)
        except EaselError as exc:
            log.info("request refused: %s", exc)
            if isinstance(exc, LimitExceeded):
                self._metrics.rate_limited(exc.scope)
            await platform.send(target, Reply(text=exc.user_message, is_error=True))
        except Exception:
            log.exception("unexpected error handling %s message %s", message.platform, message.message_id)
            await platform.send(target, Reply(text=UNEXPECTED, is_error=True))
        return None

    async def recover(self) -> int:
        """Queue every job a previous run left unfinished (for platforms running now); return how many."""
        count = 0
        for job in await self._jobs.open_jobs():
            if job.platform == "cli" and job.status in (
                JobStatus.QUEUED,
                JobStatus.RUNNING,
                JobStatus.GENERATED,
            ):
                # the `easel gen` process that asked for it has gone: nobody is left to answer
                await self._jobs.finish_job(
                    job_id=job.id,
                    status=JobStatus.FAILED,
                    now=self._clock.now(),
                    error="interrupted",
                    notified=True,
                )
                continue
            if job.platform not in self._platforms:
                continue
            self._queue.submit(QueuedJob(job.id, job.user_id, job.chat_id, job.after_job_id))
            count += 1
        return count

    async def _execute(
        self, intent: Intent, message: Incoming, platform: Platform, target: Target
    ) -> int | None:
        if isinstance(intent, Ignore):
            return None
        if isinstance(intent, Help):
            await platform.send(target, Reply(text=texts.HELP))
            return None
        user_id, chat_id, settings = await self._identify(message)
        conv = Conversation(message, platform, target, user_id, chat_id, settings)
        match intent:
            case Generate() | Edit() | Reroll() | Vary():
                return await self._submit(conv, intent)
            case Confirm():
                return await self._confirm(conv)
            case History(page=page):
                records = await self._history.list_generations(
                    chat_id=chat_id, limit=HISTORY_PAGE, offset=(page - 1) * HISTORY_PAGE
                )
                await self._say(conv, texts.history_lines(records, page))
            case Status():
                await self._status(conv)
            case Settings():
                await self._settings(conv, intent)
            case Cancel():
                await self._cancel(conv)
            case ScheduleCommand() | BirthdayCommand():
                await self._scheduling(conv, intent)
        return None

    async def _scheduling(self, conv: Conversation, intent: ScheduleCommand | BirthdayCommand) -> None:
        if self.scheduling is None:
            raise InvalidInput("scheduler off", user_message="Scheduled posts are not available here.")
        if intent.action in CREATING_ACTIONS:  # each schedule creates work: counted like a request
            message = conv.message
            self._limiter.admit(platform=message.platform, chat_id=message.chat_id, user_id=message.user_id)
        text = await self.scheduling.handle(intent, conv.message, conv.chat_settings)
        self._chat_settings.pop(conv.chat_id, None)  # /birthday template writes the chat's settings
        await self._say(conv, text)

    async def submit_scheduled(
        self,
        *,
        target: Target,
        owner: tuple[str, str, str],
        prompt: str,
        options: GenerationOptions,
        key: str,
        extra: Mapping[str, Any] | None = None,
    ) -> int:
        """Queue a scheduled post as a durable job (the chat pipeline: queue, retries, failover,
        delivery, crash recovery). ``owner`` is (platform, user id, name); ``key`` makes it idempotent
        (the same key returns the job made before);
        ``extra`` goes into the payload (e.g. a card's ``overlay``). Per-user rate limits do not apply
        (the schedule is the admission); the owner's daily quota and the queue's capacity do."""
        if target.platform not in self._platforms:
            raise DeliveryFailed(f"platform {target.platform!r} is not running", permanent=False)
        if self._queue.full:
            wait = self._queue.wait_estimate_s()
            raise LimitExceeded(
                "queue full", scope="queue", retry_after=wait, user_message="The queue was full."
            )
        platform, external_user, name = owner
        known = self._users.get((platform, external_user))
        user_id = known[0] if known is not None and known[1] == name else None
        if user_id is None:
            user_id = await self._history.upsert_user(
                platform=platform, external_id=external_user, display_name=name
            )
            self._users[(platform, external_user)] = (user_id, name)
        chat_key = (target.platform, target.chat_id)
        chat_id = self._chats.get(chat_key)
        if chat_id is None:
            chat_id = await self._history.upsert_chat(platform=target.platform, external_id=target.chat_id)
            self._chats[chat_key] = chat_id
        images = options.n or 1
        now = self._clock.now()
        quota = self._policy.daily_images_per_user
        exempt = platform == "cli" or self._limiter.is_exempt(platform, external_user)
        provider = options.provider or self._chain.primary.name
        cost = estimate_cost(self._policy.prices or {}, provider, options.model, images)
        if not await self._history.reserve_usage(
            user_id=user_id,
            day=now.date(),
            images=images,
            est_cost=cost,
            quota=quota if quota and not exempt else None,
        ):
            raise self._quota_exceeded(now, quota)
        payload: dict[str, Any] = {
            "intent": intent_to_json(Generate(prompt, options)),
            "seed": new_seed(self._rng),
            **(extra or {}),
        }
        job_id, created = await self._jobs.create_job(
            idempotency_key=key,
            platform=target.platform,
            chat_id=chat_id,
            user_id=user_id,
            target=target,
            payload=payload,
            images_reserved=images,
            usage_day=now.date(),
            est_cost=cost,
            after_job_id=None,
            now=now,
        )
        if not created:
            await self._history.add_usage(user_id=user_id, day=now.date(), images=-images, est_cost=-cost)
            return job_id
        self._queue.submit(QueuedJob(job_id, user_id, chat_id, None))
        return job_id

    async def authorize_delete(self, message: Incoming, generation_id: int) -> Deletion:
        """The messages a Delete press by ``message``'s sender may remove: those that showed the
        generation in this chat, if the sender asked for it or administers the chat. Raises
        ``NotFound`` or ``InvalidInput`` (with the answer for the presser) otherwise."""
        message = _clean_names(message)
        user_id, chat_id, _ = await self._identify(message)
        record = await self._history.get_generation(generation_id=generation_id)
        if record is None or record.chat_id != chat_id:
            raise NotFound(f"generation {generation_id} not in chat {chat_id}", user_message=GONE)
        if record.user_id != user_id and not may_manage(message):
            raise InvalidInput(f"delete of {generation_id} refused", user_message=DELETE_REFUSED)
        shown = [
            (target, tuple(ids))
            for target, ids in await self._jobs.result_messages(generation_id=generation_id)
            if (target.platform, target.chat_id) == (message.platform, message.chat_id) and ids
        ]
        if not shown:  # its result is still on its way (the delivery is recorded once it arrived)
            raise InvalidInput(f"generation {generation_id} not delivered yet", user_message=NOT_SENT_YET)
        return Deletion(generation_id, tuple(shown))

    async def _identify(self, message: Incoming) -> tuple[int, int, dict[str, Any]]:
        """The user's and chat's ids and the chat's settings, from memory when seen before."""
        if len(self._users) > CACHE_LIMIT or len(self._chats) > CACHE_LIMIT:
            self._users.clear()
            self._chats.clear()
            self._chat_settings.clear()
        user_key = (message.platform, message.user_id)
        known = self._users.get(user_key)
        if known is None or known[1] != message.display_name:
            user_id = await self._history.upsert_user(
                platform=message.platform, external_id=message.user_id, display_name=message.display_name
            )
            self._users[user_key] = (user_id, message.display_name)
        else:
            user_id = known[0]
        chat_key = (message.platform, message.chat_id)
        chat_id = self._chats.get(chat_key)
        if chat_id is None:
            chat_id = await self._history.upsert_chat(platform=message.platform, external_id=message.chat_id)
            self._chats[chat_key] = chat_id
        settings = self._chat_settings.get(chat_id)
        if settings is None:
            settings = await self._history.get_chat_settings(chat_id=chat_id)
            self._chat_settings[chat_id] = settings
        return user_id, chat_id, dict(settings)

    # ------------------------------------------------------------------------------------ submitting

    async def _submit(self, conv: Conversation, intent: JobIntent, *, confirmed: bool = False) -> int | None:
        message = conv.message
        key = f"{message.platform}:{message.chat_id}:{message.message_id}" if message.message_id else None
        if key is not None and (existing := await self._jobs.find_job(idempotency_key=key)) is not None:
            return existing.id  # the same update delivered twice: it is already being handled
        if self._queue.full:
            wait = self._queue.wait_estimate_s()
            raise LimitExceeded(
                "queue full",
                scope="queue",
                retry_after=wait,
                user_message=f"I'm busy right now; try again in about {humanize_seconds(wait)}.",
            )
        exempt = self._limiter.is_exempt(message.platform, message.user_id)
        images = await self._requested_images(intent, conv)
        options = intent.options if isinstance(intent, Generate | Edit) else None
        provider = (options.provider if options else None) or self._chain.primary.name
        cost = estimate_cost(self._policy.prices or {}, provider, options.model if options else None, images)
        over = self._policy.confirm_over
        if not confirmed and over is not None and cost > over and not exempt:
            self._pending[(conv.chat_id, conv.user_id)] = _Pending(
                intent, message, self._clock.now() + CONFIRM_TTL
            )
            await self._say(
                conv, f"This would cost about ${cost:.2f}. Send /confirm within 5 minutes to go ahead."
            )
            return None
        upload = await self._save_upload(intent) if isinstance(intent, Edit) and intent.reference else None
        self._limiter.admit(platform=message.platform, chat_id=message.chat_id, user_id=message.user_id)
        now = self._clock.now()
        quota = self._policy.daily_images_per_user
        if not await self._history.reserve_usage(
            user_id=conv.user_id,
            day=now.date(),
            images=images,
            est_cost=cost,
            quota=quota if quota and not exempt else None,
        ):
            raise self._quota_exceeded(now, quota)
        implicit = isinstance(intent, Edit | Reroll | Vary) and intent.generation_id is None
        after = await self._jobs.latest_open_job(chat_id=conv.chat_id) if implicit else None
        seed = options.seed if options is not None and options.seed is not None else new_seed(self._rng)
        payload: dict[str, Any] = {"intent": intent_to_json(intent), "seed": seed}
        if upload is not None:
            payload["upload"] = upload
        job_id, created = await self._jobs.create_job(
            idempotency_key=key,
            platform=message.platform,
            chat_id=conv.chat_id,
            user_id=conv.user_id,
            target=conv.target,
            payload=payload,
            images_reserved=images,
            usage_day=now.date(),
            est_cost=cost,
            after_job_id=after,
            now=now,
        )
        if not created:  # lost a race with the same update: give the reservation back
            await self._history.add_usage(
                user_id=conv.user_id, day=now.date(), images=-images, est_cost=-cost
            )
            return job_id
        position = self._queue.submit(QueuedJob(job_id, conv.user_id, conv.chat_id, after))
        await conv.platform.event(conv.target, job_id, Queued(position=position))
        return job_id

    async def _confirm(self, conv: Conversation) -> int | None:
        pending = self._pending.pop((conv.chat_id, conv.user_id), None)
        if pending is None or pending.expires < self._clock.now():
            raise InvalidInput(
                "nothing to confirm", user_message="There is nothing waiting for confirmation."
            )
        original = Conversation(
            pending.message, conv.platform, conv.target, conv.user_id, conv.chat_id, conv.chat_settings
        )
        return await self._submit(original, pending.intent, confirmed=True)

    async def _requested_images(self, intent: JobIntent, conv: Conversation) -> int:
        """How many images the job will make, for the quota: a reroll or variation repeats its source's n."""
        if isinstance(intent, Generate | Edit) and intent.options.n is not None:
            return intent.options.n
        if isinstance(intent, Reroll | Vary):
            source = (
                await self._history.get_generation(generation_id=intent.generation_id)
                if intent.generation_id is not None
                else await self._history.last_generation(chat_id=conv.chat_id)
            )
            if source is not None and source.chat_id == conv.chat_id:
                return int(source.params.get("n") or 1)
        return int(conv.chat_settings.get("n") or 1)

    async def _save_upload(self, intent: Edit) -> dict[str, Any]:
        """Check and keep an uploaded photo so the job can use it after a restart.

        Above ``imaging.PIXEL_BUDGET`` the photo is reduced while it is decoded and kept reduced, so
        the job, the provider and the renderer only ever see a bounded image."""
        assert intent.reference is not None
        bounded = await asyncio.to_thread(imaging.bound_upload, intent.reference.data)
        image = Image(
            data=bounded.data,
            mime=bounded.mime,
            width=bounded.width,
            height=bounded.height,
            provider="upload",
        )
        stored = await self._artifacts.save(image, metadata={"upload": True}, now=self._clock.now())
        return stored_image_to_json(stored)

    def _quota_exceeded(self, now: datetime, quota: int) -> LimitExceeded:
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
        wait = (midnight - now).total_seconds()
        return LimitExceeded(
            "daily quota reached",
            scope="daily",
            retry_after=wait,
            user_message=f"You have used your {quota} images for today. "
            f"The quota resets in about {humanize_seconds(wait)} (midnight UTC).",
        )

    # ---------------------------------------------------------------------------------- quick answers

    async def _status(self, conv: Conversation) -> None:
        usage = await self._history.usage(user_id=conv.user_id, day=self._clock.now().date())
        mine = self._queue.queued(chat_id=conv.chat_id, user_id=conv.user_id)
        positions = [str(self._queue.position(job_id)) for job_id in mine]
        running = self._queue.running(chat_id=conv.chat_id)
        quota = self._policy.daily_images_per_user
        quota_text = (
            f" of {quota}"
            if quota and not self._limiter.is_exempt(conv.message.platform, conv.message.user_id)
            else ""
        )
        health = self._chain.health()
        chain = [
            name if health.get(name, "closed") == "closed" else f"{name} (paused)"
            for name in self._chain.names
        ]
        lines = [
            f"Provider: {' → '.join(chain)}",
            f"Your images today: {usage.images_today}{quota_text} (all time: {usage.images_total})",
            f"Running in this chat: {len(running)}",
            f"Your queued requests: {len(mine)}" + (f" (positions {', '.join(positions)})" if mine else ""),
        ]
        if usage.spend_total:
            lines.append(f"Estimated spend: ${usage.spend_today:.2f} today, ${usage.spend_total:.2f} in all")
        await self._say(conv, "\n".join(lines))

    async def _settings(self, conv: Conversation, intent: Settings) -> None:
        settings = dict(conv.chat_settings)
        if intent.key is not None:
            require_admin(conv.message, "change the settings")
        if intent.key == "reset":
            settings = {}
        elif intent.key is not None and intent.value is None:
            settings.pop(intent.key, None)
        elif intent.key is not None and intent.value is not None:
            settings[intent.key] = validate_chat_setting(
                intent.key, intent.value, self._defaults, providers=self._chain.names
            )
        if intent.key is not None:
            await self._history.set_chat_settings(chat_id=conv.chat_id, settings=settings)
            self._chat_settings[conv.chat_id] = settings
        await self._say(conv, texts.settings_lines(settings))

    async def _cancel(self, conv: Conversation) -> None:
        cancelled = 0
        for job_id in self._queue.queued(chat_id=conv.chat_id, user_id=conv.user_id):
            if self._queue.remove_queued(job_id):
                job = await self._jobs.get_job(job_id=job_id)
                await self._jobs.finish_job(
                    job_id=job_id,
                    status=JobStatus.CANCELLED,
                    now=self._clock.now(),
                    error="cancelled",
                    notified=True,
                )
                if job is not None and job.usage_day is not None:
                    await self._history.add_usage(
                        user_id=job.user_id,
                        day=job.usage_day,
                        images=-job.images_reserved,
                        est_cost=-job.est_cost,
                    )
                if job is not None:  # its "Queued (#n)" status says so instead of staying up
                    with contextlib.suppress(DeliveryFailed):
                        await conv.platform.event(job.target, job_id, Failed(reason="Cancelled."))
                cancelled += 1
        for job_id in self._queue.running(chat_id=conv.chat_id, user_id=conv.user_id):
            cancelled += self._queue.cancel_running(job_id)
        text = (
            f"Cancelled {cancelled} request(s)."
            if cancelled
            else "Nothing of yours is waiting or running here."
        )
        await self._say(conv, text)

    async def _say(self, conv: Conversation, text: str) -> None:
        await conv.platform.send(conv.target, Reply(text=text))
