"""Secrets never reach a log line or a provider message: one redactor, one logging filter.

The process-wide :data:`REDACTOR` knows every configured secret (bot tokens, API keys, passwords in
URLs, secret-looking ``options`` values) and replaces each, also URL-encoded, with ``***``; it also
masks any ``scheme://user:password@`` and secret-looking query values (``?key=``, ``&sig=``) it meets,
configured or not. Secrets are registered by :func:`install_redaction` (every secret in the settings)
and by :func:`bot.providers._http.client.make_client` (the provider's own), and used by
:func:`bot.providers._http.errors.scrub` for text that came from a provider.

Logs: :func:`install_redaction` puts :class:`RedactingFilter` on every handler that exists and wraps
the log-record factory, so a record is scrubbed when it is made, whatever logger it comes from (a
filter on a logger would miss its children's records) and whatever handler is added later (a later
``logging.basicConfig``, pytest's caplog). The message is formatted with its ``args`` first, and the
traceback is rendered and scrubbed too (the raw ``exc_info`` is dropped when it held a secret, so no
handler can render it again)::

    install_redaction(settings)                  # at start, after logging.basicConfig
    log.debug("Set Bot API URL: %s", url)        # → "Set Bot API URL: https://…/bot***"
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, unquote, urlsplit

from pydantic import BaseModel, SecretStr

from bot.observability.masking import SECRET_NAME, redact_url

__all__ = [
    "MIN_SECRET_CHARS",
    "REDACTOR",
    "RedactingFilter",
    "Redactor",
    "install_redaction",
    "redact",
    "remember",
    "secrets_in",
    "uninstall_redaction",
]

MIN_SECRET_CHARS = 6
"""Shorter values are not scrubbed as free text (a 2-letter password would turn every log line to
mush); inside a URL (``user:pw@``) any password is masked whatever its length."""
MASK = "***"
_UNPRINTABLE = "<log record withheld: it could not be checked for secrets>"
_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s'\"<>]+")
_FORMATTER = logging.Formatter()
_STANDARD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class Redactor:
    """Replaces known secrets (and URL passwords) in text with ``***``; thread-safe, only grows."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *values: str) -> None:
        """Know these secrets from now on (with their URL-encoded forms and, for ``id:secret``
        values such as a Telegram token or ``user:pass``, the part after the colon)."""
        forms: set[str] = set()
        for raw in values:
            value = raw.strip()
            for form in (value, quote(value, safe=""), quote_plus(value), value.partition(":")[2]):
                if len(form) >= MIN_SECRET_CHARS:
                    forms.add(form)
        with self._lock:
            if forms <= self._secrets:
                return
            self._secrets |= forms
            ordered = sorted(self._secrets, key=len, reverse=True)  # the longest form wins
            self._pattern = re.compile("|".join(re.escape(secret) for secret in ordered))

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        return redact_url(text) if "://" in text or "=" in text else text

    def __contains__(self, secret: str) -> bool:
        return secret.strip() in self._secrets


REDACTOR = Redactor()
"""Every secret this process was configured with."""


def redact(text: str) -> str:
    """``text`` with every known secret and URL password masked."""
    return REDACTOR(text)


def remember(*values: str) -> None:
    """Register secrets with the process-wide redactor."""
    REDACTOR.add(*values)


# ------------------------------------------------------------------------------------- collecting


def secrets_in(value: object, *, secret: bool = False) -> Iterator[str]:
    """Every secret in a settings tree: ``SecretStr`` values, passwords and secret-looking query
    values of URLs in any string, and every string under a secret-looking key of a free-form mapping
    (``options: {api_key: ..., extra_data: {auth_token: ...}}``)."""
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from secrets_in(getattr(value, name), secret=secret)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from secrets_in(item, secret=secret or bool(SECRET_NAME.search(str(key))))
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from secrets_in(item, secret=secret)
    elif isinstance(value, str):
        if secret:
            yield value
        yield from _url_secrets(value)


def _url_secrets(text: str) -> Iterator[str]:
    for match in _URL.finditer(text):
        try:
            parts = urlsplit(match[0])
            password = parts.password
        except ValueError:
            continue
        if password:
            yield password
            yield unquote(password)
        for pair in parts.query.split("&"):
            name, _, val = pair.partition("=")
            if val and SECRET_NAME.search(name):
                yield unquote(val)


# ------------------------------------------------------------------------------------------ logging


class RedactingFilter(logging.Filter):
    """Scrubs a record in place (message with its args, traceback, stack, string extras); never drops one."""

    def __init__(self, redactor: Callable[[str], str]) -> None:
        super().__init__()
        self._redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record, self._redact)
        return True


def scrub_record(record: logging.LogRecord, redactor: Callable[[str], str]) -> None:
    """Mask secrets in everything a formatter would print from ``record``. Never raises (it runs
    inside the caller's logging call): a record that cannot be scrubbed loses its text instead."""
    try:
        _scrub(record, redactor)
    except Exception:
        record.msg, record.args, record.exc_info, record.exc_text = _UNPRINTABLE, None, None, None


def _scrub(record: logging.LogRecord, redactor: Callable[[str], str]) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format call: keep it printable without leaking its arguments
        message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redactor(message), None
    else:
        clean = redactor(message)
        if clean != message:
            record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        rendered = record.exc_text or _FORMATTER.formatException(record.exc_info)
        clean = redactor(rendered)
        if clean != rendered:  # the standard Formatter prints exc_text; nothing can render exc_info
            record.exc_text, record.exc_info = clean, None
    elif record.exc_text:
        record.exc_text = redactor(record.exc_text)
    if record.stack_info:
        record.stack_info = redactor(record.stack_info)
    for name, value in list(vars(record).items()):
        if name not in _STANDARD_FIELDS and isinstance(value, str):
            setattr(record, name, redactor(value))


_FILTER = RedactingFilter(REDACTOR)
_previous_factory: Callable[..., logging.LogRecord] | None = None


def _make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _previous_factory is not None
    record = _previous_factory(*args, **kwargs)
    scrub_record(record, REDACTOR)
    return record


def _handlers() -> Iterator[logging.Handler]:
    yield from logging.getLogger().handlers
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            yield from logger.handlers


def install_redaction(settings: BaseModel | None = None) -> Redactor:
    """Register every secret in ``settings`` and scrub every log record from now on (idempotent)."""
    global _previous_factory
    if settings is not None:
        REDACTOR.add(*secrets_in(settings))
    for handler in _handlers():
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    if _previous_factory is None:
        _previous_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_make_record)
    return REDACTOR


def uninstall_redaction() -> None:
    """Undo :func:`install_redaction`'s logging hooks (tests); the known secrets stay known."""
    global _previous_factory
    for handler in _handlers():
        handler.removeFilter(_FILTER)
    if _previous_factory is not None and logging.getLogRecordFactory() is _make_record:
        logging.setLogRecordFactory(_previous_factory)
        _previous_factory = None
