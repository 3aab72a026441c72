"""A platform that records what Easel sends, for assertions; it can be told to fail."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.errors import DeliveryFailed
from bot.core.types import JobEvent, Reply, Target


@dataclass
class Sent:
    target: Target
    reply: Reply


@dataclass
class RecordingPlatform:
    name: str = "test"
    sent: list[Sent] = field(default_factory=list)
    events: list[tuple[int, JobEvent]] = field(default_factory=list)
    deleted: list[tuple[Target, list[str]]] = field(default_factory=list)
    fail_sends: int = 0
    """How many of the next sends raise a transient DeliveryFailed."""
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def send(self, target: Target, reply: Reply) -> list[str]:
        if self.fail_sends:
            self.fail_sends -= 1
            raise DeliveryFailed("platform down", permanent=False)
        self.sent.append(Sent(target, reply))
        return [f"m{len(self.sent)}"]

    async def delete(self, target: Target, message_ids: Sequence[str]) -> None:
        self.deleted.append((target, list(message_ids)))

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        self.events.append((job_id, event))
        async with self._changed:
            self._changed.notify_all()

    async def wait_for_event(self, kind: type[JobEvent], job_id: int) -> None:
        """Until the job has reported an event of this kind."""
        async with self._changed:
            await self._changed.wait_for(
                lambda: any(jid == job_id and isinstance(e, kind) for jid, e in self.events)
            )

    @property
    def replies(self) -> list[Reply]:
        return [item.reply for item in self.sent]

    def replies_to(self, chat_id: str) -> list[Reply]:
        return [item.reply for item in self.sent if item.target.chat_id == chat_id]
