"""The ban list applied to a request as it is accepted: the text checked, a refusal logged for the
chat's admins (``/ban refused``) and raised for the caller to tell the user."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.core.content.bans import find_ban_in, has_bans, refusal
from bot.core.content.refusals import with_refusal
from bot.core.identity import Directory


def needs_screening(settings: Mapping[str, Any]) -> bool:
    return has_bans(settings)


async def screen(
    directory: Directory,
    *,
    chat_id: int,
    settings: Mapping[str, Any],
    text: str,
    what: str,
    who: str,
    now: datetime,
) -> None:
    """Nothing when ``text`` keeps to the chat's ban list and its server's; otherwise log the refusal
    in the chat's settings (read again just before writing, so a change made meanwhile is kept) and
    raise it."""
    hit = find_ban_in(settings, text)
    if hit is None:
        return
    current = await directory.settings(chat_id)
    logged = with_refusal(current, when=now, who=who, what=what, text=text, rule=hit.label)
    await directory.set_settings(chat_id, logged)
    raise refusal(hit, what)
