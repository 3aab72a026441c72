"""What the keyed cloud providers with result URLs (xai, flux, replicate) share beyond
:mod:`bot.providers._http.common`: :func:`fetch_result` downloads a result URL at once, and says "expired"
rather than "bad key" when a signed URL has gone stale.
"""

from __future__ import annotations

import re

import httpx

from bot.core.errors import InvalidRequest, Misconfigured, Unavailable
from bot.core.i18n import N_, _
from bot.core.types import Image
from bot.providers._http import media

__all__ = ["EXPIRED_TEXT", "fetch_result"]

_STATUS = re.compile(r"HTTP \d{3}")
EXPIRED_TEXT = N_(
    "The finished image could not be downloaded from the image service (the link expired); please try again."
)


async def fetch_result(
    client: httpx.AsyncClient,
    url: str,
    *,
    provider: str,
    model: str | None,
    allow_private: bool,
    seed: int | None = None,
    revised_prompt: str | None = None,
) -> Image:
    """Download a result URL now (they expire) into an ``Image`` with its sniffed mime and size.

    A result URL answering 4xx has expired or was withdrawn: ``Unavailable`` (a retry makes a new
    one), not the key or address problem the same status means on the API itself.
    """
    try:
        data, mime = await media.download(client, url, provider=provider, allow_private=allow_private)
    except (Misconfigured, InvalidRequest) as exc:
        status = _STATUS.search(str(exc))
        raise Unavailable(
            f"{provider}: the result URL answered {status[0] if status else 'an error'} (expired?)",
            provider=provider,
            user_message=_(EXPIRED_TEXT),
        ) from exc
    return media.to_image(
        data, provider=provider, model=model, seed=seed, revised_prompt=revised_prompt, mime=mime
    )
