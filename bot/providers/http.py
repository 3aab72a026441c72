"""One ``httpx.AsyncClient`` per provider, built from its settings (timeouts as a value object)."""

from __future__ import annotations

import httpx

from bot import __version__
from bot.settings import ProviderSettings

CONNECT_TIMEOUT_S = 10.0
USER_AGENT = f"easel/{__version__}"


def timeout_for(settings: ProviderSettings, default_timeout_s: float) -> httpx.Timeout:
    """Read/write/pool time from ``providers.<name>.timeout_s`` (else the default); connect is short."""
    total = settings.timeout_s or default_timeout_s
    return httpx.Timeout(total, connect=min(CONNECT_TIMEOUT_S, total))


def make_client(
    settings: ProviderSettings,
    *,
    default_timeout_s: float,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The provider's client. Redirects are not followed automatically (downloads check each hop)."""
    return httpx.AsyncClient(
        timeout=timeout_for(settings, default_timeout_s),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        transport=transport,
    )
