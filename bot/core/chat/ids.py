"""``/id``: the numbers an operator needs to configure Easel for a chat — the sender's user id, the chat
(or Discord channel) id, a Telegram topic, the Discord server id — each with the settings it goes in.

Answered before routing (``ChatService.handle``): it asks nothing of the database or the queue.
"""

from __future__ import annotations

import re

from bot.core.i18n import _
from bot.core.messages import Incoming

__all__ = ["answer"]

_ID_COMMAND = re.compile(r"/id(?:@[A-Za-z0-9_]{1,64})?", re.IGNORECASE)


def answer(message: Incoming) -> str | None:
    """The answer to ``/id`` (``/id@AnyBot`` too), or None for any other message."""
    if message.intent is not None or not _ID_COMMAND.fullmatch(message.text.strip()):
        return None
    if message.platform == "telegram":
        return _telegram(message)
    if message.platform == "discord":
        return _discord(message)
    return _(
        "You are {user} (for limits.admins); this chat is {chat} (a schedule's --target {platform})."
    ).format(
        user=f"{message.platform}:{message.user_id}", chat=repr(message.chat_id), platform=message.platform
    )


def _telegram(message: Incoming) -> str:
    chat, _sep, topic = message.chat_id.partition("/")
    where = f"telegram:{chat}:{topic}" if topic else f"telegram:{chat}"
    lines = [
        _(
            "Your user id: {user} (telegram.allowed_users, telegram.admin_ids, limits.admins as {qualified})"
        ).format(user=message.user_id, qualified=f"telegram:{message.user_id}"),
        _("This chat: {chat} (telegram.allowed_chats)").format(chat=chat)
        + (", " + _("topic {topic}").format(topic=topic) if topic else ""),
        _("Schedules here: --target {where}").format(where=where),
    ]
    return "\n".join(lines)


def _discord(message: Incoming) -> str:
    lines = [
        _("Your user id: {user} (discord.allowed_users, limits.admins as {qualified})").format(
            user=message.user_id, qualified=f"discord:{message.user_id}"
        ),
        _("This channel: {channel} (discord.allowed_channels)").format(channel=message.chat_id),
    ]
    guild = message.extra.get("guild_id")
    if guild:
        lines.append(
            _("This server: {guild} (discord.allowed_guilds, discord.guild_ids)").format(guild=guild)
        )
    lines.append(_("Schedules here: --target {where}").format(where=f"discord:{message.chat_id}"))
    return "\n".join(lines)
