"""``/birthday set|list|remove|preview|template`` (see ``bot.core.schedules.commands`` for who may do what).

A birthday is a row of its own (who, which day, which zone) plus a yearly ``birthday`` schedule that
posts the card, so cards share everything scheduled posts have: claims, catch-up, retries, pausing.
"""

from __future__ import annotations

from bot.core.errors import InvalidInput, NotFound
from bot.core.flags import clip
from bot.core.i18n import N_, _
from bot.core.messages import BirthdayCommand, Incoming
from bot.core.ports import Clock, HistoryStore
from bot.core.rights import require_admin
from bot.core.schedules.birthday_dates import day_and_month, parse_birth_date
from bot.core.schedules.common import SchedulePolicy, add_schedule, chat_target, format_times
from bot.core.schedules.ports import (
    BirthdayRecord,
    BirthdayStore,
    NewSchedule,
    ScheduleEvents,
    ScheduleKind,
    ScheduleStore,
    Triggers,
    TriggerSpec,
)
from bot.core.schedules.spec import check_timezone, looks_like_timezone

CARD_PROMPT_KEY = "birthday_prompt"
"""The chat setting holding the chat's card prompt (``/birthday template``)."""
BIRTHDAY_USAGE = N_(
    "Use /birthday set 14-03 [name] [time zone], /birthday list, /birthday remove [name], "
    "/birthday preview [name] (the card, now), or /birthday template <prompt> (reset for the default)."
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
            found = await self._named(args.strip(), message, "remove someone else's birthday")
            await self._store.remove(found.schedule_id)
            await self._events.removed(found.schedule_id, [])
            return _("Removed {name}'s birthday.").format(name=found.name)
        if action == "preview":
            found = await self._named(args.strip(), message, "preview someone else's card")
            run = await self._store.request_run(found.schedule_id, now=self._clock.now())
            self._events.run_now(run)  # a card now; the yearly one still comes on the day
            return _("Making {name}'s card now.").format(name=found.name)
        if action == "template":
            require_admin(message, "change the birthday card")
            return await self._template(args, message)
        raise InvalidInput(f"unknown /birthday {clip(action)}", user_message=_(BIRTHDAY_USAGE))

    async def _birthday_set(self, args: str, message: Incoming) -> str:
        now = self._clock.now()
        date, rest = parse_birth_date(args, today=now.date())
        words = rest.split()
        tz = self._policy.timezone
        if words and looks_like_timezone(words[-1]):
            tz = check_timezone(words.pop())
        name = clip(" ".join(words), 64) if words else message.display_name or _("friend")
        # Whose birthday it is comes from the sender's id: a name only names someone else's (admins).
        person: str | None = message.user_id
        replace_id = None
        if words and name.casefold() != message.display_name.casefold():
            require_admin(message, "set someone else's birthday")
            same_name = await self._birthdays.named(
                chat_platform=message.platform, chat_id=message.chat_id, name=name
            )
            person = same_name[0].person_user if same_name else None  # still the member's, if it was
            replace_id = same_name[0].id if same_name else None
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
        _row, replaced = await self._birthdays.set(
            chat_platform=message.platform,
            chat_id=message.chat_id,
            person_user=person,
            name=name,
            day=date.day,
            month=date.month,
            year=date.year,
            tz=tz,
            schedule_id=schedule_id,
            now=now,
            replace_id=replace_id,
        )
        for old_schedule in replaced:
            await self._events.removed(old_schedule, [])
        self._events.changed(schedule_id)
        return _("Saved: {name}, {date}. The card comes {when} ({tz}).").format(
            name=name,
            date=day_and_month(date.day, date.month, date.year),
            when=format_times(times[:1], tz),
            tz=tz,
        )

    async def _named(self, name: str, message: Incoming, doing: str) -> BirthdayRecord:
        """The birthday ``/birthday remove|preview [name]`` means: the sender's own (by id, whatever
        their name), or, for admins, anyone's by name (``doing`` says what a non-admin may not)."""
        where = {"chat_platform": message.platform, "chat_id": message.chat_id}
        if not name:
            own = await self._birthdays.own(**where, person_user=message.user_id)
            if own is None:
                raise NotFound("no own birthday", user_message=_("I have no birthday for you here."))
            return own
        same_name = await self._birthdays.named(**where, name=name)
        mine = [b for b in same_name if b.person_user == message.user_id]
        if mine:
            return mine[0]
        if not same_name:
            raise NotFound(
                f"birthday {clip(name)}",
                user_message=_("I have no birthday for {name} here.").format(name=clip(name)),
            )
        require_admin(message, doing)
        return same_name[0]

    async def _birthday_list(self, message: Incoming) -> str:
        found = await self._birthdays.for_chat(chat_platform=message.platform, chat_id=message.chat_id)
        if not found:
            return _("No birthdays here yet.") + " " + _(BIRTHDAY_USAGE)
        lines = [_("Birthdays here:")]
        for b in found:
            lines.append(f"{b.name}: {day_and_month(b.day, b.month, b.year)} ({b.tz})")
        return "\n".join(lines)

    async def _template(self, args: str, message: Incoming) -> str:
        chat_id = await self._history.upsert_chat(platform=message.platform, external_id=message.chat_id)
        settings = await self._history.get_chat_settings(chat_id=chat_id)
        text = args.strip()
        if not text or text.lower() == "reset":
            settings.pop(CARD_PROMPT_KEY, None)
            answer = _("Birthday cards here use the default festive picture again.")
        else:
            settings[CARD_PROMPT_KEY] = clip(text, 500)
            answer = _("Birthday cards here will be drawn from:") + " " + clip(text, 200)
        await self._history.set_chat_settings(chat_id=chat_id, settings=settings)
        return answer
