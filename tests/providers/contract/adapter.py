"""What the contract suite needs to know of one provider, and the tools it builds them with.

An :class:`Adapter` says how to start the provider's loopback fake, which settings point the provider
at it, and how to make the fake fail a given way. A failure the vendor's API has no form of is left
``None`` (a local diffusion server has no content policy): the suite asks only for what exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import traceback
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

import bot
from bot.core.errors import InvalidRequest
from bot.core.ports import ProgressCallback, Provider
from bot.core.types import Capabilities, Image, ImageRequest, ProviderHealth
from bot.providers import registry
from bot.providers._http.client import make_client
from bot.providers._http.errors import KEY_REJECTED_TEXT
from bot.settings import ProvidersSettings
from tests.fakes.providers.harness import TLS

Fake = Any
_BOT = str(Path(bot.__file__).parent) + "/"
Script = Callable[[Fake], None]
"""Make the fake answer the next request a given way."""


@dataclass
class Adapter:
    """One provider as the contract suite drives it."""

    name: str
    """The registry's name."""
    start: Callable[[], contextlib.AbstractAsyncContextManager[Fake]]
    """A fresh fake (``async with``); ``None`` inside for a provider without a server."""
    settings: Callable[[Fake], dict[str, Any]]
    """``providers.<name>`` fields that point the provider at the fake."""
    model: str | None = None
    """The model named on its images by default."""
    refusals: Mapping[str, tuple[str, Script]] = field(default_factory=dict)
    """Each way the vendor refuses a prompt (an error status, an HTTP 200 that says so), by name: what
    the operator's message then says (in part), and how to make the fake do it."""
    own_refusal_text: frozenset[str] = frozenset()
    """Refusals whose user message is the vendor's own (naming the reason), not the common text."""
    rate_limit: Callable[[Fake, int], None] | None = None
    """A 429 (or the vendor's throttling) that says to wait this many seconds."""
    outage: Callable[[Fake, int], None] | None = None
    """A 5xx with the vendor's own error body."""
    malformed: Script | None = None
    """An HTTP 200 whose body is not JSON."""
    hang: Script | None = None
    """Every answer from now on takes seconds."""
    wrong_key: Callable[[Fake, pytest.MonkeyPatch], dict[str, Any]] | None = None
    """Make the key (or login, or signature) wrong: settings to change, after any other change."""
    key_rejected: str = KEY_REJECTED_TEXT
    """What the user is told (in part) when the key is rejected."""
    rejection: str = "rejected"
    """What the operator is told (in part) then, and what ``check()`` says."""
    check_sees_key: bool = True
    """Whether ``check()`` itself meets a rejected key (not so where only a proxy's 401 is faked)."""
    started: Callable[[Fake, Tracker], bool] | None = None
    """Whether a hanging generation has reached the server (default: a request is in flight)."""
    cannot_edit: dict[str, Any] | None = None
    """Settings (a model) with which the provider cannot edit, if it has such."""
    bad_reference: type[Exception] = InvalidRequest
    """What an edit of bytes that are no image raises."""
    healthy: str | None = None
    """What ``check()`` says (in part) when all is well."""
    down: str = "connection refused"
    """What ``check()`` says (in part) when nothing listens."""
    backend_list: bool = False
    """Whether ``base_url`` may be a list of identical servers (shared by least-busy choice)."""
    dead_path: str = ""
    """The path of ``base_url`` on the fake (a closed port gets the same)."""
    prepare: Callable[[pytest.MonkeyPatch, Any], None] | None = None
    """Set up the environment (credentials) before the provider is built."""

    @property
    def uses_http(self) -> bool:
        return registry.vendor(self.name).uses_http

    def __str__(self) -> str:
        return self.name


class Tracker(httpx.AsyncBaseTransport):
    """A real transport that counts requests in flight and responses not yet closed."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport(verify=TLS)
        self.sent = 0
        self.in_flight = 0
        self.open = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        self.in_flight += 1
        try:
            response = await self._inner.handle_async_request(request)
        finally:
            self.in_flight -= 1
        self.open += 1
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Counted(response, self),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


class _Counted(httpx.AsyncByteStream):
    def __init__(self, response: httpx.Response, tracker: Tracker) -> None:
        assert isinstance(response.stream, httpx.AsyncByteStream)
        self._stream = response.stream
        self._tracker: Tracker | None = tracker

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        if self._tracker is not None:
            self._tracker.open -= 1
            self._tracker = None
        await self._stream.aclose()


@dataclass
class Built:
    """A provider built as the app builds it, on a client of its own with a :class:`Tracker`."""

    provider: Provider
    tracker: Tracker
    clients: list[httpx.AsyncClient]

    async def aclose(self) -> None:
        await self.provider.aclose()
        for client in self.clients:
            await client.aclose()


async def build(adapter: Adapter, fields: Mapping[str, Any]) -> Built:
    """``providers.<name>`` from ``fields``, then the app's own steps: a client for each section
    ``registry.client_sections`` names (``make_client``, on a tracking transport), then
    ``registry.build``."""
    providers = ProvidersSettings(**{adapter.name: dict(fields)})
    selection = registry.Selection(chain=(adapter.name,))
    tracker = Tracker()
    clients = [
        (name, make_client(section, default_timeout_s=5.0, transport=tracker))
        for name, section in registry.client_sections(selection, providers).items()
    ]
    try:
        [provider] = registry.build(selection, providers, dict(clients))
    except BaseException:
        for _, client in clients:
            await client.aclose()
        raise
    return Built(provider, tracker, [client for _, client in clients])


class Counting:
    """A provider that counts its ``generate`` calls and what each returned."""

    def __init__(self, inner: Provider) -> None:
        self._inner = inner
        self.name = inner.name
        self.capabilities: Capabilities = inner.capabilities
        self.returned: list[int] = []

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        images = await self._inner.generate(request, on_progress=on_progress)
        self.returned.append(len(images))
        return images

    async def check(self) -> ProviderHealth:
        return await self._inner.check()

    async def aclose(self) -> None:
        await self._inner.aclose()


def png(width: int = 64, height: int = 48) -> bytes:
    """A small reference image."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), (180, 90, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


@contextlib.contextmanager
def tasks_made_by_bot() -> Iterator[list[asyncio.Task[Any]]]:
    """Every task created, while inside, from code of the ``bot`` package (a provider's helpers)."""
    loop = asyncio.get_running_loop()
    previous = loop.get_task_factory()
    made: list[asyncio.Task[Any]] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        task = previous(loop, coro, **kwargs) if previous else asyncio.Task(coro, loop=loop, **kwargs)
        if any(frame.filename.startswith(_BOT) for frame in traceback.extract_stack()):
            made.append(task)
        return task  # type: ignore[return-value]

    loop.set_task_factory(factory)  # type: ignore[arg-type]
    try:
        yield made
    finally:
        loop.set_task_factory(previous)
