"""Secrets stay secret in logs: every record, every logger and handler, tracebacks and args included."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from telegram import Bot

from bot.observability.redaction import Redactor, install_redaction, secrets_in, uninstall_redaction
from bot.settings import AppSettings, load_settings
from tests.fakes.providers.hostile import HostileServer
from tests.fakes.telegram import TOKEN, FakeTelegram

TOKEN_SECRET = TOKEN.split(":", 1)[1]
DISCORD = "discord-token-Mz3x.Y7q.abcdef"
WEB = "web-auth-token-0123456789"
HOOK = "webhook-secret-token-42"
DB_PASSWORD = "db-pass-9981"
URL_PASSWORD = "gpu-pass-77"
OPTION_SECRET = "comfy-org-key-5521"
API_KEY = "plain-api-key-31337"
SECRETS = (TOKEN, DISCORD, WEB, HOOK, DB_PASSWORD, URL_PASSWORD, OPTION_SECRET, API_KEY)
ENV = {
    "EASEL__TELEGRAM__TOKEN": TOKEN,
    "EASEL__TELEGRAM__MODE": "webhook",
    "EASEL__TELEGRAM__WEBHOOK_URL": "https://bot.example.org/hook",
    "EASEL__TELEGRAM__SECRET_TOKEN": HOOK,
    "EASEL__DISCORD__TOKEN": DISCORD,
    "EASEL__WEB__AUTH_TOKEN": WEB,
    "EASEL__DATABASE_URL": f"postgresql+asyncpg://easel:{DB_PASSWORD}@db/easel",
    "EASEL__PROVIDERS__COMFYUI__BASE_URL": f'["http://a:8188", "http://gpu:{URL_PASSWORD}@b:8188"]',
    "EASEL__PROVIDERS__COMFYUI__OPTIONS": f'{{"extra_data": {{"api_key_comfy_org": "{OPTION_SECRET}"}}}}',
    "EASEL__PROVIDERS__OPENAI__API_KEY": API_KEY,
}


@pytest.fixture
def settings() -> AppSettings:
    return load_settings(None, environ=ENV)


@pytest.fixture
def stderr(settings: AppSettings) -> Iterator[io.StringIO]:
    """What a user's stderr would show: a real StreamHandler on the root logger, redaction installed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    install_redaction(settings)
    try:
        yield stream
    finally:
        uninstall_redaction()
        root.removeHandler(handler)
        root.setLevel(level)


def assert_clean(text: str) -> None:
    for secret in (*SECRETS, TOKEN_SECRET, quote(TOKEN, safe="")):
        assert secret not in text


def test_every_kind_of_configured_secret_is_collected(settings: AppSettings) -> None:
    """SecretStr fields anywhere, URL passwords (also in lists) and secret-looking options are found."""
    found = set(secrets_in(settings))
    assert {TOKEN, DISCORD, WEB, HOOK, DB_PASSWORD, URL_PASSWORD, OPTION_SECRET, API_KEY} <= found


def test_redactor_masks_a_secret_and_its_url_encoded_form() -> None:
    """The token, its %-encoded form and its secret half all become ***."""
    redact = Redactor([TOKEN])
    text = f"/bot{TOKEN}/getMe /bot{quote(TOKEN, safe='')}/x {TOKEN_SECRET}"
    assert redact(text) == "/bot***/getMe /bot***/x ***"


def test_a_child_logger_record_with_args_is_scrubbed(stderr: io.StringIO) -> None:
    """A DEBUG record from a library's child logger, the secret in its args, reaches stderr masked."""
    logging.getLogger("telegram.ext.Updater").debug("polling %s with %r", f"https://t.org/bot{TOKEN}", WEB)
    out = stderr.getvalue()
    assert "DEBUG telegram.ext.Updater: polling https://t.org/bot*** with '***'" in out
    assert_clean(out)


def test_a_traceback_with_a_secret_is_scrubbed(stderr: io.StringIO) -> None:
    """The exception text and the chained traceback are masked; the traceback is still printed."""
    log = logging.getLogger("bot.app")
    try:
        try:
            raise ConnectionError(f"cannot reach postgresql://easel:{DB_PASSWORD}@db/easel")
        except ConnectionError as exc:
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.") from exc
    except RuntimeError:
        log.exception("startup failed")
    out = stderr.getvalue()
    assert "Traceback (most recent call last)" in out and "RuntimeError: The token `***`" in out
    assert "postgresql://easel:***@db/easel" in out
    assert_clean(out)


def test_a_handler_added_later_is_covered(stderr: io.StringIO) -> None:
    """A handler added after install_redaction (a later basicConfig) still gets masked records."""
    late = io.StringIO()
    handler = logging.StreamHandler(late)
    logging.getLogger().addHandler(handler)
    try:
        logging.getLogger("discord.gateway").warning("identify with %s", DISCORD)
    finally:
        logging.getLogger().removeHandler(handler)
    assert "identify with ***" in late.getvalue()
    assert_clean(late.getvalue())


def test_a_non_propagating_logger_with_its_own_handler_is_covered(stderr: io.StringIO) -> None:
    """A logger with its own handler that does not propagate (uvicorn-style) is masked too."""
    own = io.StringIO()
    logger = logging.getLogger("aiohttp.access.own")
    logger.propagate = False
    logger.addHandler(logging.StreamHandler(own))
    try:
        logger.info('"GET /?token=%s HTTP/1.1" 200', WEB)
    finally:
        logger.handlers.clear()
        logger.propagate = True
    assert "/?token=***" in own.getvalue() and WEB not in own.getvalue()


def test_a_broken_format_call_neither_raises_nor_leaks(stderr: io.StringIO) -> None:
    """A log call whose args do not fit its format is printed masked instead of as a logging error."""
    logging.getLogger("bot.x").warning("token %d", TOKEN)
    assert "token %d" in stderr.getvalue() and "***" in stderr.getvalue()
    assert_clean(stderr.getvalue())


def test_a_record_made_outside_the_factory_is_masked_by_the_handler_filter(stderr: io.StringIO) -> None:
    """A record rebuilt from a dict (a queue or socket listener) is scrubbed by the root handler's filter."""
    record = logging.makeLogRecord(
        {"name": "remote", "levelno": 20, "levelname": "INFO", "msg": f"k={API_KEY}"}
    )
    logging.getLogger().handle(record)
    assert "INFO remote: k=***" in stderr.getvalue()
    assert_clean(stderr.getvalue())


async def test_real_ptb_and_httpx_log_lines_are_scrubbed(stderr: io.StringIO) -> None:
    """python-telegram-bot's DEBUG "Set Bot API URL" and httpx's request lines carry no token."""
    httpx_logger = logging.getLogger("httpx")
    level = httpx_logger.level
    httpx_logger.setLevel(logging.DEBUG)
    try:
        async with FakeTelegram() as tg:
            bot = Bot(TOKEN, base_url=tg.base_url, base_file_url=tg.base_file_url)
            await bot.initialize()
            await bot.shutdown()
    finally:
        httpx_logger.setLevel(level)
    out = stderr.getvalue()
    assert "Set Bot API URL: http://127.0.0.1" in out and "/bot***" in out
    assert "HTTP Request: POST" in out and "/bot***/getMe" in out
    assert_clean(out)


def subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return os.environ | {
        "EASEL__DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'easel.db'}",
        "EASEL__MEDIA_DIR": str(tmp_path / "media"),
        "EASEL__WEB__ENABLED": "false",
        **extra,
    }


async def test_easel_run_at_debug_logs_no_token(tmp_path: Path) -> None:
    """`easel run` with log_level DEBUG: PTB's lines about the token reach stderr masked."""
    async with FakeTelegram() as tg:
        env = subprocess_env(
            tmp_path,
            EASEL__LOG_LEVEL="DEBUG",
            EASEL__TELEGRAM__TOKEN=TOKEN,
            EASEL__TELEGRAM__BASE_URL=tg.base_url,
            EASEL__TELEGRAM__BASE_FILE_URL=tg.base_file_url,
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await tg.wait_for(lambda: tg.calls_to("getUpdates"), 30)
        finally:
            process.send_signal(signal.SIGTERM)
            _, raw = await asyncio.wait_for(process.communicate(), 30)
    err = raw.decode()
    assert "DEBUG telegram.ext.ExtBot: Set Bot API URL: http://127.0.0.1" in err and "/bot***" in err
    assert TOKEN_SECRET not in err and quote(TOKEN, safe="") not in err


async def test_easel_gen_verbose_shows_no_configured_secret(tmp_path: Path) -> None:
    """`easel gen -v`: a provider error quoting the (unrelated) Telegram token is logged masked."""
    async with HostileServer() as provider:
        provider.json("/v1/images/generations", {"error": {"message": f"upstream saw {TOKEN}"}}, status=503)
        env = subprocess_env(
            tmp_path,
            EASEL__TELEGRAM__TOKEN=TOKEN,
            EASEL__GENERATION__RETRIES="0",
            EASEL__PROVIDERS__OPENAI_COMPATIBLE__BASE_URL=f"{provider.origin}/v1",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "gen", "-v", "a fox", "--provider", "openai-compatible",
            env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, raw = await asyncio.wait_for(process.communicate(), 60)
    err = raw.decode()
    assert process.returncode == 1 and "upstream saw ***" in err
    assert TOKEN_SECRET not in err
