"""A chat's ban list: words (or phrases) and regular expressions, checked on prompts, edit instructions
and schedule prompts.

Entries are stored as strings in the chat's settings (``ban``): a word as written (normalized), a
regular expression as ``re:<pattern>``. Patterns are hostile input: at most ``MAX_PATTERN_CHARS``,
compiled with the ``regex`` package (the standard ``re`` has no time bound) and matched with a
``timeout``; a pattern that is slow on probe strings is refused when it is added, and a check that runs
out of time at a prompt refuses the prompt (fail closed) and names the rule, so an admin can fix it.
Words match whole words, case-insensitively, after Unicode normalization (NFKC, zero-width characters
removed), so "Fox" and its full-width form are "fox" but "foxglove" is not.

A server (Discord guild) may have a ban list of its own (``/ban guild ...``, kept as ``ban`` in the
server's settings row): it applies in every channel of the server in addition to the channel's own.
The settings that apply in a channel carry it as ``guild_ban`` (``bot.core.identity``); its rules
are numbered ``S1``, ``S2``, ... and checked first.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex

from bot.core.errors import InvalidInput
from bot.core.flags import clip
from bot.core.i18n import N_, _
from bot.core.identity import ADDED_BY_SERVER

BAN_KEY = "ban"
GUILD_BAN_KEY = ADDED_BY_SERVER[BAN_KEY]
"""The server's ban list, in the settings that apply in one of its channels."""
SERVER_MARK = "S"
"""``S2``: the server's second rule, as ``/ban list`` and the refusals name it."""
REGEX_PREFIX = "re:"
MAX_ENTRIES = 50
MAX_WORD_CHARS = 100
MAX_PATTERN_CHARS = 200
MATCH_BUDGET_S = 0.05
"""Time for checking one text against every pattern of a chat, in all."""
PROBE_BUDGET_S = 0.02
"""Time a new pattern may take on each probe string before it is refused as too slow."""
_PROBES = (
    "a" * 300 + "!",
    "ab" * 150 + "!",
    " ".join(["word"] * 60) + " !",
    "x" * 120 + "@" + "y" * 120 + ".",
    "1" * 300 + "a",
)
"""Inputs that make nested or overlapping repetitions backtrack (``(a+)+$``, ``(\\w+\\s?)*$``)."""
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_FLAGS = regex.IGNORECASE | regex.UNICODE | regex.VERSION0


def normalized(text: str) -> str:
    """What is compared: NFKC, no zero-width characters, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).casefold().split())


@dataclass(frozen=True, slots=True)
class BanHit:
    """Which rule (1-based, as ``/ban list`` numbers them) matched; ``timed_out``: it could not be
    checked in time, so the text was refused without knowing."""

    number: int
    entry: str
    timed_out: bool = False
    server: bool = False
    """A rule of the server's list (``/ban guild``), not the chat's."""

    @property
    def label(self) -> str:
        """``3`` for the chat's third rule, ``S3`` for the server's."""
        return f"{SERVER_MARK}{self.number}" if self.server else str(self.number)


def entries_of(settings: Mapping[str, Any], key: str = BAN_KEY) -> list[str]:
    """The chat's ban list (``key``: another list of the settings, e.g. ``GUILD_BAN_KEY``), as stored
    (anything that is not a list of strings counts as empty)."""
    raw = settings.get(key)
    if not isinstance(raw, list):
        return []
    return [item for item in raw if isinstance(item, str)]


def server_entries_of(settings: Mapping[str, Any]) -> list[str]:
    """The server's ban list, in the settings that apply in one of its channels (or none)."""
    return entries_of(settings, GUILD_BAN_KEY)


def has_bans(settings: Mapping[str, Any]) -> bool:
    """Whether anything is banned where ``settings`` apply (the chat's list or its server's)."""
    return bool(entries_of(settings) or server_entries_of(settings))


def parse_entry(raw: str) -> str:
    """The entry to store for ``/ban add <raw>``; ``InvalidInput`` saying why it cannot be."""
    text = raw.strip()
    if text[: len(REGEX_PREFIX)].lower() == REGEX_PREFIX:
        return REGEX_PREFIX + _checked_pattern(text[len(REGEX_PREFIX) :].strip())
    word = normalized(text)
    if not word:
        raise InvalidInput(
            "empty ban", user_message=_("Name a word, e.g. /ban add gore, or /ban add re:<pattern>.")
        )
    if len(word) > MAX_WORD_CHARS:
        raise InvalidInput(
            "ban word too long",
            user_message=_("A banned word or phrase has at most {most} characters.").format(
                most=MAX_WORD_CHARS
            ),
        )
    if not word.isprintable():
        raise InvalidInput("unprintable ban word", user_message=_("That word has characters I cannot show."))
    return word


def _checked_pattern(pattern: str) -> str:
    if not pattern:
        raise InvalidInput(
            "empty ban pattern", user_message=_("Give a pattern after re:, e.g. /ban add re:g[o0]re.")
        )
    if len(pattern) > MAX_PATTERN_CHARS:
        raise InvalidInput(
            f"ban pattern of {len(pattern)} chars",
            user_message=_("A pattern has at most {most} characters.").format(most=MAX_PATTERN_CHARS),
        )
    if not pattern.isprintable():
        raise InvalidInput(
            "unprintable ban pattern", user_message=_("That pattern has characters I cannot show.")
        )
    try:
        compiled = _compiled(pattern)
    except regex.error as exc:
        raise InvalidInput(
            f"bad ban pattern: {exc}",
            user_message=_("That is not a valid pattern: {reason}.").format(reason=clip(str(exc), 80)),
        ) from exc
    if compiled.search("") is not None:
        raise InvalidInput(
            "ban pattern matches empty text",
            user_message=_("That pattern matches an empty text, so it would ban everything."),
        )
    for probe in _PROBES:
        try:
            compiled.search(probe, timeout=PROBE_BUDGET_S)
        except TimeoutError as exc:
            raise InvalidInput(
                f"slow ban pattern {clip(pattern)!r}",
                user_message=_(
                    "That pattern takes too long to check (nested repetition such as (a+)+); "
                    "please write it more simply."
                ),
            ) from exc
    return pattern


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern, _FLAGS)


@lru_cache(maxsize=1024)
def _word(word: str) -> re.Pattern[str]:
    """A whole word or phrase: escaped, so matching it is linear."""
    return re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)")


def find_ban(
    entries: Sequence[str],
    text: str,
    *,
    budget_s: float = MATCH_BUDGET_S,
    server: Sequence[str] = (),
) -> BanHit | None:
    """The first rule ``text`` breaks, if any: the ``server``'s rules first, then ``entries``. Patterns
    share ``budget_s``; one that runs out of time (or a stored one that no longer compiles) is a hit
    with ``timed_out``: the text is refused."""
    if not entries and not server:
        return None
    plain = normalized(text)
    deadline = time.monotonic() + budget_s
    rules = [(n, e, True) for n, e in enumerate(server, 1)]
    rules += [(n, e, False) for n, e in enumerate(entries, 1)]
    for number, entry, of_server in rules:
        if not entry.startswith(REGEX_PREFIX):
            if _word(entry).search(plain):
                return BanHit(number, entry, server=of_server)
            continue
        left = deadline - time.monotonic()
        try:
            if left <= 0 or _compiled(entry[len(REGEX_PREFIX) :]).search(plain, timeout=left):
                return BanHit(number, entry, timed_out=left <= 0, server=of_server)
        except (TimeoutError, regex.error):
            return BanHit(number, entry, timed_out=True, server=of_server)
    return None


def find_ban_in(settings: Mapping[str, Any], text: str) -> BanHit | None:
    """The first rule of the server's list or the chat's (``settings``: those that apply in the chat)
    that ``text`` breaks."""
    return find_ban(entries_of(settings), text, server=server_entries_of(settings))


_BANNED = {
    "prompt": N_("This chat's admins do not allow that: your prompt has a banned word or phrase."),
    "schedule prompt": N_(
        "This chat's admins do not allow that: your schedule prompt has a banned word or phrase."
    ),
    "edit instruction": N_(
        "This chat's admins do not allow that: your edit instruction has a banned word or phrase."
    ),
}
"""The refusal for each ``what`` the callers check (a whole sentence each: languages inflect it)."""
_UNCHECKED = {
    "prompt": N_(
        "I could not check this prompt against this chat's ban list in time (rule {number}); "
        "an admin can simplify it (/ban list)."
    ),
    "schedule prompt": N_(
        "I could not check this schedule prompt against this chat's ban list in time (rule {number}); "
        "an admin can simplify it (/ban list)."
    ),
    "edit instruction": N_(
        "I could not check this edit instruction against this chat's ban list in time (rule {number}); "
        "an admin can simplify it (/ban list)."
    ),
}


def refusal(hit: BanHit, what: str) -> InvalidInput:
    """The error a banned ``what`` (prompt, edit instruction, schedule prompt) is refused with."""
    if hit.timed_out:
        unchecked = _UNCHECKED.get(what)
        return InvalidInput(
            f"ban rule {hit.label} timed out on a {what}",
            user_message=_(unchecked).format(number=hit.label)
            if unchecked
            else _(
                "I could not check this {what} against this chat's ban list in time (rule {number}); "
                "an admin can simplify it (/ban list)."
            ).format(what=what, number=hit.label),
        )
    banned = _BANNED.get(what)
    return InvalidInput(
        f"{what} matches ban rule {hit.label}",
        user_message=_(banned)
        if banned
        else _("This chat's admins do not allow that: your {what} has a banned word or phrase.").format(
            what=what
        ),
    )


def check_text(settings: Mapping[str, Any], text: str, what: str) -> None:
    """``InvalidInput`` (the refusal) when ``text`` breaks the chat's ban list or its server's."""
    hit = find_ban_in(settings, text)
    if hit is not None:
        raise refusal(hit, what)
