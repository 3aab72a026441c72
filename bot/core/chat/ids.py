"""``/id``: the numbers an operator needs to configure Easel for a chat — the sender's user id, the chat
(or Discord channel) id, a Telegram topic, the Discord server id — each with the settings it goes in.

Answered before routing (``ChatService.handle``): it asks nothing of the database or the queue.
"""

from __future__ import annotations

import re

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
    return (
        f"You are {message.platform}:{message.user_id} (for limits.admins); this chat is "
        f"{message.chat_id!r} (a schedule's --target {message.platform})."
    )


def _telegram(message: Incoming) -> str:
    chat, _, topic = message.chat_id.partition("/")
    where = f"telegram:{chat}:{topic}" if topic else f"telegram:{chat}"
    lines = [
        f"Your user id: {message.user_id} (telegram.allowed_users, telegram.admin_ids, "
        f"limits.admins as telegram:{message.user_id})",
        f"This chat: {chat} (telegram.allowed_chats)" + (f", topic {topic}" if topic else ""),
        f"Schedules here: --target {where}",
    ]
    return "\n".join(lines)


def _discord(message: Incoming) -> str:
    lines = [
        f"Your user id: {message.user_id} (discord.allowed_users, limits.admins as "
        f"discord:{message.user_id})",
        f"This channel: {message.chat_id} (discord.allowed_channels)",
    ]
    guild = message.extra.get("guild_id")
    if guild:
        lines.append(f"This server: {guild} (discord.allowed_guilds, discord.guild_ids)")
    lines.append(f"Schedules here: --target discord:{message.chat_id}")
    return "\n".join(lines)
