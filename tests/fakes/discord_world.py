"""The state behind the fake Discord: snowflakes, users, guilds, channels, messages, interactions, files,
and the JSON shapes Discord sends (users, members, guilds, messages, interaction payloads)."""

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
EVERYONE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31)
"""View channel, send messages, embed links, attach files, read history, use application commands."""
ATTACH_FILES = 1 << 15
MANAGE_MESSAGES = 1 << 13
MANAGE_GUILD = 1 << 5
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


@dataclass
class Channel:
    id: int
    guild_id: int | None
    name: str = "general"
    denied: dict[str, Any] = field(default_factory=dict)
    """Error code (50013 Missing Permissions / 50001 Missing Access) → its REST answer for bot posts."""


@dataclass
class Guild:
    id: int
    name: str = "Easel test guild"
    filesize_limit: int = DEFAULT_FILESIZE_LIMIT
    channels: list[int] = field(default_factory=list)


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
        self.add_guild(GUILD, [CHANNEL])

    def snowflake(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._counter) & 0x3FFFFF)

    def add_guild(self, guild_id: int, channel_ids: list[int]) -> Guild:
        guild = Guild(guild_id, channels=list(channel_ids))
        self.guilds[guild_id] = guild
        for channel_id in channel_ids:
            self.channels[channel_id] = Channel(channel_id, guild_id, name=f"chan-{channel_id % 1000}")
        return guild

    # ------------------------------------------------------------------------------------ shapes

    def channel_json(self, channel_id: int) -> dict[str, Any]:
        channel = self.channels[channel_id]
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
                "authorizing_integration_owners": {},
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

    def interaction_base(
        self, kind: int, *, user_id: int, channel_id: int, permissions: int, filesize_limit: int | None
    ) -> tuple[Interaction, dict[str, Any]]:
        channel = self.channels[channel_id]
        guild = self.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        state = Interaction(
            id=self.snowflake(),
            token=f"aW50ZXJhY3Rpb246{self.snowflake()}:fake-interaction-token",
            type=kind,
            channel_id=channel_id,
            guild_id=channel.guild_id,
            user_id=user_id,
            created=time.monotonic(),
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
            "locale": "en-US",
            "app_permissions": str(EVERYONE_PERMISSIONS),
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(channel.guild_id or 0)},
            "context": 0 if guild else 1,
        }
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            payload["guild"] = {"id": str(guild.id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = self.member_json(user_id, permissions=permissions)
        else:
            payload["user"] = self.users[user_id]
        return state, payload


def _image_size(data: bytes) -> tuple[int, int] | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None
