"""A responder that records what the service says, for assertions."""

from __future__ import annotations

from bot.core.types import JobEvent, Reply


class RecordingResponder:
    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.events: list[JobEvent] = []

    async def send(self, reply: Reply) -> None:
        self.replies.append(reply)

    async def event(self, event: JobEvent) -> None:
        self.events.append(event)

    @property
    def last(self) -> Reply:
        return self.replies[-1]
