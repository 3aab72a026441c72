"""Getting image bytes out of provider answers, safely: base64, data URLs and downloads.

Downloads happen at once (result URLs expire), with a size cap of their own (32 MB, whatever the
provider's ``max_response_mb``), a redirect limit, content sniffing and an SSRF guard: no request goes
to a private, loopback or link-local address unless the provider's own base URL is such an address (a
local server handing out local URLs is normal). Headers given to :func:`download` (the API key) go
only to the URL's own origin: a redirect elsewhere is followed without them, and they are not sent
again even if a later hop comes back.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urljoin, urlsplit

import httpx

from bot.core.errors import ImageError, TooLarge, Unavailable
from bot.core.i18n import N_, _
from bot.core.imaging import image_size, sniff
from bot.core.types import Image
from bot.providers._http.errors import raise_for_response, transport_errors
from bot.providers._http.limits import ResponseTooLarge, response_limit

MAX_DOWNLOAD_BYTES = 32 * 1024 * 1024
MAX_REDIRECTS = 3
_DEFAULT_PORTS = {"http": 80, "https": 443}
NOT_AN_IMAGE = N_("The image service sent back something that is not an image.")


def decode_base64(data: str, *, provider: str) -> tuple[bytes, str]:
    """Bare base64 or a ``data:image/...;base64,`` URL → (bytes, sniffed mime)."""
    payload = data.split(",", 1)[1] if data.startswith("data:") else data
    try:
        raw = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise Unavailable(
            f"{provider} sent invalid base64", provider=provider, user_message=_(NOT_AN_IMAGE)
        ) from exc
    return raw, sniffed(raw, provider=provider)


def sniffed(data: bytes, *, provider: str) -> str:
    """The real mime type of ``data`` (never the one a server claims), or Unavailable."""
    try:
        return sniff(data)
    except ImageError as exc:
        raise Unavailable(
            f"{provider} returned {len(data)} bytes that are not an image",
            provider=provider,
            user_message=_(NOT_AN_IMAGE),
        ) from exc


def to_image(
    data: bytes,
    *,
    provider: str,
    model: str | None,
    seed: int | None = None,
    revised_prompt: str | None = None,
    mime: str | None = None,
) -> Image:
    """An ``Image`` with its sniffed mime and real size."""
    mime = mime or sniffed(data, provider=provider)
    try:
        width, height = image_size(data)
    except ImageError as exc:
        raise Unavailable(
            f"{provider} returned an unreadable image", provider=provider, user_message=_(NOT_AN_IMAGE)
        ) from exc
    return Image(
        data=data,
        mime=mime,
        width=width,
        height=height,
        seed=seed,
        provider=provider,
        model=model,
        revised_prompt=revised_prompt,
    )


def is_private_host(host: str) -> bool:
    """True for loopback, private, link-local and other non-public literal addresses and localhost."""
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


def base_is_local(base_url: str | list[str] | None) -> bool:
    """Whether a provider's configured server is itself on a private or loopback address."""
    urls = base_url if isinstance(base_url, list) else [base_url] if base_url else []
    return any(is_private_host(urlsplit(url).hostname or "") for url in urls)


async def _resolves_private(host: str) -> bool:
    if is_private_host(host):
        return True
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False  # the request itself will fail and say so
    return any(is_private_host(str(info[4][0])) for info in infos)


async def download(
    client: httpx.AsyncClient,
    url: str,
    *,
    provider: str,
    allow_private: bool,
    headers: dict[str, str] | None = None,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> tuple[bytes, str]:
    """Fetch an image URL now: (bytes, sniffed mime). ``data:`` URLs are decoded instead.

    ``headers`` are sent while the hops stay on ``url``'s origin (scheme, host and port) only.
    """
    if url.startswith("data:"):
        return decode_base64(url, provider=provider)
    home = origin(url)
    for _hop in range(MAX_REDIRECTS + 1):
        if headers is not None and origin(url) != home:
            headers = None  # the key stays with the provider; once dropped, never sent again
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Unavailable(
                f"{provider} returned a non-HTTP image URL", provider=provider, user_message=_(NOT_AN_IMAGE)
            )
        if not allow_private and await _resolves_private(parts.hostname):
            raise Unavailable(
                f"{provider} returned an image URL on a private address ({parts.hostname}); not fetched",
                provider=provider,
                user_message=_(NOT_AN_IMAGE),
            )
        shown = str(httpx.URL(url).copy_with(query=None, fragment=None))  # signed URLs carry tokens
        with transport_errors(provider=provider, url=shown), _as_too_big(provider, max_bytes):
            async with client.stream(
                "GET", url, headers=headers, follow_redirects=False, extensions=response_limit(max_bytes)
            ) as response:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code in (403, 404, 410):
                    raise Unavailable(
                        f"{provider} result URL answered {response.status_code}",
                        provider=provider,
                        user_message=_(
                            "The finished image could no longer be fetched (its link expired). Please try "
                            "again."
                        ),
                    )
                if response.status_code >= 400:
                    await response.aread()
                    raise_for_response(response, provider=provider)
                declared = int(response.headers.get("content-length") or 0)
                if declared > max_bytes:
                    raise _too_big(provider, declared, max_bytes)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise _too_big(provider, size, max_bytes)
                    chunks.append(chunk)
        data = b"".join(chunks)
        return data, sniffed(data, provider=provider)
    raise Unavailable(
        f"{provider}: more than {MAX_REDIRECTS} redirects", provider=provider, user_message=_(NOT_AN_IMAGE)
    )


def origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


@contextmanager
def _as_too_big(provider: str, limit: int) -> Iterator[None]:
    try:
        yield
    except ResponseTooLarge as exc:  # the client's cap, set to ours for this request
        raise _too_big(provider, exc.size, limit) from exc


def _too_big(provider: str, size: int, limit: int) -> TooLarge:
    return TooLarge(
        f"{provider} image is {size} bytes, over the {limit} limit",
        provider=provider,
        user_message=_("The image service sent an image that is too large to handle."),
    )
