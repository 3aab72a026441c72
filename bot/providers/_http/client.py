"""One ``httpx.AsyncClient`` per provider, built from its settings (timeouts as a value object).

Every answer is read with a cap (``providers.<name>.max_response_mb``, :mod:`bot.providers._http.limits`),
redirects are never followed by the client (:func:`bot.providers._http.media.download` checks each hop and
keeps the key on the provider's origin), and the provider's secrets are registered with the redactor
so that no provider message or log line repeats them (:mod:`bot.observability.redaction`).
"""

from __future__ import annotations

import httpx

from bot import __version__
from bot.observability.redaction import remember, secrets_in
from bot.providers._http.limits import MB, response_cap
from bot.providers.settings import ProviderSettings

CONNECT_TIMEOUT_S = 10.0
USER_AGENT = f"easel/{__version__}"


def timeout_for(settings: ProviderSettings, default_timeout_s: float) -> httpx.Timeout:
    """Read/write/pool time from ``providers.<name>.timeout_s`` (else the default); connect is short."""
    total = settings.timeout_s or default_timeout_s
    return httpx.Timeout(total, connect=min(CONNECT_TIMEOUT_S, total))


def max_response_bytes(settings: ProviderSettings) -> int:
    """``providers.<name>.max_response_mb`` in bytes."""
    return int(settings.max_response_mb * MB)


def make_client(
    settings: ProviderSettings,
    *,
    default_timeout_s: float,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The provider's client: capped answers, no automatic redirects, its secrets known to the redactor."""
    remember(*secrets_in(settings))
    return httpx.AsyncClient(
        timeout=timeout_for(settings, default_timeout_s),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        transport=transport,
        event_hooks={"response": [response_cap(max_response_bytes(settings))]},
    )
