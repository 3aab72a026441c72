"""Live updates for the browsers: every event published here goes to every open ``/api/events``
stream (Server-Sent Events) of its conversation (the event's ``chat``). The last ``history`` events are
kept so a page that (re)connects sees what happened since the server started (older history is read
from the database: :mod:`.history`); ``Last-Event-ID`` makes a reconnect replay only what it missed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.core.ids import ascii_int

KEEPALIVE_S = 15.0
SUBSCRIBER_BACKLOG = 200
"""A browser that falls this far behind is dropped; EventSource reconnects and replays."""


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    data: dict[str, Any]
    epoch: str = ""

    def encode(self) -> bytes:
        body = json.dumps(self.data, separators=(",", ":"))
        return f"id: {self.epoch}.{self.id}\ndata: {body}\n\n".encode()


class EventHub:
    def __init__(self, *, history: int = 300) -> None:
        self._epoch = secrets.token_hex(4)
        """Event ids are ``<epoch>.<n>``: after a restart a page's Last-Event-ID is from another epoch
        and it is sent everything, rather than only what comes after its old number."""
        self._next_id = 1
        self._recent: deque[Event] = deque(maxlen=history)
        self._subscribers: set[asyncio.Queue[Event | None]] = set()
        self._closed = False

    def publish(self, data: dict[str, Any], *, keep: bool = True) -> int:
        """Send ``data`` to every browser; return the event id (the "message id" of a reply).
        ``keep=False``: live only, not replayed to pages that connect later (progress ticks)."""
        event = Event(self._next_id, data, self._epoch)
        self._next_id += 1
        if keep:
            self._recent.append(event)
        for queue in list(self._subscribers):
            if queue.qsize() >= SUBSCRIBER_BACKLOG:
                self._subscribers.discard(queue)
                queue.put_nowait(None)
            else:
                queue.put_nowait(event)
        return event.id

    def recent(self, after: int = 0, *, chat: str | None = None) -> list[Event]:
        """Kept events after ``after`` (of the conversation ``chat``, when given), oldest first."""
        return [e for e in self._recent if e.id > after and (chat is None or e.data.get("chat") == chat)]

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Event | None]]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        if self._closed:
            queue.put_nowait(None)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    def close(self) -> None:
        """End every stream (the server is stopping)."""
        self._closed = True
        for queue in list(self._subscribers):
            queue.put_nowait(None)
        self._subscribers.clear()

    async def stream(self, request: web.Request, *, chat: str | None = None) -> web.StreamResponse:
        """``GET /api/events``: replay what the browser missed, then follow live (only the events of
        the conversation ``chat``, when given)."""
        epoch, _, number = (request.headers.get("Last-Event-ID") or "").partition(".")
        after = (ascii_int(number) or 0) if epoch == self._epoch else 0
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }  # the security headers are added as it is prepared (``web_security.add_security_headers``)
        )
        async with self.subscribe() as queue:
            await response.prepare(request)
            with contextlib.suppress(ConnectionResetError):  # the page was closed or navigated away
                await self._follow(response, queue, after, chat)
        return response

    async def _follow(
        self, response: web.StreamResponse, queue: asyncio.Queue[Event | None], after: int, chat: str | None
    ) -> None:
        await response.write(b"retry: 2000\n\n")
        for missed in self.recent(after, chat=chat):
            await response.write(missed.encode())
        while True:
            try:
                async with asyncio.timeout(KEEPALIVE_S):
                    event = await queue.get()
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if event is None:
                return
            if event.id > after and (chat is None or event.data.get("chat") == chat):
                await response.write(event.encode())
