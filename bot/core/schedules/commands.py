"""``/schedule`` and ``/birthday`` in chat.

    /schedule add <when> <prompt> [--tz Europe/Berlin] [--ar 16:9] [--model m] [--provider p]
    /schedule list | remove <id> | pause <id> | resume <id> | run <id>
    /birthday set <date> [name] [time zone] | list | remove [name] | template <prompt>|reset

Who may do what: in a private chat, everything. In a group, only members the adapter marked
``Incoming.is_admin`` (the convention every adapter follows: Telegram chat administrators via
getChatMember, Discord members with Manage Server, and anyone in a private chat or DM) may add, remove,
pause, resume or run schedules, set a birthday for someone else or change the card prompt; everyone
may list, and set or remove their own birthday.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.core.content.bans import check_text
from bot.core.errors import InvalidInput, NotFound
from bot.core.flags import FlagLimits, clip, parse_flags
from bot.core.i18n import N_, _
from bot.core.messages import BirthdayCommand, Incoming, ScheduleCommand
from bot.core.ports import Clock, HistoryStore
from bot.core.rights import require_admin
from bot.core.schedules.birthday_commands import BIRTHDAY_USAGE, CARD_PROMPT_KEY, BirthdayCommands
from bot.core.schedules.common import (
    SchedulePolicy,
    add_schedule,
    chat_target,
    format_times,
    may_manage,
)
from bot.core.schedules.ports import (
    BirthdayStore,
    NewSchedule,
    Overrides,
    ScheduleEvents,
    ScheduleKind,
    ScheduleRecord,
    ScheduleStore,
    Triggers,
)
from bot.core.schedules.spec import check_timezone, describe, parse_when
from bot.core.schedules.templates import validate_template

SCHEDULE_USAGE = N_(
    "Use /schedule add <when> <prompt>, e.g. /schedule add every day at 09:00 a lighthouse, {weekday} "
    "--tz Europe/Berlin; or /schedule list | remove <id> | pause <id> | resume <id> | run <id>."
)
__all__ = [
    "BIRTHDAY_USAGE",
    "CARD_PROMPT_KEY",
    "SCHEDULE_USAGE",
    "ScheduleCommands",
    "SchedulePolicy",
    "add_schedule",
    "chat_target",
    "format_times",
    "may_manage",
]
_ID = re.compile(r"#?([0-9]{1,12})")
_TZ_FLAG = re.compile(r"(?:^|\s)(?:--|\u2014|\u2013)(?:tz|timezone)(?:=|\s+)(\S+)", re.IGNORECASE)


class ScheduleCommands:
    def __init__(
        self,
        *,
        store: ScheduleStore,
        birthdays: BirthdayStore,
        history: HistoryStore,
        triggers: Triggers,
        clock: Clock,
        events: ScheduleEvents,
        policy: SchedulePolicy = SchedulePolicy(),
    ) -> None:
        self._store = store
        self._triggers = triggers
        self._clock = clock
        self._events = events
        self._policy = policy
        self._birthday_commands = BirthdayCommands(
            store=store, birthdays=birthdays, history=history, triggers=triggers, clock=clock, events=events,
            policy=policy,
        )  # fmt: skip

    async def handle(
        self, intent: ScheduleCommand | BirthdayCommand, message: Incoming, chat_settings: Mapping[str, Any]
    ) -> str:
        if isinstance(intent, ScheduleCommand):
            return await self._schedule(intent, message, chat_settings)
        return await self._birthday_commands.handle(intent, message)

    # ------------------------------------------------------------------------------------ schedules

    async def _schedule(
        self, intent: ScheduleCommand, message: Incoming, chat_settings: Mapping[str, Any]
    ) -> str:
        action, args = intent.action, intent.args
        if action == "list":
            return await self._list(message)
        if action not in ("add", "remove", "delete", "pause", "resume", "run"):
            raise InvalidInput(f"unknown /schedule {clip(action)}", user_message=_(SCHEDULE_USAGE))
        require_admin(message, "manage scheduled posts")
        if action == "add":
            return await self._add(args, message, chat_settings)
        schedule = await self._own(args, message)
        if action in ("remove", "delete"):
            jobs = await self._store.remove(schedule.id)
            await self._events.removed(schedule.id, jobs)  # its waiting jobs end, their quota given back
            if schedule.kind == ScheduleKind.POST:
                return _("Removed scheduled post #{id}.").format(id=schedule.id)
            return _("Removed birthday card #{id}.").format(id=schedule.id)
        if action in ("pause", "resume"):
            resume = action == "resume"
            now = self._clock.now()
            next_fire = self._triggers.next_after(schedule.spec, schedule.tz, now, anchor=schedule.created_at)
            await self._store.set_enabled(schedule.id, enabled=resume, next_fire_at=next_fire, now=now)
            self._events.changed(schedule.id)
            if not resume:
                return _("Paused #{id}. /schedule resume {id} starts it again.").format(id=schedule.id)
            upcoming = format_times([next_fire], schedule.tz) if next_fire else _("never")
            return _("Resumed #{id}; next post {when}.").format(id=schedule.id, when=upcoming)
        run = await self._store.request_run(schedule.id, now=self._clock.now())
        self._events.run_now(run)
        return _("Running #{id} now.").format(id=schedule.id)

    async def _add(self, args: str, message: Incoming, chat_settings: Mapping[str, Any]) -> str:
        here = await self._store.list_schedules(target=chat_target(message), kind=ScheduleKind.POST)
        if len(here) >= self._policy.max_per_chat:
            raise InvalidInput(
                f"schedule cap {self._policy.max_per_chat} reached",
                user_message=_(
                    "This chat already has {count} scheduled posts, the most it may have. "
                    "Remove one first (/schedule list, /schedule remove <id>)."
                ).format(count=len(here)),
            )
        tz = self._policy.timezone
        if match := _TZ_FLAG.search(args):
            tz = check_timezone(match[1])
            args = (args[: match.start()] + args[match.end() :]).strip()
        when = parse_when(args)
        parsed = parse_flags(when.rest, FlagLimits())
        prompt = parsed.text
        if not prompt:
            raise InvalidInput(
                "no prompt", user_message=_("Tell me what to draw after the time.") + " " + _(SCHEDULE_USAGE)
            )
        validate_template(prompt)
        check_text(chat_settings, prompt, "schedule prompt")  # and again at each run (``JobIntake``)
        options = parsed.options
        overrides = Overrides(
            provider=options.provider,
            model=options.model,
            aspect=str(options.aspect) if options.aspect else None,
        )
        new = NewSchedule(
            target=chat_target(message),
            when=when.text,
            spec=when.spec,
            tz=tz,
            prompt=prompt,
            owner_platform=message.platform,
            owner_user=message.user_id,
            owner_name=message.display_name,
            overrides=overrides,
        )
        schedule_id, times = await add_schedule(self._store, self._triggers, new, now=self._clock.now())
        self._events.changed(schedule_id)
        return (
            _("Scheduled #{id}: {when}: {prompt}").format(
                id=schedule_id, when=describe(when.spec, tz), prompt=clip(prompt, 200)
            )
            + "\n"
            + _("Next: {times}").format(times=format_times(times, tz) or _("never"))
        )

    async def _list(self, message: Incoming) -> str:
        schedules = await self._store.list_schedules(target=chat_target(message), kind=ScheduleKind.POST)
        if not schedules:
            return _("No scheduled posts here.") + " " + _(SCHEDULE_USAGE)
        lines = [_("Scheduled posts here:")]
        for s in schedules:
            state = "" if s.enabled else " " + _("[paused]")
            upcoming = format_times([s.next_fire_at], s.tz) if s.enabled and s.next_fire_at else "-"
            lines.append(
                f"#{s.id}{state} · {describe(s.spec, s.tz)} · "
                + _("next {when}").format(when=upcoming)
                + f" · {clip(s.prompt, 80)}"
            )
        return "\n".join(lines)

    async def _own(self, args: str, message: Incoming) -> ScheduleRecord:
        match = _ID.fullmatch(args.strip())
        if match is None:
            raise InvalidInput(
                f"bad schedule id {clip(args)!r}",
                user_message=_("Name the schedule, e.g. /schedule pause 3."),
            )
        schedule = await self._store.get(int(match[1]))
        here = chat_target(message)
        if schedule is None or (schedule.target.platform, schedule.target.chat_id) != (
            here.platform,
            here.chat_id,
        ):
            raise NotFound(
                f"schedule {match[1]}",
                user_message=_("There is no scheduled post #{id} in this chat.").format(id=match[1]),
            )
        return schedule
