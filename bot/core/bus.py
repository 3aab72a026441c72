"""Messages between replicas: the ``EventBus`` port, its topics, and the one in-process implementation.

Several replicas share one database; what one of them does must reach the others:

- ``jobs``: a job was queued (workers wake up instead of waiting for their next poll);
- ``cancel``: ``/cancel`` reached a job running on another replica (its worker stops it);
- ``outcomes``: a job ended (the scheduler and ``wait_for`` hear it wherever the job ran);
- ``settings``: a chat's settings changed (every replica forgets its cached copy);
- ``events.<replica>``: a job's progress for the replica that holds the user's connection (a web
  page's event stream, a Discord interaction, a Telegram status message);
- ``platform.<name>``: a reply for a platform whose connections only gateways hold (the web chat).

Messages are small JSON objects (PostgreSQL's NOTIFY takes 8000 bytes). The bus is best effort: the
database, not a message, says what is owed; a lost message only delays something a poll then finds.
``bot.coordination`` has the PostgreSQL (LISTEN/NOTIFY) and Redis (pub/sub) buses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from bot.core.types import Done, Failed, JobEvent, Progress, Queued, Started

log = logging.getLogger(__name__)

JOBS = "jobs"
CANCEL = "cancel"
OUTCOMES = "outcomes"
SETTINGS = "settings"
MAX_MESSAGE_BYTES = 7_500

Handler = Callable[[Mapping[str, Any]], Awaitable[None] | None]


def events_topic(replica: str) -> str:
    return f"events.{replica}"


def platform_topic(name: str) -> str:
    return f"platform.{name}"


class EventBus(Protocol):
    async def publish(self, topic: str, message: Mapping[str, Any]) -> None:
        """Send to every replica subscribed to ``topic`` (this one included); never raises."""
        ...

    def subscribe(self, topic: str, handler: Handler) -> None: ...

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


class Subscriptions:
    """Handlers by topic, called in the event loop (a handler's error is logged, not raised)."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def add(self, topic: str, handler: Handler) -> None:
        self._handlers.setdefault(topic, []).append(handler)

    @property
    def topics(self) -> list[str]:
        return list(self._handlers)

    async def dispatch(self, topic: str, message: Mapping[str, Any]) -> None:
        for handler in list(self._handlers.get(topic, ())):
            try:
                result = handler(message)
                if result is not None:
                    await result
            except Exception:
                log.exception("a handler of %s failed", topic)


class LocalBus:
    """One process: messages are handed to this process's handlers (the single-replica default)."""

    def __init__(self) -> None:
        self._subscriptions = Subscriptions()

    async def publish(self, topic: str, message: Mapping[str, Any]) -> None:
        await self._subscriptions.dispatch(topic, message)

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._subscriptions.add(topic, handler)

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        await asyncio.sleep(0)


# ----------------------------------------------------------------------------------------- codecs


def event_to_json(event: JobEvent) -> dict[str, Any]:
    """A job event as a message (a progress preview image does not travel: too large)."""
    match event:
        case Queued(position=position):
            return {"event": "queued", "position": position}
        case Started(provider=provider):
            return {"event": "started", "provider": provider}
        case Progress(fraction=fraction):
            return {"event": "progress", "fraction": fraction}
        case Done(generation_id=generation_id):
            return {"event": "done", "generation_id": generation_id}
        case Failed(reason=reason):
            return {"event": "failed", "reason": reason[:2000]}


def event_from_json(data: Mapping[str, Any]) -> JobEvent | None:
    match data.get("event"):
        case "queued":
            return Queued(position=int(data.get("position") or 1))
        case "started":
            return Started(provider=str(data.get("provider") or ""))
        case "progress":
            return Progress(fraction=float(data.get("fraction") or 0.0))
        case "done":
            return Done(generation_id=int(data.get("generation_id") or 0))
        case "failed":
            return Failed(reason=str(data.get("reason") or ""))
    return None
