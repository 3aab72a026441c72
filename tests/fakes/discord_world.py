"""The state behind the fake Discord: snowflakes, users, guilds, channels, messages, interactions, files,
and the JSON shapes Discord sends (users, members, guilds, messages, interaction payloads).

Installations (docs.discord.com, Receiving and Responding → Interaction Object; Application → Installation
Context): Easel is a member of the guilds made with ``add_guild`` (the guild install) unless
``bot_member=False`` (a server that did not add it); users in ``user_installs`` added it to their
account (the user install). DM channels with the bot (type 1), DMs between other users (type 1 without
the bot) and group DMs (type 3) exist too. An interaction's ``context`` is 0 in a guild, 1 in a DM with
the bot, 2 elsewhere; ``authorizing_integration_owners`` has key ``"0"`` (the guild id, or ``"0"`` in the
bot's DM) for a guild install the command supports and ``"1"`` (the user's id) for the user's install;
``app_permissions`` are the bot's in a guild it is in, the invoking member's where only the user install
applies ([unv] "respects the user's permissions"), and ATTACH_FILES | EMBED_LINKS | MENTION_EVERYONE in
DMs (+ USE_EXTERNAL_EMOJIS in the bot's DM), as the docs' footnote says.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GfAkEt.fake-discord-bot-token-abcdefghijklmnop"
APP_ID = 1000000000000000001
BOT_ID = APP_ID
BOT_NAME = "Easel"
GUILD = 1100000000000000001
CHANNEL = 1200000000000000001
USER = 1300000000000000001
OTHER_USER = 1300000000000000002
"""The guild's owner (every permission)."""
MEMBER = 1300000000000000003
"""A member with the default permissions only."""
DEFAULT_FILESIZE_LIMIT = 25 * 1024 * 1024
EVERYONE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31) | (1 << 50)
"""View channel, send messages, embed links, attach files, read history, use application commands, use
external apps."""
ATTACH_FILES = 1 << 15
MANAGE_MESSAGES = 1 << 13
MANAGE_GUILD = 1 << 5
EMBED_LINKS = 1 << 14
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
USE_EXTERNAL_APPS = 1 << 50
"""On for @everyone by default; without it a user-installed app's answers in a server that did not add
the app are ephemeral."""
DM_PERMISSIONS = ATTACH_FILES | EMBED_LINKS | MENTION_EVERYONE
GUILD_INSTALL, USER_INSTALL = 0, 1
GUILD_CONTEXT, BOT_DM, PRIVATE_CHANNEL = 0, 1, 2
LOADING = 1 << 7
EPHEMERAL = 1 << 6


def user_json(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "public_flags": 0,
    }
    if bot:
        data["bot"] = True
    return data


def iso(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).isoformat()


@dataclass
class StoredFile:
    data: bytes
    filename: str
    content_type: str


@dataclass
class Interaction:
    """One interaction the fake sent, and what the bot has done with it."""

    id: int
    token: str
    type: int
    channel_id: int
    guild_id: int | None
    user_id: int
    created: float
    """``time.monotonic()`` when it was sent: the 3 s deadline counts from here."""
    expired: bool = False
    """Past the 15-minute token lifetime (set by the test)."""
    response_type: int | None = None
    ephemeral: bool = False
    original_id: int | None = None
    modal: dict[str, Any] | None = None
    responded_at: float | None = None
    followups: list[int] = field(default_factory=list)
    message_id: int | None = None
    """For a button press: the message the button is on."""
    filesize_limit: int = DEFAULT_FILESIZE_LIMIT
    """Its ``attachment_size_limit``: the most bytes one message in answer to it may upload."""
    context: int = GUILD_CONTEXT
    owners: dict[str, str] = field(default_factory=lambda: {})
    """Its ``authorizing_integration_owners``."""
    forced_ephemeral: bool = False
    """Only the user install applies and the member lacks Use External Apps: every answer is ephemeral."""

    @property
    def user_install_only(self) -> bool:
        """Only the user install authorized it: at most 5 follow-ups."""
        return str(GUILD_INSTALL) not in self.owners


@dataclass
class Channel:
    id: int
    guild_id: int | None
    name: str = "general"
    denied: dict[str, Any] = field(default_factory=dict)
    """Error code (50013 Missing Permissions / 50001 Missing Access) → its REST answer for bot posts."""
    type: int = 0
    """0 a guild text channel, 1 a DM, 3 a group DM."""
    recipients: list[int] = field(default_factory=list)
    """A DM's or group DM's users other than the viewer (for a DM with the bot: the user)."""
    with_bot: bool = False
    """A DM with the bot itself."""


@dataclass
class Guild:
    id: int
    name: str = "Easel test guild"
    filesize_limit: int = DEFAULT_FILESIZE_LIMIT
    channels: list[int] = field(default_factory=list)
    bot_member: bool = True
    """Easel was added to it (the guild install); False: it is only reachable through a user install."""


class World:
    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.deleted: set[int] = set()
        self.interactions: dict[str, Interaction] = {}
        """By token."""
        self.files: dict[str, StoredFile] = {}
        """By attachment id."""
        self.users: dict[int, dict[str, Any]] = {
            BOT_ID: user_json(BOT_ID, BOT_NAME, bot=True),
            USER: user_json(USER, "ada"),
            OTHER_USER: user_json(OTHER_USER, "bob"),
            MEMBER: user_json(MEMBER, "cy"),
        }
        self.user_installs: set[int] = set()
        self.locales: dict[int, str] = {}
        """A user's client language (``locale`` of their interactions; Discord's default en-US)."""
        self.guild_locales: dict[int, str] = {}
        """A server's preferred locale (``guild_locale``; en-US unless set)."""
        """Users who added Easel to their account (the user install)."""
        self.add_guild(GUILD, [CHANNEL])

    def snowflake(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._counter) & 0x3FFFFF)

    def add_guild(self, guild_id: int, channel_ids: list[int], *, bot_member: bool = True) -> Guild:
        guild = Guild(guild_id, channels=list(channel_ids), bot_member=bot_member)
        self.guilds[guild_id] = guild
        for channel_id in channel_ids:
            self.channels[channel_id] = Channel(channel_id, guild_id, name=f"chan-{channel_id % 1000}")
        return guild

    def member_guilds(self) -> list[int]:
        """The guilds Easel is in (what the gateway's READY and GUILD_CREATEs carry)."""
        return [g for g, guild in self.guilds.items() if guild.bot_member]

    def dm_channel(self, user_id: int, *, other: int | None = None) -> int:
        """The DM channel between ``user_id`` and the bot (or ``other``, a DM Easel is not part of)."""
        for channel in self.channels.values():
            if (
                channel.type == 1
                and channel.recipients == [other or user_id]
                and channel.with_bot == (other is None)
            ):
                return channel.id
        channel_id = self.snowflake()
        self.channels[channel_id] = Channel(
            channel_id, None, name="", type=1, recipients=[other or user_id], with_bot=other is None
        )
        return channel_id

    def group_dm(self, user_ids: list[int]) -> int:
        channel_id = self.snowflake()
        self.channels[channel_id] = Channel(channel_id, None, name="friends", type=3, recipients=user_ids)
        return channel_id

    def bot_can_see(self, channel_id: int) -> bool:
        """Whether Easel's bot user may read and post there (REST channel calls): a guild it is in, or
        its own DMs; Discord answers 403 Missing Access elsewhere."""
        channel = self.channels[channel_id]
        if channel.guild_id is not None:
            return self.guilds[channel.guild_id].bot_member
        return channel.with_bot

    # ------------------------------------------------------------------------------------ shapes

    def channel_json(self, channel_id: int) -> dict[str, Any]:
        channel = self.channels[channel_id]
        if channel.type in (1, 3):
            data: dict[str, Any] = {
                "id": str(channel_id),
                "type": channel.type,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.users[u] for u in channel.recipients],
            }
            if channel.type == 3:
                data |= {"name": channel.name, "icon": None, "owner_id": str(channel.recipients[0])}
            return data
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(channel.guild_id),
            "name": channel.name,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }

    def member_json(self, user_id: int, *, permissions: int = EVERYONE_PERMISSIONS) -> dict[str, Any]:
        return {
            "user": self.users[user_id],
            "roles": [],
            "joined_at": iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
            "permissions": str(permissions),
        }

    def guild_create(self, guild_id: int) -> dict[str, Any]:
        guild = self.guilds[guild_id]
        everyone = {
            "id": str(guild_id), "name": "@everyone", "permissions": str(EVERYONE_PERMISSIONS),
            "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0,
        }  # fmt: skip
        return {
            "id": str(guild_id),
            "name": guild.name,
            "icon": None,
            "owner_id": str(OTHER_USER),
            "roles": [everyone],
            "emojis": [],
            "stickers": [],
            "features": [],
            "channels": [self.channel_json(c) for c in guild.channels],
            "threads": [],
            "members": [self.member_json(BOT_ID)],
            "member_count": 3,
            "voice_states": [],
            "presences": [],
            "large": False,
            "unavailable": False,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "joined_at": iso(),
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "system_channel_flags": 0,
        }

    def message(
        self,
        channel_id: int,
        author_id: int,
        *,
        content: str = "",
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        flags: int = 0,
        interaction: Interaction | None = None,
        reference: int | None = None,
        mentions: list[int] | None = None,
        webhook: bool = False,
    ) -> dict[str, Any]:
        """Create and store a message as Discord would return it."""
        channel = self.channels[channel_id]
        message_id = self.snowflake()
        data: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": self.users[author_id],
            "content": content,
            "timestamp": iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [self.users[m] for m in mentions or []],
            "mention_roles": [],
            "attachments": attachments or [],
            "embeds": embeds or [],
            "components": components or [],
            "pinned": False,
            "type": 0,
            "flags": flags,
        }
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        if webhook:
            data["webhook_id"] = str(APP_ID)
            data["application_id"] = str(APP_ID)
        if interaction is not None:
            data["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self.users[interaction.user_id],
                "authorizing_integration_owners": dict(interaction.owners),
            }
        if reference is not None:
            data["type"] = 19
            data["message_reference"] = {"message_id": str(reference), "channel_id": str(channel_id)}
            if channel.guild_id is not None:
                data["message_reference"]["guild_id"] = str(channel.guild_id)
            data["referenced_message"] = self.messages.get(reference)
        self.messages[message_id] = data
        return data

    def attachment(self, data: bytes, filename: str, content_type: str, origin: str) -> dict[str, Any]:
        attachment_id = self.snowflake()
        self.files[str(attachment_id)] = StoredFile(data, filename, content_type)
        url = f"{origin}/attachments/{attachment_id}/{filename}"
        out: dict[str, Any] = {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }
        size = _image_size(data)
        if size is not None:
            out["width"], out["height"] = size
        return out

    def context_of(self, channel_id: int) -> int:
        channel = self.channels[channel_id]
        if channel.guild_id is not None:
            return GUILD_CONTEXT
        return BOT_DM if channel.with_bot else PRIVATE_CHANNEL

    def owners_for(
        self, user_id: int, channel_id: int, integration_types: list[int] | None = None
    ) -> dict[str, str]:
        """``authorizing_integration_owners`` for ``user_id`` in the channel, for a command supporting
        ``integration_types`` (None: a component or modal, which inherits its command's: both)."""
        channel = self.channels[channel_id]
        supported = set(integration_types if integration_types is not None else (0, 1))
        owners: dict[str, str] = {}
        context = self.context_of(channel_id)
        if GUILD_INSTALL in supported:
            if context == GUILD_CONTEXT and channel.guild_id is not None:
                if self.guilds[channel.guild_id].bot_member:
                    owners["0"] = str(channel.guild_id)
            elif context == BOT_DM:
                owners["0"] = "0"
        if USER_INSTALL in supported and user_id in self.user_installs:
            owners["1"] = str(user_id)
        return owners

    def interaction_base(
        self,
        kind: int,
        *,
        user_id: int,
        channel_id: int,
        permissions: int,
        filesize_limit: int | None,
        owners: dict[str, str] | None = None,
    ) -> tuple[Interaction, dict[str, Any]]:
        channel = self.channels[channel_id]
        guild = self.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        context = self.context_of(channel_id)
        owners = self.owners_for(user_id, channel_id) if owners is None else owners
        assert owners, f"Easel is not installed where user {user_id} is (channel {channel_id})"
        state = Interaction(
            id=self.snowflake(),
            token=f"aW50ZXJhY3Rpb246{self.snowflake()}:fake-interaction-token",
            type=kind,
            channel_id=channel_id,
            guild_id=channel.guild_id,
            user_id=user_id,
            created=time.monotonic(),
            context=context,
            owners=owners,
        )
        self.interactions[state.token] = state
        limit = filesize_limit or (guild.filesize_limit if guild else DEFAULT_FILESIZE_LIMIT)
        state.filesize_limit = limit
        payload: dict[str, Any] = {
            "id": str(state.id),
            "application_id": str(APP_ID),
            "type": kind,
            "token": state.token,
            "version": 1,
            "attachment_size_limit": limit,
            "channel_id": str(channel_id),
            "channel": self.channel_json(channel_id),
            "locale": self.locales.get(user_id, "en-US"),
            "app_permissions": str(EVERYONE_PERMISSIONS),
            "entitlements": [],
            "authorizing_integration_owners": owners,
            "context": context,
        }
        if context == BOT_DM:
            payload["app_permissions"] = str(DM_PERMISSIONS | USE_EXTERNAL_EMOJIS)
        elif context == PRIVATE_CHANNEL:
            payload["app_permissions"] = str(DM_PERMISSIONS)
        elif guild is not None and not guild.bot_member:
            payload["app_permissions"] = str(permissions)  # [unv] the user's own, as the docs imply
            state.forced_ephemeral = not permissions & USE_EXTERNAL_APPS
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            guild_locale = self.guild_locales.get(guild.id, "en-US")
            payload["guild"] = {"id": str(guild.id), "locale": guild_locale, "features": []}
            payload["guild_locale"] = guild_locale
            payload["member"] = self.member_json(user_id, permissions=permissions)
        else:
            payload["user"] = self.users[user_id]
        return state, payload


def _image_size(data: bytes) -> tuple[int, int] | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None
