"""Which language Easel answers in, and the translated text in it.

The language of a request is the chat's ``/settings language`` if set, else the sender's locale as the
platform reports it (Telegram ``language_code``, Discord ``locale``, the browser's ``Accept-Language``),
else English. It is held in a context variable for the task that handles the request (or runs its
job): ``_()`` and ``ngettext()`` translate into it. English is the source language: its text is the
message id, so it never changes by being translated.

Catalogues are GNU gettext ``.mo`` files compiled from ``bot/locale/<lang>/LC_MESSAGES/<domain>.po``
(Babel extracts and compiles them, see ``docs``); they are read with the standard library. The bot's
messages are the ``easel`` domain; the web chat's own pages (their labels, buttons and scripts' texts)
are the ``web`` domain, read with :func:`catalogue`.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

DOMAIN = "easel"
WEB_DOMAIN = "web"
"""The web chat's pages (``bot.platforms.web.localize``)."""
DOMAINS = (DOMAIN, WEB_DOMAIN)
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT = "en"
LANGUAGES = ("en", "de", "es")
"""The languages Easel has catalogues for (English is the source text)."""
LANGUAGE_KEY = "language"
"""The chat setting (``/settings language de|es|en|auto``) that wins over the sender's locale."""
AUTO = "auto"
MAX_HEADER = 512
"""Characters of an ``Accept-Language`` header that are looked at (a real one is far shorter)."""
MAX_RANGES = 16
"""Language ranges of a header that are looked at."""
MAX_TAG = 35
"""Characters of one language tag (RFC 5646's longest registered tag is shorter)."""

_current: ContextVar[str] = ContextVar("easel_language", default=DEFAULT)


@cache
def catalogue(language: str, domain: str = DOMAIN) -> gettext.NullTranslations:
    """The translations of ``domain`` into ``language`` (a supported one; else, and for English, the
    source text). Read once per language and domain."""
    if language == DEFAULT or language not in LANGUAGES or domain not in DOMAINS:
        return gettext.NullTranslations()
    return gettext.translation(domain, localedir=LOCALE_DIR, languages=[language], fallback=True)


def language_of(tag: object) -> str | None:
    """The supported language a locale tag names (``de``, ``de-DE``, ``es_419``, ``es-ES``), or None
    for anything else (unknown, malformed, too long, not a string)."""
    if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG:
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def accept_language(header: str | None) -> str | None:
    """The supported language a browser prefers most (``de-DE,de;q=0.9,en;q=0.8`` → ``de``), or None.
    Hostile input is bounded: only the first ``MAX_HEADER`` characters and ``MAX_RANGES`` ranges are
    read; malformed ranges and q-values, unknown tags and ``*`` are ignored; ``q=0`` means "not this"."""
    if not header:
        return None
    best: tuple[float, int, str] | None = None
    for index, part in enumerate(header[:MAX_HEADER].split(",")[:MAX_RANGES]):
        tag, _sep, params = part.strip().partition(";")
        language = language_of(tag.strip())
        if language is None:
            continue
        weight = _q_value(params)
        if weight is None or weight <= 0:
            continue
        candidate = (weight, -index, language)
        if best is None or candidate > best:
            best = candidate
    return best[2] if best else None


def _q_value(params: str) -> float | None:
    """The ``q`` of a range's parameters (1 without one); None when it is malformed (RFC 9110: 0-1,
    at most three decimals)."""
    params = params.strip()
    if not params:
        return 1.0
    name, _sep, value = params.partition("=")
    value = value.strip()
    if name.strip().lower() != "q" or not value or len(value) > 5:
        return None
    if not all(ch.isascii() and (ch.isdigit() or ch == ".") for ch in value) or value.count(".") > 1:
        return None
    try:
        weight = float(value)
    except ValueError:
        return None
    return weight if 0 <= weight <= 1 else None


def resolve(chat_settings: Mapping[str, Any] | None, locale: str | None) -> str:
    """The language to answer in: the chat's setting, else the sender's locale, else English."""
    chosen = language_of((chat_settings or {}).get(LANGUAGE_KEY))
    return chosen or language_of(locale) or DEFAULT


def current() -> str:
    return _current.get()


@contextmanager
def using(language: str | None) -> Iterator[str]:
    """Answer in ``language`` (None or unsupported: English) inside the block."""
    chosen = language_of(language) or DEFAULT
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def choose(language: str | None) -> str:
    """Switch to ``language`` for the rest of the enclosing :func:`using` block (which undoes it)."""
    chosen = language_of(language) or DEFAULT
    _current.set(chosen)
    return chosen


def _(message: str) -> str:
    """``message`` (its English text) in the current language."""
    return catalogue(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language."""
    return catalogue(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a constant for extraction; it is translated where it is used (``_(CONSTANT)``)."""
    return message
