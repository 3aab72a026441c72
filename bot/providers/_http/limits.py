"""A cap on how much of a provider's answer is read, for every request of a provider's client.

:func:`bot.providers._http.client.make_client` installs :func:`response_cap` as the client's ``response``
event hook, which httpx runs for every answer, whatever the transport (proxies and test transports
included), before the body is read. A declared ``Content-Length`` over the limit fails at once; any
other body is read through :class:`CappedStream`, which decodes it first (so a gzip bomb counts at its
real size) and fails as soon as it passes the limit: the connection is dropped, the rest never read::

    client = make_client(settings, default_timeout_s=120)      # providers.<name>.max_response_mb
    await client.get(url)                                      # > limit: ResponseTooLarge
    await client.get(url, extensions=response_limit(32 << 20)) # this request's own limit

:class:`ResponseTooLarge` is an ``httpx.TransportError``: it happens while reading, like a dropped
connection, and :func:`bot.providers._http.errors.transport_errors` turns it into ``Unavailable``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx

__all__ = ["LIMIT_EXTENSION", "MB", "CappedStream", "ResponseTooLarge", "response_cap", "response_limit"]

MB = 1024 * 1024
LIMIT_EXTENSION = "easel.max_response_bytes"
"""A request extension: this request's limit in bytes instead of the client's."""


class ResponseTooLarge(httpx.TransportError):
    """The answer is (or says it is) over the limit; reading stopped there."""

    def __init__(self, *, size: int, limit: int, declared: bool, request: httpx.Request) -> None:
        what = f"it declares {size} bytes" if declared else "it goes on"
        super().__init__(f"answer too large: {what}, over the {limit} byte limit", request=request)
        self.size = size
        self.limit = limit


def response_limit(max_bytes: int) -> dict[str, int]:
    """Request extensions that give one request its own limit."""
    return {LIMIT_EXTENSION: max_bytes}


def response_cap(max_bytes: int) -> Callable[[httpx.Response], Awaitable[None]]:
    """The ``response`` event hook enforcing ``max_bytes`` (or a request's own limit)."""

    async def cap(response: httpx.Response) -> None:
        limit = response.request.extensions.get(LIMIT_EXTENSION, max_bytes)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(size=int(declared), limit=limit, declared=True, request=response.request)
        response.stream = CappedStream(response, limit)

    return cap


class CappedStream(httpx.AsyncByteStream):
    """The body of ``response``, decoded here (its ``Content-Encoding`` is then removed), at most
    ``limit`` bytes of it."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        raw = response.stream
        assert isinstance(raw, httpx.AsyncByteStream)
        self._raw = raw
        self._limit = limit
        self._request = response.request
        self._decoded: httpx.Response | None = None
        if response.headers.get("content-encoding", "identity").strip().lower() != "identity":
            # A throwaway response over the same stream decodes it with httpx's own decoders.
            self._decoded = httpx.Response(
                response.status_code, headers=response.headers.copy(), stream=raw, request=response.request
            )
            del response.headers["content-encoding"]
            response.headers.pop("content-length", None)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = self._decoded.aiter_bytes() if self._decoded is not None else self._raw
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > self._limit:
                raise ResponseTooLarge(size=size, limit=self._limit, declared=False, request=self._request)
            yield chunk

    async def aclose(self) -> None:
        await self._raw.aclose()
