"""Answers that need no job: ``/status``, ``/history``, ``/settings``, ``/ban``, and (through
:class:`~bot.core.chat.takedown.Takedown`) who may delete or hide what.

Each returns the text to say (or the decision); talking to the platform is the service's business.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.core import i18n, texts
from bot.core.chat.takedown import Takedown
from bot.core.content.bans import BAN_KEY, GUILD_BAN_KEY
from bot.core.content.commands import ban_command
from bot.core.content.policy import POLICY_KEY, parse_policy
from bot.core.content.refusals import REFUSED_KEY
from bot.core.errors import InvalidInput
from bot.core.generation.chain import ProviderChain
from bot.core.generation.requests import Defaults, validate_chat_setting
from bot.core.i18n import AUTO, LANGUAGE_KEY, N_, _
from bot.core.identity import Directory
from bot.core.jobs.intake import JobIntake
from bot.core.jobs.queue import JobQueue
from bot.core.messages import BanCommand, Hide, Incoming, Settings
from bot.core.ports import ArtifactStore, Clock, HistoryStore, JobStore
from bot.core.rights import require_admin
from bot.core.types import Deletion, GenerationRecord, JobStatus

log = logging.getLogger(__name__)
HISTORY_PAGE = 10
GUILD_SCOPE = "guild"
"""``/settings guild ...``: the server's defaults rather than the chat's settings."""
NO_GUILD = N_("This chat is not part of a server: /settings changes this chat's settings.")
GUILD_ADMINS_ONLY = N_("Only the server's administrators (Manage Server) can change its defaults.")
GUILD_NOTE = N_("(a channel's own /settings win over them; /settings guild reset clears them)")
USE_GUILD_BAN = N_("The server's ban list is changed with /ban guild (see /ban guild list).")
NO_GUILD_BANS = N_("This chat is not part of a server: /ban changes this chat's ban list.")
NO_GUILD_DEFAULTS = N_("This server has no defaults of its own. Set one: /settings guild aspect 16:9.")
CONTENT_KEYS = frozenset({BAN_KEY, REFUSED_KEY, POLICY_KEY})
"""Settings ``/settings reset`` keeps: the content controls (changed with /ban and /settings policy)."""
BAN_KEYS = frozenset({BAN_KEY, GUILD_BAN_KEY, REFUSED_KEY})
"""Settings only ``/ban`` changes (``/settings ban`` neither shows nor clears them)."""
USE_BAN = N_("The ban list is changed with /ban (see /ban list).")
GUILD_BAN_ADMINS_ONLY = N_("Only the server's administrators (Manage Server) can change its ban list.")
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
        self._takedown = Takedown(directory=directory, history=history, jobs=jobs, artifacts=artifacts)

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
        """Show the chat's settings, or change one (admins; a provider must be configured).
        ``/settings reset`` keeps the content controls; the ban list is ``/ban``'s."""
        if intent.key == GUILD_SCOPE:
            return await self._guild_settings(message, intent.value)
        await self._directory.place(message)  # a server's channel: its defaults apply here
        chat_id = await self._directory.chat(message.platform, message.chat_id)
        settings = await self._directory.settings(chat_id)
        if intent.key is not None:
            require_admin(message, "change the settings")
        if intent.key in BAN_KEYS:
            raise InvalidInput(f"/settings {intent.key}", user_message=_(USE_BAN))
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

    async def ban(self, message: Incoming, intent: BanCommand) -> str:
        """``/ban ...``: the chat's admins only (their ban list and what it refused are theirs); the
        list shown includes the server's rules. ``/ban guild ...``: the server's admins only."""
        if intent.guild:
            return await self._guild_ban(message, intent)
        require_admin(message, "manage the ban list")
        await self._directory.place(message)  # a server's channel: its rules apply here
        chat_id = await self._directory.chat(message.platform, message.chat_id)
        settings = await self._directory.settings(chat_id)
        failed: list[GenerationRecord] = []
        if intent.action == "refused":
            failed = await self._history.list_generations(
                chat_id=chat_id, limit=REFUSED_SCAN, include_hidden=True
            )
        answer, changed = ban_command(intent.action, intent.args, settings, failed)
        if changed is not None:
            await self._directory.set_settings(chat_id, changed)
        return answer

    async def _guild_ban(self, message: Incoming, intent: BanCommand) -> str:
        """``/ban guild add|list|remove``: the server's list, kept in its settings row and checked in
        every channel of it with the channel's own."""
        if message.guild_id is None:
            raise InvalidInput("no guild here: /ban guild", user_message=_(NO_GUILD_BANS))
        if not message.is_admin:
            raise InvalidInput("not a server admin: /ban guild", user_message=_(GUILD_BAN_ADMINS_ONLY))
        await self._directory.place(message)
        guild_id = await self._directory.guild(message.platform, message.guild_id)
        settings = await self._directory.own_settings(guild_id)
        answer, changed = ban_command(intent.action, intent.args, settings, server=True)
        if changed is not None:
            await self._directory.set_settings(guild_id, changed)
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
        if key in BAN_KEYS:
            raise InvalidInput(f"/settings guild {key}", user_message=_(USE_GUILD_BAN))
        if key == "reset":
            settings = {k: v for k, v in settings.items() if k in CONTENT_KEYS}
        elif key and (not value or (key == LANGUAGE_KEY and value.lower() == AUTO)):
            settings.pop(key, None)
        elif key:
            settings[key] = validate_chat_setting(key, value, self._defaults, providers=self._chain.names)
        if key:
            await self._directory.set_settings(guild_id, settings)
        shown = _shown(settings)
        if not shown:
            return _(NO_GUILD_DEFAULTS)
        body = "\n".join(f"{k}: {v}" for k, v in sorted(shown.items()))
        return _("This server's defaults:") + f"\n{body}\n" + _(GUILD_NOTE)

    async def authorize_delete(self, message: Incoming, generation_id: int) -> Deletion:
        """Delete a generation for ``message``'s sender (``Takedown.delete``: the same rights as
        ``/hide``). Raises ``NotFound`` or ``InvalidInput`` (with the answer for the sender) otherwise."""
        return await self._takedown.delete(message, generation_id)

    async def hide(self, message: Incoming, intent: Hide) -> str:
        """``/hide #12`` or ``/unhide #12`` (``Takedown.hide``)."""
        return await self._takedown.hide(message, intent.generation_id, hidden=intent.hidden)

    async def check_use(self, message: Incoming, generation_id: int) -> None:
        """``NotFound`` when the named generation is hidden from the sender (``Takedown.check_use``)."""
        await self._takedown.check_use(message, generation_id)


def _shown(settings: dict[str, Any]) -> dict[str, Any]:
    """What ``/settings`` lists: the ban lists as counts (``/ban list`` shows them to admins), no log."""
    shown = {k: v for k, v in settings.items() if k not in BAN_KEYS}
    for key in (BAN_KEY, GUILD_BAN_KEY):
        if isinstance(rules := settings.get(key), list) and rules:
            shown[key] = _("{count} rule(s) (/ban list)").format(count=len(rules))
    return shown
