"""Who and where: platform users and chats → Easel's ids, and each chat's settings.

Ids never change once given, so they are remembered (three queries a message saved); a display name
that changed is written again. Chat settings are read through the same cache and written through
:meth:`Directory.set_settings`, which tells every replica (the bus's ``settings`` topic) to read them
again, so one replica never works from (or writes back) another's stale copy. The cache is bounded.

Chats may belong to a server (a Discord guild: ``Incoming.guild_id``). A server's defaults are kept
as a chats row of their own, external id ``guild:<id>`` on the same platform (no table of their own);
a chat learns its server once (:meth:`Directory.place`, kept in its row under the reserved key
``guild``: the server row's id). :meth:`Directory.settings` is what applies in a chat: the server's
defaults overlaid by the chat's own settings. :meth:`Directory.set_settings` keeps as the chat's own
only what differs from the server's, so a caller may read the effective settings, change one key
and write them back without copying the server's defaults into the chat.

A few server settings add to a channel's own instead of being its defaults (:data:`ADDED_BY_SERVER`):
the server's ban list is checked in every channel together with the channel's own list. In the
settings that apply in a chat it comes under its own name (``guild_ban``), never as the chat's
``ban``; it is never stored as a chat's own, so writing a channel's settings back neither copies nor
drops the server's rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.bus import SETTINGS, EventBus, LocalBus
from bot.core.messages import Incoming
from bot.core.ports import HistoryStore

CACHE_LIMIT = 100_000
MAX_NAME_CHARS = 128
GUILD_LINK = "guild"
"""Reserved key in a chat's stored settings: the Easel id of its server's settings row."""
ADDED_BY_SERVER = {"ban": "guild_ban"}
"""Server keys that are no default for the chat's own key of that name: the server's value applies in
each of its chats under the second name (``bot.core.content.bans``: ``BAN_KEY``, ``GUILD_BAN_KEY``)."""


def guild_external_id(guild_id: str) -> str:
    """The external id of a server's settings row (a chats row next to its channels')."""
    return f"guild:{guild_id}"


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
        """The sender's and chat's ids and a copy of the chat's settings (its server's under its own:
        the chat learns its server here)."""
        user_id, chat_id, settings = await self.user_in_chat(
            message.platform, message.user_id, message.display_name, message.chat_id
        )
        if message.guild_id is None:
            return user_id, chat_id, settings
        await self.place(message)
        return user_id, chat_id, await self.settings(chat_id)

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
        return self._users[(platform, user_external_id)][0], chat_id, await self.settings(chat_id)

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

    async def guild(self, platform: str, guild_id: str) -> int:
        """The Easel id of a server's settings row (made when first asked for)."""
        return await self.chat(platform, guild_external_id(guild_id))

    async def place(self, message: Incoming) -> None:
        """Remember the server ``message``'s chat belongs to (written once, in the chat's row), so its
        defaults apply there from now on, for every replica and for scheduled posts too."""
        if message.guild_id is None:
            return
        chat_id = await self.chat(message.platform, message.chat_id)
        guild_id = await self.guild(message.platform, message.guild_id)
        stored = await self._stored(chat_id)
        if stored.get(GUILD_LINK) == guild_id or chat_id == guild_id:
            return
        stored[GUILD_LINK] = guild_id
        await self._write(chat_id, stored)

    async def settings(self, chat_id: int) -> dict[str, Any]:
        """What applies in the chat: its server's defaults (if it has a server) under its own."""
        stored = await self._stored(chat_id)
        own = _own(stored)
        link = stored.get(GUILD_LINK)
        if not isinstance(link, int) or link == chat_id:
            return own
        server = _without_link(await self._stored(link))
        added = {ADDED_BY_SERVER[k]: server.pop(k) for k in list(server) if k in ADDED_BY_SERVER}
        return server | own | added

    async def own_settings(self, chat_id: int) -> dict[str, Any]:
        """The chat's (or server row's) own settings, without its server's defaults."""
        return _without_link(await self._stored(chat_id))

    async def set_settings(self, chat_id: int, settings: dict[str, Any]) -> None:
        """Store ``settings`` as the chat's own: a value equal to its server's default is left to
        the server (it follows the server's later changes); the chat's link to its server stays."""
        stored = await self._stored(chat_id)
        values = _own(settings)
        link = stored.get(GUILD_LINK)
        if isinstance(link, int) and link != chat_id:
            server = _without_link(await self._stored(link))
            inherited = {k: v for k, v in server.items() if k not in ADDED_BY_SERVER}
            values = {k: v for k, v in values.items() if k not in inherited or inherited[k] != v}
            values[GUILD_LINK] = link
        await self._write(chat_id, values)

    async def _stored(self, chat_id: int) -> dict[str, Any]:
        settings = self._settings.get(chat_id)
        if settings is None:
            settings = await self._history.get_chat_settings(chat_id=chat_id)
            self._settings[chat_id] = settings
        return dict(settings)

    async def _write(self, chat_id: int, settings: dict[str, Any]) -> None:
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


def _without_link(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if k != GUILD_LINK}


_FROM_SERVER = frozenset(ADDED_BY_SERVER.values())


def _own(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A chat's own settings: without its link, and without what only its server can give."""
    return {k: v for k, v in settings.items() if k != GUILD_LINK and k not in _FROM_SERVER}
