"""Which conversation a browser is in, and the human names of chats.

Every browser starts in the main web conversation (``web``: shared by every browser, where scheduled
posts to ``web`` arrive). "New conversation" gives it one of its own, ``w<YYYYMMDDHHMM><4 hex>``
(started then, in UTC), kept in an HttpOnly cookie so the browser stays in it across reloads and
restarts; it may switch back. Whoever uses the web chat is the operator (loopback, or behind
``web.auth_token``), so any web conversation is theirs to open. A cookie that is not such an id is
ignored (the main conversation).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from aiohttp import web

from bot.core.i18n import N_, _
from bot.platforms.web.security import COOKIE_MAX_AGE

PLATFORM = "web"
MAIN = "web"
COOKIE = "easel_chat"
_ID = re.compile(r"w(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})[0-9a-f]{4}")
PLATFORM_NAMES = {
    "telegram": "Telegram",
    "discord": "Discord",
    "web": N_("web chat"),
    "console": N_("terminal"),
    "cli": N_("command line"),
}
"""Platform names in people's labels, translated where they are shown (the names stay as they are)."""
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)
_USER_LABEL = re.compile(r"(?P<name>.*) \((?P<platform>[a-z0-9_-]{1,40})\)")


def is_conversation(chat: str) -> bool:
    return chat == MAIN or _ID.fullmatch(chat) is not None


def current(request: web.Request) -> str:
    """The browser's conversation: its cookie when that is a conversation id, else the main one."""
    chat = request.cookies.get(COOKIE, "")
    return chat if is_conversation(chat) else MAIN


def new_conversation(now: datetime | None = None) -> str:
    started = (now or datetime.now(UTC)).astimezone(UTC)
    return f"w{started:%Y%m%d%H%M}{secrets.token_hex(2)}"


def remember(response: web.StreamResponse, chat: str) -> None:
    response.set_cookie(COOKIE, chat, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Strict")


def label(chat: str) -> str:
    """``Web chat`` for the main conversation, ``Web chat of 2025-03-14 09:30 UTC`` for another (in
    the request's language)."""
    match = _ID.fullmatch(chat)
    if match is None:
        return _("Web chat")
    year, month, day, hour, minute = match.groups()
    return _("Web chat of {when} UTC").format(when=f"{year}-{month}-{day} {hour}:{minute}")


def browser_name(user_agent: str) -> str:
    """What a person calls the browser: ``Firefox on Windows``; ``Web browser`` when unknown."""
    agent = user_agent[:512]
    browser = next((name for token, name in _BROWSERS if token in agent), None)
    system = next((name for token, name in _SYSTEMS if token in agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or (f"A browser on {system}" if system else "Web browser")


def chat_label(platform: str, external_id: str) -> str:
    """A chat's name for people (the gallery's filter, the picture's details), from its platform and
    its id there: Easel keeps no chat titles."""
    if platform == "web" and is_conversation(external_id):
        return label(external_id)
    if platform == "web":
        return _("Web chat {id}").format(id=external_id)
    if platform == "telegram":
        return _("Telegram chat {id}").format(id=external_id)
    if platform == "discord":
        return _("Discord channel {id}").format(id=external_id)
    if platform == "console":
        return _("Terminal")
    if platform == "cli":
        return _("Command line")
    return _("{platform} chat {id}").format(platform=platform, id=external_id)


def chat_label_of(raw: str) -> str:
    """``chat_label`` of a ``platform:external_id`` label."""
    platform, _, external_id = raw.partition(":")
    return chat_label(platform, external_id)


def user_label(raw: str) -> str:
    """``Chrome on Linux (web)`` → ``Chrome on Linux (web chat)``; other platforms capitalised."""
    match = _USER_LABEL.fullmatch(raw)
    if match is None:
        return raw
    platform = match["platform"]
    return f"{match['name']} ({_(PLATFORM_NAMES.get(platform, platform))})"
