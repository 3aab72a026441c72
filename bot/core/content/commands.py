"""``/ban add <word> | add re:<regex> | list | remove <n> | refused``: the chat's ban list, for its
admins (in a private chat, its user). The answer and, when the list changed, the settings to write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.content.bans import BAN_KEY, MAX_ENTRIES, REGEX_PREFIX, entries_of, parse_entry
from bot.core.content.refusals import refused_lines
from bot.core.errors import InvalidInput
from bot.core.flags import clip
from bot.core.i18n import N_, _
from bot.core.types import GenerationRecord

BAN_USAGE = N_(
    "Use /ban add <word or phrase>, /ban add re:<pattern>, /ban list, /ban remove <n>, /ban refused."
)


def split(value: str | None) -> tuple[str, str]:
    """ "add re:g[o0]re" → ("add", "re:g[o0]re"); nothing → ("list", "")."""
    action, _sep, rest = (value or "").strip().partition(" ")
    return action.lower() or "list", rest.strip()


def ban_list_lines(entries: Sequence[str]) -> str:
    if not entries:
        return _("Nothing is banned here.") + " " + _(BAN_USAGE)
    lines = [_("Banned here (checked on prompts, edit instructions and scheduled posts):")]
    for number, entry in enumerate(entries, 1):
        pattern = entry[len(REGEX_PREFIX) :]
        shown = _("pattern {pattern}").format(pattern=pattern) if entry.startswith(REGEX_PREFIX) else entry
        lines.append(f"{number}. {shown}")
    return "\n".join(lines)


def ban_command(
    value: str | None, settings: Mapping[str, Any], failed: Sequence[GenerationRecord] = ()
) -> tuple[str, dict[str, Any] | None]:
    """The answer to ``/ban <value>`` and the chat's new settings (None: unchanged). ``failed``: the
    chat's recent generations, for ``/ban refused``. Rights are the caller's to check."""
    action, args = split(value)
    entries = entries_of(settings)
    if action == "list":
        return ban_list_lines(entries), None
    if action == "refused":
        return refused_lines(settings, failed), None
    if action == "add":
        entry = parse_entry(args)
        if entry in entries:
            return _("Already banned (rule {number}).").format(number=entries.index(entry) + 1), None
        if len(entries) >= MAX_ENTRIES:
            raise InvalidInput(
                "ban list full",
                user_message=_("This chat's ban list is full ({most}); remove one first (/ban list).").format(
                    most=MAX_ENTRIES
                ),
            )
        return _("Banned (rule {number}).").format(number=len(entries) + 1), {
            **settings,
            BAN_KEY: [*entries, entry],
        }
    if action in ("remove", "delete", "rm"):
        number = args.lstrip("#")
        if not (number.isascii() and number.isdigit() and 1 <= int(number) <= len(entries)):
            raise InvalidInput(
                f"bad ban number {clip(args)!r}",
                user_message=_("Name a rule by its number in /ban list (1 to {count}).").format(
                    count=len(entries)
                )
                if entries
                else _("Nothing is banned here."),
            )
        kept = [e for i, e in enumerate(entries, 1) if i != int(number)]
        return _("Removed rule {number}.").format(number=number), {**settings, BAN_KEY: kept}
    raise InvalidInput(f"unknown /ban {clip(action)}", user_message=_(BAN_USAGE))
