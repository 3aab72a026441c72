"""The Telegram and Discord settings that several replicas depend on refuse what the services refuse."""

from __future__ import annotations

import pytest

from bot.core.errors import ConfigError
from bot.settings import load_settings


def secret(value: str) -> dict[str, str]:
    return {"EASEL__TELEGRAM__SECRET_TOKEN": value}


@pytest.mark.parametrize("value", ["abc+def/ghi=", "with space", "dots.are.out", "ünïcode"])
def test_a_secret_token_outside_the_bot_api_alphabet_is_refused(value: str) -> None:
    """telegram.secret_token with a character outside A-Z a-z 0-9 _ - is refused, naming the rule."""
    with pytest.raises(ConfigError, match=r"telegram\.secret_token: may contain only A-Z, a-z, 0-9, _ and -"):
        load_settings(None, environ=secret(value))


def test_a_secret_token_over_256_characters_is_refused() -> None:
    """telegram.secret_token of 257 characters is refused with its length."""
    with pytest.raises(ConfigError, match="is 257 characters long; Telegram allows 1-256"):
        load_settings(None, environ=secret("a" * 257))


def test_a_secret_token_of_256_allowed_characters_is_kept() -> None:
    """A 256-character secret of letters, digits, _ and - is accepted as it is."""
    value = ("Ab9_-" * 52)[:256]
    token = load_settings(None, environ=secret(value)).telegram.secret_token
    assert token is not None and token.get_secret_value() == value


def test_empty_tokens_mean_not_configured() -> None:
    """Empty platform tokens (an unset ``${VAR:-}``) leave Telegram and Discord off."""
    settings = load_settings(None, environ={"EASEL__TELEGRAM__TOKEN": "", "EASEL__DISCORD__TOKEN": " "})
    assert settings.telegram.token is None and settings.discord.token is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EASEL__DISCORD__SHARD_IDS": "[0]"}, "shard_ids needs shard_count"),
        ({"EASEL__DISCORD__SHARD_COUNT": "2", "EASEL__DISCORD__SHARD_IDS": "[1, 2]"},
         r"shard_ids \[2\] are not shards of a bot with shard_count 2 \(0\.\.1\)"),
        ({"EASEL__DISCORD__SHARD_COUNT": "4", "EASEL__DISCORD__SHARD_IDS": "[1, 1]"}, "lists a shard twice"),
        ({"EASEL__DISCORD__SHARD_COUNT": "0"}, "shard_count"),
    ],
)  # fmt: skip
def test_bad_shard_settings_are_refused(env: dict[str, str], message: str) -> None:
    """discord.shard_ids must lie in 0..shard_count-1, once each, and needs shard_count >= 1."""
    with pytest.raises(ConfigError, match=message):
        load_settings(None, environ=env)


def test_shard_settings_are_kept() -> None:
    """shard_count 4 with shard_ids [2, 3]: this replica's half of the shards."""
    discord = load_settings(
        None, environ={"EASEL__DISCORD__SHARD_COUNT": "4", "EASEL__DISCORD__SHARD_IDS": "[2, 3]"}
    ).discord
    assert (discord.shard_count, discord.shard_ids) == (4, [2, 3])
