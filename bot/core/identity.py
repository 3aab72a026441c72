"""Who and where: platform users and chats → Easel's ids, and each chat's settings.

Ids never change once given, so they are remembered (three queries a message saved); a display name
that changed is written again. Chat settings are read through the same cache and written through
:meth:`Directory.set_settings`, which tells every replica (the bus's ``settings`` topic) to read them
again, so one replica never works from (or writes back) another's stale copy. The cache is bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.bus import SETTINGS, EventBus, LocalBus
from bot.core.messages import Incoming
from bot.core.ports import HistoryStore

CACHE_LIMIT = 100_000
MAX_NAME_CHARS = 128


def clean_name(name: str) -> str:
    """A display name fit to keep: printable characters only (no NUL, which PostgreSQL refuses, no
    bidi overrides that would garble a log), at most ``MAX_NAME_CHARS``."""
    if name.isprintable() and len(name) <= MAX_NAME_CHARS:
        return name
    return "".join(ch for ch in name if ch.isprintable())[:MAX_NAME_CHARS]


class Directory:
    def __init__(
        self, history: HistoryStore, *, bus: EventBus | None = None, limit: int = CACHE_LIMIT
    ) -> None:
        self._history = history
        self._bus = bus or LocalBus()
        self._limit = limit
        self._users: dict[tuple[str, str], tuple[int, str]] = {}
        self._chats: dict[tuple[str, str], int] = {}
        self._settings: dict[int, dict[str, Any]] = {}
        self._bus.subscribe(SETTINGS, self._heard_change)

    async def identify(self, message: Incoming) -> tuple[int, int, dict[str, Any]]:
        """The sender's and chat's ids and a copy of the chat's settings."""
        return await self.user_in_chat(
            message.platform, message.user_id, message.display_name, message.chat_id
        )

    async def user_in_chat(
        self, platform: str, user_external_id: str, display_name: str, chat_external_id: str
    ) -> tuple[int, int, dict[str, Any]]:
        """A user's and a chat's ids on one platform, and a copy of the chat's settings: one
        transaction for a user or chat not seen yet (or a new display name), none when all is known."""
        self._bound()
        name = clean_name(display_name)
        user = self._users.get((platform, user_external_id))
        chat_id = self._chats.get((platform, chat_external_id))
        if user is None or user[1] != name or chat_id is None:
            user_id, chat_id, settings = await self._history.upsert_identity(
                platform=platform,
                user_external_id=user_external_id,
                display_name=name,
                chat_external_id=chat_external_id,
            )
            self._users[(platform, user_external_id)] = (user_id, name)
            self._chats[(platform, chat_external_id)] = chat_id
            self._settings.setdefault(chat_id, settings)
            return user_id, chat_id, dict(self._settings[chat_id])
        return user[0], chat_id, await self.settings(chat_id)

    async def user(self, platform: str, external_id: str, display_name: str) -> int:
        self._bound()
        name = clean_name(display_name)
        known = self._users.get((platform, external_id))
        if known is not None and known[1] == name:
            return known[0]
        user_id = await self._history.upsert_user(
            platform=platform, external_id=external_id, display_name=name
        )
        self._users[(platform, external_id)] = (user_id, name)
        return user_id

    async def chat(self, platform: str, external_id: str) -> int:
        self._bound()
        chat_id = self._chats.get((platform, external_id))
        if chat_id is None:
            chat_id = await self._history.upsert_chat(platform=platform, external_id=external_id)
            self._chats[(platform, external_id)] = chat_id
        return chat_id

    async def settings(self, chat_id: int) -> dict[str, Any]:
        settings = self._settings.get(chat_id)
        if settings is None:
            settings = await self._history.get_chat_settings(chat_id=chat_id)
            self._settings[chat_id] = settings
        return dict(settings)

    async def set_settings(self, chat_id: int, settings: dict[str, Any]) -> None:
        await self._history.set_chat_settings(chat_id=chat_id, settings=settings)
        await self.settings_changed(chat_id)
        self._settings[chat_id] = dict(settings)

    def _heard_change(self, message: Mapping[str, Any]) -> None:
        self._settings.pop(int(message["chat_id"]), None)

    async def settings_changed(self, chat_id: int) -> None:
        """Every replica reads them again next time (they were written, e.g. by ``/birthday template``)."""
        await self._bus.publish(SETTINGS, {"chat_id": chat_id})

    def _bound(self) -> None:
        if len(self._users) > self._limit or len(self._chats) > self._limit:
            self._users.clear()
            self._chats.clear()
            self._settings.clear()
