"""``discord:``: the Discord adapter's settings."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.sections import SettingsSection


class DiscordSettings(SettingsSection):
    """The Discord adapter; it runs (``easel run``) when ``token`` is set."""

    token: SecretStr | None = None
    """The bot token from the Discord developer portal (Bot → Reset Token)."""
    api_base_url: str = "https://discord.com/api/v10"
    """The REST API root: a REST proxy's (large bots), or a test fake's."""
    gateway_url: str = "wss://gateway.discord.gg/"
    """The gateway (WebSocket) URL: a gateway proxy's, or a test fake's."""
    guild_ids: list[int] = []
    """Guilds whose slash commands are synced instantly at start; empty = global commands (can take
    up to an hour to appear)."""
    allowed_guilds: list[int] = []
    """Guild (server) ids the bot works in; empty = all."""
    allowed_users: list[int] = []
    """User ids allowed to use the bot; empty = everyone."""
    allowed_channels: list[int] = []
    """Channel ids the bot works in; empty = all."""
    shard_count: int | None = Field(default=None, ge=1)
    """Sharding (required above 2,500 servers, or to spread the gateway over several replicas): the
    total number of shards across every gateway replica. Unset: one unsharded connection."""
    shard_ids: list[int] = []
    """The shards this replica runs (each in 0..shard_count-1; a server belongs to shard
    ``(server_id >> 22) % shard_count``); empty = all of them. Needs ``shard_count``."""

    @field_validator("token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: Any) -> Any:
        """An empty token (``${DISCORD_BOT_TOKEN:-}`` left unset) means Discord is not configured."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _shards(self) -> DiscordSettings:
        if not self.shard_ids:
            return self
        if self.shard_count is None:
            raise ValueError("shard_ids needs shard_count (the total number of shards of the bot)")
        outside = sorted({i for i in self.shard_ids if not 0 <= i < self.shard_count})
        if outside:
            raise ValueError(
                f"shard_ids {outside} are not shards of a bot with shard_count "
                f"{self.shard_count} (0..{self.shard_count - 1})"
            )
        if len(set(self.shard_ids)) != len(self.shard_ids):
            raise ValueError("shard_ids lists a shard twice")
        return self

    @field_validator("api_base_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://\S+$", value):
            raise ValueError("must be an http(s):// URL such as https://discord.com/api/v10")
        return value.rstrip("/")

    @field_validator("gateway_url")
    @classmethod
    def _gateway_url(cls, value: str) -> str:
        if not re.match(r"^wss?://\S+$", value):
            raise ValueError("must be a ws(s):// URL such as wss://gateway.discord.gg/")
        return value
