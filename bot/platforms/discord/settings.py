"""``discord:``: the Discord adapter's settings."""

from __future__ import annotations

import re

from pydantic import SecretStr, field_validator

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
