"""``/ban add <word> | add re:<regex> | list | remove <n> | refused``: the chat's ban list, for its
admins (in a private chat, its user); ``/ban guild add|list|remove``: the server's, for the server's
admins. The answer and, when the list changed, the settings to write.

A chat's ``/ban list`` shows its server's rules too (``S1``, ``S2``, ...: they apply here as well);
they are changed only with ``/ban guild``, never from a channel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.content.bans import (
    BAN_KEY,
    MAX_ENTRIES,
    REGEX_PREFIX,
    SERVER_MARK,
    entries_of,
    parse_entry,
    server_entries_of,
)
from bot.core.content.refusals import refused_lines
from bot.core.errors import InvalidInput
from bot.core.flags import clip
from bot.core.i18n import N_, _
from bot.core.types import GenerationRecord

BAN_USAGE = N_(
    "Use /ban add <word or phrase>, /ban add re:<pattern>, /ban list, /ban remove <n>, /ban refused."
)
GUILD_BAN_USAGE = N_(
    "Use /ban guild add <word or phrase>, /ban guild add re:<pattern>, /ban guild list, "
    "/ban guild remove <n>."
)
SERVER_RULE = N_("S{number} is a rule of the whole server: its admins change it with /ban guild remove.")
_REMOVE = ("remove", "delete", "rm")


def _shown(entry: str) -> str:
    pattern = entry[len(REGEX_PREFIX) :]
    return _("pattern {pattern}").format(pattern=pattern) if entry.startswith(REGEX_PREFIX) else entry


def ban_list_lines(entries: Sequence[str], server: Sequence[str] = ()) -> str:
    """The chat's rules (1, 2, ...) and, under them, its server's (S1, S2, ...)."""
    if not entries and not server:
        return _("Nothing is banned here.") + " " + _(BAN_USAGE)
    lines = []
    if entries:
        lines.append(_("Banned here (checked on prompts, edit instructions and scheduled posts):"))
        lines += [f"{number}. {_shown(entry)}" for number, entry in enumerate(entries, 1)]
    if server:
        lines.append(_("Banned in every channel of this server (changed with /ban guild):"))
        lines += [f"{SERVER_MARK}{number}. {_shown(entry)}" for number, entry in enumerate(server, 1)]
    return "\n".join(lines)


def _server_list_lines(entries: Sequence[str]) -> str:
    if not entries:
        return _("This server bans nothing in all of its channels.") + " " + _(GUILD_BAN_USAGE)
    lines = [_("Banned in every channel of this server (checked with each channel's own list):")]
    lines += [f"{SERVER_MARK}{number}. {_shown(entry)}" for number, entry in enumerate(entries, 1)]
    return "\n".join(lines)


def _number(args: str, entries: Sequence[str], *, server: bool, inherited: Sequence[str] = ()) -> int:
    """The rule ``/ban remove 2`` (``/ban guild remove S2``) names, checked against the list;
    ``inherited``: the server's rules, which a channel's ``/ban remove S1`` is told to leave alone."""
    text = args.strip().lstrip("#")
    marked = text[:1].upper() == SERVER_MARK and text[1:].isdigit()
    if marked and not server and _within(text[1:], len(inherited)):
        raise InvalidInput(
            f"channel remove of server rule {clip(text)}",
            user_message=_(SERVER_RULE).format(number=text[1:]),
        )
    digits = text[1:] if marked and server else text
    if not _within(digits, len(entries)):
        raise InvalidInput(
            f"bad ban number {clip(args)!r}",
            user_message=_("Name a rule by its number in /ban list (1 to {count}).").format(
                count=len(entries)
            )
            if entries
            else _("Nothing is banned here."),
        )
    return int(digits)


def _within(digits: str, count: int) -> bool:
    """Whether ``digits`` (ASCII only) is a rule number from 1 to ``count``."""
    return digits.isascii() and digits.isdigit() and len(digits) <= 6 and 1 <= int(digits) <= count


def ban_command(
    action: str,
    args: str,
    settings: Mapping[str, Any],
    failed: Sequence[GenerationRecord] = (),
    *,
    server: bool = False,
) -> tuple[str, dict[str, Any] | None]:
    """The answer to ``/ban <action> <args>`` and the new settings (None: unchanged). ``settings``:
    those that apply in the chat (with its server's list), or with ``server`` the server row's own.
    ``failed``: the chat's recent generations, for ``/ban refused``. Rights are the caller's to check."""
    action = action.lower() or "list"
    entries = entries_of(settings)
    inherited = [] if server else server_entries_of(settings)
    if action == "list":
        return (_server_list_lines(entries) if server else ban_list_lines(entries, inherited)), None
    if action == "refused" and not server:
        return refused_lines(settings, failed), None
    if action == "add":
        entry = parse_entry(args)
        if entry in inherited:
            number = inherited.index(entry) + 1
            return _("Already banned in the whole server (rule {number}).").format(
                number=f"{SERVER_MARK}{number}"
            ), None
        if entry in entries:
            number = entries.index(entry) + 1
            label = f"{SERVER_MARK}{number}" if server else str(number)
            return _("Already banned (rule {number}).").format(number=label), None
        if len(entries) >= MAX_ENTRIES:
            full = (
                _("This server's ban list is full ({most}); remove one first (/ban guild list).")
                if server
                else _("This chat's ban list is full ({most}); remove one first (/ban list).")
            )
            raise InvalidInput("ban list full", user_message=full.format(most=MAX_ENTRIES))
        label = f"{SERVER_MARK}{len(entries) + 1}" if server else str(len(entries) + 1)
        return _("Banned (rule {number}).").format(number=label), {**settings, BAN_KEY: [*entries, entry]}
    if action in _REMOVE:
        number = _number(args, entries, server=server, inherited=inherited)
        kept = [e for i, e in enumerate(entries, 1) if i != number]
        label = f"{SERVER_MARK}{number}" if server else str(number)
        return _("Removed rule {number}.").format(number=label), {**settings, BAN_KEY: kept}
    raise InvalidInput(
        f"unknown /ban {'guild ' if server else ''}{clip(action)}",
        user_message=_(GUILD_BAN_USAGE if server else BAN_USAGE),
    )
