"""``web:``: the web chat's settings."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.observability.masking import redact_url
from bot.sections import SettingsSection


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


MIN_WEB_TOKEN_CHARS = 12


class WebSettings(SettingsSection):
    """The local web chat, gallery, /healthz and /metrics (``bot.platforms.web.adapter``)."""

    enabled: bool = True
    """With Telegram or Discord configured, also run the web chat; it always runs when nothing else is."""
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    """0 picks a free port (tests); the chosen one is in the printed URL."""
    auth_token: SecretStr | None = None
    """Required when ``host`` is not a loopback address: browsers log in with it once, scrapers send
    ``Authorization: Bearer <token>``."""
    max_upload_mb: float = Field(default=10.0, gt=0, le=50)
    """The largest image a browser may upload to edit."""
    allowed_hosts: list[str] = []
    """Names (``host`` or ``host:port``) browsers may use to reach the web chat besides loopback ones
    (``localhost``, ``*.localhost``, 127.x.x.x, ``[::1]``) and, when ``host`` is not loopback, IP
    addresses. Any other ``Host`` is answered 421 (a defence against DNS rebinding)."""
    public_url: str | None = None
    """The address people open when a reverse proxy serves the web chat (``https://easel.example.org``):
    its host is allowed and its origin may post. Needs ``auth_token``."""
    secret_file: Path = Path("./data/web_secret")
    """A random per-installation key (made at first start, mode 0600) that signs login and CSRF
    cookies. Deleting it (or changing ``auth_token``) logs every browser out."""

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        """Each entry a host name or IP address (IPv6 in brackets), optionally ``:port``."""
        pattern = r"(\[[0-9a-f:.]+\]|[a-z0-9_-]+(\.[a-z0-9_-]+)*)(:(?P<port>[0-9]{1,5}))?"
        hosts = [entry.strip().lower() for entry in value]
        for entry in hosts:
            match = re.fullmatch(pattern, entry)
            if match is None or int(match["port"] or 0) > 65535:
                raise ValueError(f"{entry!r} is not a host name or host:port (e.g. easel.lan:8080)")
        return hosts

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        shown = repr(redact_url(value.strip()))  # an error message must not repeat a password
        try:
            parts.port  # noqa: B018 (raises ValueError for a bad port)
        except ValueError as exc:
            raise ValueError(f"{shown} has a bad port") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None:
            raise ValueError(f"{shown} is not an http(s) address like https://easel.example.org")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"{shown}: the web chat is served at the root of its address (no path)")
        return f"{parts.scheme}://{parts.netloc.lower()}"

    @model_validator(mode="after")
    def _auth_off_loopback(self) -> WebSettings:
        if not _is_loopback(self.host) and self.auth_token is None:
            raise ValueError(f"binding the web chat to {self.host} needs web.auth_token")
        if self.auth_token is not None and len(self.auth_token.get_secret_value()) < MIN_WEB_TOKEN_CHARS:
            raise ValueError(f"web.auth_token must be at least {MIN_WEB_TOKEN_CHARS} characters")
        if self.public_url is not None and self.auth_token is None:
            raise ValueError("web.public_url serves the web chat to others: it needs web.auth_token")
        return self
