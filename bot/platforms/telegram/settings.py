"""``telegram:``: the Telegram adapter's settings."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.sections import SettingsSection

SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
"""The Bot API's rule for ``setWebhook``'s ``secret_token``."""


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
    """Webhook mode (required): Telegram sends it with every update; requests without it get 403.
    1-256 characters of ``A-Z a-z 0-9 _ -`` (the Bot API's rule), e.g. ``openssl rand -hex 32``."""
    webhook_answer_timeout_s: float = Field(default=10.0, gt=0, le=60)
    """Webhook mode: an update is answered 200 only once it is handled (its job is in the database);
    one that takes longer is answered 503 so Telegram sends it again (possibly to another replica:
    the retry makes no second job). Telegram does not document its own limit; 10 s is grammY's."""
    allowed_users: list[int] = []
    """Telegram user ids allowed to use the bot; empty = everyone."""
    allowed_chats: list[int] = []
    """Chat ids (groups are negative) the bot works in; empty = all."""
    admin_ids: list[int] = []
    """User ids that may change any chat's settings and delete any image (besides chat administrators)."""
    inline_storage_chat: int | None = None
    """Inline mode (``@bot a red fox`` in any chat): the chat the bot uploads inline results to first
    (an inline message cannot take an upload, only a file id): a private channel or group where the bot
    may post, or your own chat with the bot. Unset: inline queries are answered "not set up". Also turn
    on inline mode and inline feedback with @BotFather (/setinline, /setinlinefeedback)."""
    status_delay_s: float = Field(default=1.0, ge=0, le=60)
    """A job's status message ("Queued (#2)", "Generating… 40%") appears only if the job is still
    going after this many seconds (0 = at once): quick images come without the extra messages."""

    @field_validator("token", "secret_token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        """An empty value (``${TELEGRAM_BOT_TOKEN:-}`` left unset) is no value: no token means Telegram
        is not configured."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("secret_token")
    @classmethod
    def _secret_token_rule(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if len(secret) > 256:
            raise ValueError(f"is {len(secret)} characters long; Telegram allows 1-256")
        if not SECRET_TOKEN.fullmatch(secret):
            raise ValueError(
                "may contain only A-Z, a-z, 0-9, _ and - (1-256 characters; a base64 secret's +, / and "
                "= are refused by Telegram): make one with `openssl rand -hex 32`"
            )
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> TelegramSettings:
        if self.mode == "webhook" and (not self.webhook_url or self.secret_token is None):
            raise ValueError("webhook mode needs webhook_url and secret_token")
        return self
