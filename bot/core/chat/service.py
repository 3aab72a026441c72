"""``ChatService``: what happens for each message. The router (or the adapter, for typed input) says
what is asked; quick answers come from :class:`~bot.core.chat.answers.QuickAnswers`; image work is
submitted to :class:`~bot.core.jobs.intake.JobIntake`, which makes it a durable job before the user is
told anything. This module does the talking: every answer and refusal is sent from here."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

from bot.core import i18n, texts
from bot.core.chat import ids
from bot.core.chat.answers import QuickAnswers
from bot.core.chat.router import Router
from bot.core.chat.takedown import administers
from bot.core.errors import DeliveryFailed, EaselError, InvalidInput, LimitExceeded
from bot.core.i18n import N_, _
from bot.core.identity import Directory, clean_name
from bot.core.jobs.intake import Accepted, JobIntake, NeedsConfirmation, Requester, Submission
from bot.core.jobs.relay import received_by
from bot.core.messages import (
    BanCommand,
    BirthdayCommand,
    Cancel,
    Confirm,
    Delete,
    Edit,
    Generate,
    Help,
    Hide,
    History,
    Ignore,
    Incoming,
    Intent,
    JobIntent,
    Reroll,
    ScheduleCommand,
    Settings,
    Status,
    Upscale,
    Vary,
)
from bot.core.ports import NO_METRICS, JobStore, Metrics, Platform
from bot.core.schedules.ports import ScheduleCommandHandler
from bot.core.texts import UNEXPECTED
from bot.core.types import Deletion, Queued, Reply, Target

log = logging.getLogger(__name__)
CREATING_ACTIONS = frozenset({"add", "set"})
NO_SCHEDULER = N_("Scheduled posts are not available here.")

DELETED = N_("Deleted #{id}: it is gone from the history and the gallery, and its files with it.")


def target_of(message: Incoming) -> Target:
    return Target(
        platform=message.platform,
        chat_id=message.chat_id,
        user_id=message.user_id,
        reply_to_message_id=message.message_id,
        extra=dict(message.extra),
    )


class ChatService:
    def __init__(
        self,
        *,
        router: Router,
        directory: Directory,
        intake: JobIntake,
        answers: QuickAnswers,
        jobs: JobStore,
        platforms: Mapping[str, Platform],
        scheduling: ScheduleCommandHandler | None = None,
        metrics: Metrics | None = None,
        replica: str | None = None,
    ) -> None:
        """``replica``: this process's name among several; a job's progress is shown by the replica
        that received its request (``bot.core.jobs.relay``)."""
        self._replica = replica
        self._router = router
        self._directory = directory
        self._intake = intake
        self._answers = answers
        self._jobs = jobs
        self._platforms = platforms
        self._scheduling = scheduling
        self._metrics = metrics or NO_METRICS

    async def handle(self, message: Incoming, *, addressed: bool = True) -> int | None:
        """Answer one message; return the id of the job it queued, if any. Never raises for the user's
        mistakes: they are answered in the chat."""
        with i18n.using(message.locale):  # the chat's /settings language, once read, wins
            return await self._handle(message, addressed=addressed)

    async def _handle(self, message: Incoming, *, addressed: bool) -> int | None:
        platform = self._platforms[message.platform]
        target = target_of(message)
        if self._replica is not None:
            target = received_by(target, self._replica)
        message = _clean(message)
        try:
            # who and where (one transaction for a new sender or chat, cached after; a Discord channel
            # learns its server), and so the language of the answers
            _, _, settings = await self._directory.identify(message)
            language = i18n.choose(i18n.resolve(settings, message.locale))
            target = dataclasses.replace(target, locale=None if language == i18n.DEFAULT else language)
            if (ids_text := ids.answer(message)) is not None:  # /id: nothing to look up or queue
                await platform.send(target, Reply(text=ids_text))
                return None
            message = await self._with_replied_generation(message)
            if message.intent is not None:
                intent = self._router.check(message.intent)
            else:
                intent = self._router.route(message, addressed=addressed)
            return await self._execute(intent, message, platform, target)
        except EaselError as exc:
            log.info("request refused: %s", exc)
            if isinstance(exc, LimitExceeded):
                self._metrics.rate_limited(exc.scope)
            await platform.send(target, Reply(text=exc.user_message, is_error=True))
        except Exception:
            log.exception("unexpected error handling %s message %s", message.platform, message.message_id)
            await platform.send(target, Reply(text=_(UNEXPECTED), is_error=True))
        return None

    async def authorize_delete(self, message: Incoming, generation_id: int) -> Deletion:
        with i18n.using(message.locale):  # its refusals are raised in the presser's language
            chat_id = await self._directory.chat(message.platform, message.chat_id)
            i18n.choose(i18n.resolve(await self._directory.settings(chat_id), message.locale))
            return await self._answers.authorize_delete(_clean(message), generation_id)

    async def _with_replied_generation(self, message: Incoming) -> Incoming:
        """A reply to one of our results names its generation: found from the recorded delivery (the
        adapter's reading of the caption is kept for messages sent before deliveries were recorded)."""
        if message.reply_to_message_id is None:
            return message
        shown = await self._jobs.generation_shown_in(
            platform=message.platform, chat_id=message.chat_id, message_id=message.reply_to_message_id
        )
        if shown is None or shown == message.reply_to_generation_id:
            return message
        # the adapter's reading named another generation: its image number was about that one
        return dataclasses.replace(message, reply_to_generation_id=shown, reply_to_image=None)

    async def _execute(
        self, intent: Intent, message: Incoming, platform: Platform, target: Target
    ) -> int | None:
        match intent:
            case Ignore():
                return None
            case Help():
                await platform.send(target, Reply(text=_(texts.HELP)))
            case Generate() | Edit() | Reroll() | Vary() | Upscale():
                return await self._submit(message, intent, platform, target)
            case Confirm():
                result = await self._intake.confirm(
                    platform=message.platform, chat=message.chat_id, user=message.user_id
                )
                return await self._answer_submission(result, platform, target)
            case History(page=page):
                await self._say(platform, target, await self._answers.history(message, page))
            case Status():
                await self._say(platform, target, await self._answers.status(message))
            case Delete(generation_id=generation_id):
                await self._say(platform, target, await self._delete(message, generation_id, platform))
            case Hide():
                await self._say(platform, target, await self._answers.hide(message, intent))
            case BanCommand():
                await self._say(platform, target, await self._answers.ban(message, intent))
            case Settings():
                await self._say(platform, target, await self._answers.settings(message, intent))
            case Cancel(job_id=job_id):
                count = await self._intake.cancel(
                    platform=message.platform, chat=message.chat_id, user=message.user_id, job_id=job_id
                )
                text = (
                    _("Cancelled {count} request(s).").format(count=count)
                    if count
                    else _("Nothing of yours is waiting or running here.")
                )
                await self._say(platform, target, text)
            case ScheduleCommand() | BirthdayCommand():
                await self._say(platform, target, await self._schedule(intent, message))
        return None

    async def _submit(
        self, message: Incoming, intent: JobIntent, platform: Platform, target: Target
    ) -> int | None:
        named = None if isinstance(intent, Generate) else intent.generation_id
        if named is not None:  # a hidden one is there only for those who may show it again
            await self._answers.check_use(message, named)
        key = f"{message.platform}:{message.chat_id}:{message.message_id}" if message.message_id else None
        reference = intent.reference.data if isinstance(intent, Edit) and intent.reference else None
        submission = Submission(
            intent=intent,
            requester=Requester(message.platform, message.user_id, message.display_name),
            target=target,
            key=key,
            reference=reference,
            sees_hidden=administers(message),  # checked again when the job runs
        )
        return await self._answer_submission(await self._intake.submit(submission), platform, target)

    async def _answer_submission(
        self, result: Accepted | NeedsConfirmation, platform: Platform, target: Target
    ) -> int | None:
        if isinstance(result, NeedsConfirmation):
            await self._say(
                platform,
                target,
                _("This would cost about ${cost}. Send /confirm within 5 minutes to go ahead.").format(
                    cost=f"{result.cost:.2f}"
                ),
            )
            return None
        if result.created:
            await platform.event(target, result.job_id, Queued(position=result.position))
        return result.job_id

    async def _delete(self, message: Incoming, generation_id: int, platform: Platform) -> str:
        """``/delete #12``: what the Delete button does (the same rights, the history and the files,
        the messages that showed it in this chat), answered in the chat."""
        deletion = await self._answers.authorize_delete(message, generation_id)
        for target, message_ids in deletion.messages:  # only this chat's (QuickAnswers)
            try:
                await platform.delete(target, message_ids)
            except DeliveryFailed as exc:  # the image is deleted all the same; its message is left
                log.info("could not delete the messages of #%s in %s: %s", generation_id, target.chat_id, exc)
        return _(DELETED).format(id=generation_id)

    async def _schedule(self, intent: ScheduleCommand | BirthdayCommand, message: Incoming) -> str:
        if self._scheduling is None:
            raise InvalidInput("scheduler off", user_message=_(NO_SCHEDULER))
        if intent.action in CREATING_ACTIONS:  # each schedule creates work: counted like a request
            await self._intake.limiter.admit(
                platform=message.platform, chat_id=message.chat_id, user_id=message.user_id
            )
        chat_id = await self._directory.chat(message.platform, message.chat_id)
        answer = await self._scheduling.handle(intent, message, await self._directory.settings(chat_id))
        await self._directory.settings_changed(chat_id)  # /birthday template writes the chat's settings
        return answer

    @staticmethod
    async def _say(platform: Platform, target: Target, text: str) -> None:
        await platform.send(target, Reply(text=text))


def _clean(message: Incoming) -> Incoming:
    name = clean_name(message.display_name)
    return message if name == message.display_name else dataclasses.replace(message, display_name=name)
