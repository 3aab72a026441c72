"""``/birthday set|list|remove|template`` (see ``bot.core.schedule_commands`` for who may do what).

A birthday is a row of its own (who, which day, which zone) plus a yearly ``birthday`` schedule that
posts the card, so cards share everything scheduled posts have: claims, catch-up, retries, pausing.
"""

from __future__ import annotations

import calendar

from bot.core.birthday_dates import parse_birth_date
from bot.core.errors import InvalidInput, NotFound
from bot.core.flags import clip
from bot.core.ports import Clock, HistoryStore
from bot.core.schedule_common import (
    ADMINS_ONLY,
    SchedulePolicy,
    add_schedule,
    chat_target,
    format_times,
    may_manage,
)
from bot.core.schedule_ports import (
    BirthdayStore,
    NewSchedule,
    ScheduleEvents,
    ScheduleKind,
    ScheduleStore,
    Triggers,
    TriggerSpec,
)
from bot.core.schedule_spec import check_timezone, looks_like_timezone
from bot.core.types import BirthdayCommand, Incoming

CARD_PROMPT_KEY = "birthday_prompt"
"""The chat setting holding the chat's card prompt (``/birthday template``)."""
BIRTHDAY_USAGE = (
    "Use /birthday set 14-03 [name] [time zone], /birthday list, /birthday remove [name], "
    "or /birthday template <prompt> (reset for the default)."
)


class BirthdayCommands:
    def __init__(
        self,
        *,
        store: ScheduleStore,
        birthdays: BirthdayStore,
        history: HistoryStore,
        triggers: Triggers,
        clock: Clock,
        events: ScheduleEvents,
        policy: SchedulePolicy,
    ) -> None:
        self._store = store
        self._birthdays = birthdays
        self._history = history
        self._triggers = triggers
        self._clock = clock
        self._events = events
        self._policy = policy

    async def handle(self, intent: BirthdayCommand, message: Incoming) -> str:
        action, args = intent.action, intent.args
        if action == "list":
            return await self._birthday_list(message)
        if action in ("set", "add"):
            return await self._birthday_set(args, message)
        if action in ("remove", "delete"):
            name = args.strip() or message.display_name
            found = await self._birthdays.find(
                chat_platform=message.platform, chat_id=message.chat_id, name=name
            )
            if found is None:
                raise NotFound(
                    f"birthday {clip(name)}", user_message=f"I have no birthday for {clip(name)} here."
                )
            if found.person_user != message.user_id and not may_manage(message):
                raise InvalidInput(
                    "not an admin", user_message=ADMINS_ONLY.format(what="remove someone else's birthday")
                )
            await self._store.remove(found.schedule_id)
            await self._events.removed(found.schedule_id, [])
            return f"Removed {found.name}'s birthday."
        if action == "template":
            if not may_manage(message):
                raise InvalidInput(
                    "not an admin", user_message=ADMINS_ONLY.format(what="change the birthday card")
                )
            return await self._template(args, message)
        raise InvalidInput(f"unknown /birthday {clip(action)}", user_message=BIRTHDAY_USAGE)

    async def _birthday_set(self, args: str, message: Incoming) -> str:
        now = self._clock.now()
        date, rest = parse_birth_date(args, today=now.date())
        words = rest.split()
        tz = self._policy.timezone
        if words and looks_like_timezone(words[-1]):
            tz = check_timezone(words.pop())
        name = clip(" ".join(words), 64) if words else message.display_name or "friend"
        own = not words or name.casefold() == message.display_name.casefold()
        if not own and not may_manage(message):
            raise InvalidInput(
                "not an admin", user_message=ADMINS_ONLY.format(what="set someone else's birthday")
            )
        spec = TriggerSpec("birthday", day=date.day, month=date.month, hour=self._policy.birthday_hour)
        new = NewSchedule(
            target=chat_target(message),
            when=f"birthday {date.day:02d}-{date.month:02d}",
            spec=spec,
            tz=tz,
            prompt="",
            owner_platform=message.platform,
            owner_user=message.user_id,
            owner_name=message.display_name,
            kind=ScheduleKind.BIRTHDAY,
        )
        schedule_id, times = await add_schedule(self._store, self._triggers, new, now=now)
        _, replaced = await self._birthdays.set(
            chat_platform=message.platform,
            chat_id=message.chat_id,
            person_user=message.user_id if own else None,
            name=name,
            day=date.day,
            month=date.month,
            year=date.year,
            tz=tz,
            schedule_id=schedule_id,
            now=now,
        )
        if replaced is not None:
            await self._events.removed(replaced, [])
        self._events.changed(schedule_id)
        year = f" {date.year}" if date.year else ""
        return (
            f"Saved: {name}, {date.day} {calendar.month_name[date.month]}{year}. "
            f"The card comes {format_times(times[:1], tz)} ({tz})."
        )

    async def _birthday_list(self, message: Incoming) -> str:
        found = await self._birthdays.for_chat(chat_platform=message.platform, chat_id=message.chat_id)
        if not found:
            return "No birthdays here yet. " + BIRTHDAY_USAGE
        lines = ["Birthdays here:"]
        for b in found:
            year = f" {b.year}" if b.year else ""
            lines.append(f"{b.name}: {b.day} {calendar.month_name[b.month]}{year} ({b.tz})")
        return "\n".join(lines)

    async def _template(self, args: str, message: Incoming) -> str:
        chat_id = await self._history.upsert_chat(platform=message.platform, external_id=message.chat_id)
        settings = await self._history.get_chat_settings(chat_id=chat_id)
        text = args.strip()
        if not text or text.lower() == "reset":
            settings.pop(CARD_PROMPT_KEY, None)
            answer = "Birthday cards here use the default festive picture again."
        else:
            settings[CARD_PROMPT_KEY] = clip(text, 500)
            answer = "Birthday cards here will be drawn from: " + clip(text, 200)
        await self._history.set_chat_settings(chat_id=chat_id, settings=settings)
        return answer
