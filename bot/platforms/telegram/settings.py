"""``telegram:``: the Telegram adapter's settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from bot.sections import SettingsSection


class TelegramSettings(SettingsSection):
    """The Telegram adapter; it runs (``easel run``) when ``token`` is set."""

    token: SecretStr | None = None
    """The bot token from @BotFather."""
    base_url: str = "https://api.telegram.org/bot"
    """The Bot API's ``/bot`` URL (the token is appended): a self-hosted server's, or a test fake's."""
    base_file_url: str = "https://api.telegram.org/file/bot"
    """Where files are downloaded from (the token and the file path are appended)."""
    mode: Literal["polling", "webhook"] = "polling"
    """``polling`` asks Telegram for updates; ``webhook`` has Telegram post them to ``webhook_url``."""
    webhook_url: str | None = None
    """Webhook mode: the public HTTPS URL Telegram posts to; its path is the path served locally."""
    listen: str = "0.0.0.0"
    """Webhook mode: the address the webhook server binds."""
    port: int = Field(default=8443, ge=1, le=65535)
    """Webhook mode: the port the webhook server binds."""
    secret_token: SecretStr | None = None
    """Webhook mode (required): Telegram sends it with every update; requests without it get 403."""
    allowed_users: list[int] = []
    """Telegram user ids allowed to use the bot; empty = everyone."""
    allowed_chats: list[int] = []
    """Chat ids (groups are negative) the bot works in; empty = all."""
    admin_ids: list[int] = []
    """User ids that may change any chat's settings and delete any image (besides chat administrators)."""
    status_delay_s: float = Field(default=1.0, ge=0, le=60)
    """A job's status message ("Queued (#2)", "Generating… 40%") appears only if the job is still
    going after this many seconds (0 = at once): quick images come without the extra messages."""

    @model_validator(mode="after")
    def _webhook_complete(self) -> TelegramSettings:
        if self.mode == "webhook" and (not self.webhook_url or self.secret_token is None):
            raise ValueError("webhook mode needs webhook_url and secret_token")
        return self
