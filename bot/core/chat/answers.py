"""Answers that need no job: ``/status``, ``/history``, ``/settings``, and who may delete what.

Each returns the text to say (or the decision); talking to the platform is the service's business.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.core import i18n, texts
from bot.core.content.bans import BAN_KEY
from bot.core.content.commands import ban_command, split
from bot.core.content.policy import POLICY_KEY, parse_policy
from bot.core.content.refusals import REFUSED_KEY
from bot.core.errors import InvalidInput, NotFound, StorageError
from bot.core.generation.chain import ProviderChain
from bot.core.generation.requests import Defaults, validate_chat_setting
from bot.core.i18n import AUTO, LANGUAGE_KEY, N_, _
from bot.core.identity import Directory
from bot.core.jobs.intake import JobIntake
from bot.core.jobs.limits import LOCAL_PLATFORMS
from bot.core.jobs.queue import JobQueue
from bot.core.messages import Incoming, Settings
from bot.core.ports import ArtifactStore, Clock, HistoryStore, JobStore
from bot.core.rights import may_manage, require_admin
from bot.core.types import Deletion, GenerationRecord, JobStatus

log = logging.getLogger(__name__)
HISTORY_PAGE = 10
GONE = N_("That image is gone.")
NOT_SENT_YET = N_("That image is still being sent; try again in a moment.")
DELETE_REFUSED = N_("Only the person who asked for it or an admin can delete this.")
GUILD_SCOPE = "guild"
"""``/settings guild ...``: the server's defaults rather than the chat's settings."""
NO_GUILD = N_("This chat is not part of a server: /settings changes this chat's settings.")
GUILD_ADMINS_ONLY = N_("Only the server's administrators (Manage Server) can change its defaults.")
GUILD_NOTE = N_("(a channel's own /settings win over them; /settings guild reset clears them)")
NO_GUILD_DEFAULTS = N_("This server has no defaults of its own. Set one: /settings guild aspect 16:9.")
CONTENT_KEYS = frozenset({BAN_KEY, REFUSED_KEY, POLICY_KEY})
"""Settings ``/settings reset`` keeps: the content controls (changed with /ban and /settings policy)."""
REFUSED_SCAN = 50
"""How many of the chat's newest generations ``/ban refused`` looks through for provider refusals."""


class QuickAnswers:
    def __init__(
        self,
        *,
        directory: Directory,
        history: HistoryStore,
        jobs: JobStore,
        queue: JobQueue,
        chain: ProviderChain,
        intake: JobIntake,
        defaults: Defaults,
        clock: Clock,
        artifacts: ArtifactStore | None = None,
    ) -> None:
        """``artifacts``: where a deleted generation's files are removed from (without it, only its
        rows are deleted)."""
        self._directory = directory
        self._history = history
        self._jobs = jobs
        self._queue = queue
        self._chain = chain
        self._intake = intake
        self._defaults = defaults
        self._clock = clock
        self._artifacts = artifacts

    async def history(self, message: Incoming, page: int) -> str:
        chat_id = await self._directory.chat(message.platform, message.chat_id)
        records = await self._history.list_generations(
            chat_id=chat_id, limit=HISTORY_PAGE, offset=(page - 1) * HISTORY_PAGE
        )
        return texts.history_lines(records, page)

    async def status(self, message: Incoming) -> str:
        user_id, chat_id, _settings = await self._directory.identify(message)
        usage = await self._history.usage(user_id=user_id, day=self._clock.now().date())
        here = await self._jobs.open_jobs_in(chat_id=chat_id)  # over every replica
        mine = [job.id for job in here if job.status == JobStatus.QUEUED and job.user_id == user_id]
        positions = [str(await self._queue.position(job_id)) for job_id in mine]
        running = [job.id for job in here if job.status == JobStatus.RUNNING]
        quota = self._intake.policy.daily_images_per_user
        limited = quota and not self._intake.limiter.is_exempt(message.platform, message.user_id)
        health = await self._chain.current_health()  # as every replica sees it
        chain = [
            name if health.get(name, "closed") == "closed" else _("{name} (paused)").format(name=name)
            for name in self._chain.names
        ]
        today = (
            _("Your images today: {used} of {quota} (all time: {total})")
            if limited
            else _("Your images today: {used} (all time: {total})")
        )
        queued = _("Your queued requests: {count}").format(count=len(mine))
        if mine:
            queued += " " + _("(positions {positions})").format(positions=", ".join(positions))
        lines = [
            _("Provider: {chain}").format(chain=" → ".join(chain)),
            today.format(used=usage.images_today, quota=quota, total=usage.images_total),
            _("Running in this chat: {count}").format(count=len(running)),
            queued,
        ]
        if usage.spend_total:
            lines.append(
                _("Estimated spend: ${today} today, ${total} in all").format(
                    today=f"{usage.spend_today:.2f}", total=f"{usage.spend_total:.2f}"
                )
            )
        return "\n".join(lines)

    async def settings(self, message: Incoming, intent: Settings) -> str:
        """Show the chat's settings, or change one (admins; a provider must be configured). ``/ban``
        arrives here as the ``ban`` key; ``/settings reset`` keeps the content controls."""
        if intent.key == GUILD_SCOPE:
            return await self._guild_settings(message, intent.value)
        await self._directory.place(message)  # a server's channel: its defaults apply here
        chat_id = await self._directory.chat(message.platform, message.chat_id)
        settings = await self._directory.settings(chat_id)
        if intent.key == BAN_KEY:
            return await self._ban(message, chat_id, settings, intent.value)
        if intent.key is not None:
            require_admin(message, "change the settings")
        if intent.key == "reset":
            settings = {k: v for k, v in settings.items() if k in CONTENT_KEYS}
        elif intent.key == LANGUAGE_KEY and (intent.value or AUTO).strip().lower() == AUTO:
            settings.pop(LANGUAGE_KEY, None)  # auto: each sender's own locale
        elif intent.key is not None and intent.value is None:
            settings.pop(intent.key, None)
        elif intent.key == POLICY_KEY and intent.value is not None:
            settings[POLICY_KEY] = parse_policy(intent.value).value
        elif intent.key is not None and intent.value is not None:
            settings[intent.key] = validate_chat_setting(
                intent.key, intent.value, self._defaults, providers=self._chain.names
            )
        if intent.key is not None:
            await self._directory.set_settings(chat_id, settings)
            settings = await self._directory.settings(chat_id)  # a cleared key may fall back to the server's
            if intent.key in (LANGUAGE_KEY, "reset"):  # the answer is in the language now chosen
                i18n.choose(i18n.resolve(settings, message.locale))
        return texts.settings_lines(_shown(settings))

    async def _ban(self, message: Incoming, chat_id: int, settings: dict[str, Any], value: str | None) -> str:
        """``/ban ...``: the chat's admins only (their ban list and what it refused are theirs)."""
        require_admin(message, "manage the ban list")
        failed: list[GenerationRecord] = []
        if split(value)[0] == "refused":
            failed = await self._history.list_generations(chat_id=chat_id, limit=REFUSED_SCAN)
        answer, changed = ban_command(value, settings, failed)
        if changed is not None:
            await self._directory.set_settings(chat_id, changed)
        return answer

    async def _guild_settings(self, message: Incoming, args: str | None) -> str:
        """``/settings guild [key [value] | reset]``: the server's defaults, under every channel's own
        settings; shown to anyone, changed by the server's admins only (Discord: Manage Server)."""
        if message.guild_id is None:
            raise InvalidInput("no guild here", user_message=_(NO_GUILD))
        key, _sep, value = (args or "").strip().partition(" ")
        key, value = key.lower(), value.strip()
        if key and not message.is_admin:
            raise InvalidInput("not a server admin: /settings guild", user_message=_(GUILD_ADMINS_ONLY))
        guild_id = await self._directory.guild(message.platform, message.guild_id)
        settings = await self._directory.own_settings(guild_id)
        if key == "reset":
            settings = {}
        elif key and (not value or (key == LANGUAGE_KEY and value.lower() == AUTO)):
            settings.pop(key, None)
        elif key:
            settings[key] = validate_chat_setting(key, value, self._defaults, providers=self._chain.names)
        if key:
            await self._directory.set_settings(guild_id, settings)
        if not settings:
            return _(NO_GUILD_DEFAULTS)
        body = "\n".join(f"{k}: {v}" for k, v in sorted(settings.items()))
        return _("This server's defaults:") + f"\n{body}\n" + _(GUILD_NOTE)

    async def authorize_delete(self, message: Incoming, generation_id: int) -> Deletion:
        """Delete a generation for ``message``'s sender, if they asked for it or administer its chat
        (the operator's own consoles, the web chat and the terminal: any chat's, as the gallery shows
        every chat): its rows go from the history and the gallery, its files from ``media_dir``.
        Returns the messages that showed it in this chat, for the adapter to remove. Raises
        ``NotFound`` or ``InvalidInput`` (with the answer for the sender) otherwise."""
        user_id, chat_id, _settings = await self._directory.identify(message)
        record = await self._history.get_generation(generation_id=generation_id)
        operator = message.is_admin and message.platform in LOCAL_PLATFORMS
        if record is None or (record.chat_id != chat_id and not operator):
            raise NotFound(f"generation {generation_id} not in chat {chat_id}", user_message=_(GONE))
        if record.user_id != user_id and not may_manage(message):
            raise InvalidInput(f"delete of {generation_id} refused", user_message=_(DELETE_REFUSED))
        shown = [
            (target, tuple(ids))
            for target, ids in await self._jobs.result_messages(generation_id=generation_id)
            if (target.platform, target.chat_id) == (message.platform, message.chat_id) and ids
        ]
        try:
            images = await self._history.delete_generation(generation_id=generation_id)
        except NotFound as exc:  # deleted meanwhile (two presses at once)
            raise NotFound(str(exc), user_message=_(GONE)) from exc
        except InvalidInput as exc:  # its result is still on its way: deleted once it arrived
            raise InvalidInput(str(exc), user_message=_(NOT_SENT_YET)) from exc
        if self._artifacts is not None:
            try:
                await self._artifacts.remove(images)
            except StorageError:  # the rows are gone: the image is deleted for everyone; files left over
                log.exception("generation %s deleted, but not all of its files", generation_id)
        return Deletion(generation_id, tuple(shown))


def _shown(settings: dict[str, Any]) -> dict[str, Any]:
    """What ``/settings`` lists: the ban list as a count (``/ban list`` shows it to admins), no log."""
    shown = {k: v for k, v in settings.items() if k not in (BAN_KEY, REFUSED_KEY)}
    if rules := settings.get(BAN_KEY):
        shown[BAN_KEY] = _("{count} rule(s) (/ban list)").format(count=len(rules))
    return shown
