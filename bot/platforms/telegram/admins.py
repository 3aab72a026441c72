"""Who administers a Telegram chat, for ``Incoming.is_admin`` on every update (the core decides what
an admin may do; this only answers the question).

One ``getChatAdministrators`` per group and per ``ttl_s`` (not a ``getChatMember`` per message): a busy
group costs one Bot API call a minute, a private chat none (its user is its admin). The cache is
bounded. When Telegram cannot be asked, nobody is an admin (fail closed), except ``telegram.admin_ids``.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Collection

from telegram import Bot
from telegram.error import TelegramError

log = logging.getLogger(__name__)
ADMIN_TTL_S = 60.0
MAX_CHATS = 10_000
_ADMIN_STATUSES = frozenset({"administrator", "creator"})


class AdminDirectory:
    def __init__(
        self,
        bot: Bot,
        *,
        operators: Collection[int] = (),
        ttl_s: float = ADMIN_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._operators = frozenset(operators)
        self._ttl_s = ttl_s
        self._clock = clock
        self._chats: OrderedDict[int, tuple[float, frozenset[int]]] = OrderedDict()

    async def is_admin(self, chat_id: int, user_id: int, *, private: bool) -> bool:
        """Whether the user administers the chat: always in their private chat, by Telegram's list in
        groups (cached), and everywhere for the configured operators."""
        if private or user_id in self._operators:
            return True
        return user_id in await self._admins(chat_id)

    async def _admins(self, chat_id: int) -> frozenset[int]:
        now = self._clock()
        cached = self._chats.get(chat_id)
        if cached is not None and now - cached[0] < self._ttl_s:
            self._chats.move_to_end(chat_id)
            return cached[1]
        try:
            members = await self._bot.get_chat_administrators(chat_id)
        except TelegramError as exc:
            log.info("getChatAdministrators failed for %s: %s", chat_id, exc)
            return frozenset()
        admins = frozenset(m.user.id for m in members if m.status in _ADMIN_STATUSES)
        self._chats[chat_id] = (now, admins)
        self._chats.move_to_end(chat_id)
        while len(self._chats) > MAX_CHATS:
            self._chats.popitem(last=False)
        return admins
