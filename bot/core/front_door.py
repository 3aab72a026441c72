"""The one narrow door platform adapters go through (``Adapter.attach(front)``).

Adapters translate their platform's updates into :class:`~bot.core.messages.Incoming` (text for the
router, or an already typed ``intent`` for slash-command options, buttons and forms) and ask for the
few things they show: an image's files, a generation's details, provider and model names for
autocompletion, the service's status, the gallery. They never see the composition object, the
database or the queue; rights are decided behind this door.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core.gallery import GalleryStore
from bot.core.messages import Incoming
from bot.core.schedules.board import ScheduleBoard
from bot.core.types import Deletion, GenerationRecord, StoredImage


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """What the status page shows: each provider's breaker state, the queue, the limits."""

    providers: tuple[tuple[str, str], ...]
    """(name, breaker state: closed, open or half-open), in chain order."""
    waiting: int
    running: int
    max_waiting: int
    workers: int
    limits: Mapping[str, Any] = field(default_factory=dict)


class FrontDoor(Protocol):
    async def handle(self, message: Incoming, *, addressed: bool = True) -> int | None:
        """Answer one message (or typed action); return the id of the job it queued, if any. The user's
        mistakes are answered in the chat, never raised."""
        ...

    async def authorize_delete(self, message: Incoming, generation_id: int) -> Deletion:
        """The messages a Delete press may remove (``NotFound``/``InvalidInput`` with the answer)."""
        ...

    async def generation_in_chat(self, message: Incoming, generation_id: int) -> GenerationRecord | None:
        """The generation, when it belongs to the chat ``message`` came from (Original, embeds), was
        delivered to the inline message pressed when ``message`` is a press on one (Telegram's
        ``extra["inline_message_id"]``) and, if hidden (``/hide``), the sender is one who may show it
        again (its requester, an admin)."""
        ...

    async def generation(self, generation_id: int) -> GenerationRecord | None:
        """Any generation (the operator's web console and gallery)."""
        ...

    async def chat_language(self, platform: str, chat_id: str) -> str | None:
        """The chat's ``/settings language`` (``de``, ``es``, ``en``); None when it follows each sender
        (``auto`` or not set). The web chat's pages are shown in it."""
        ...

    async def image_bytes(self, image: StoredImage) -> bytes:
        """The file of a stored image."""
        ...

    def provider_names(self) -> list[str]:
        """The configured providers, in chain order (autocompletion, ``/settings provider``)."""
        ...

    def model_names(self) -> list[str]:
        """Model names the configured providers know of (autocompletion)."""
        ...

    def status(self) -> ServiceStatus: ...

    @property
    def gallery(self) -> GalleryStore: ...

    @property
    def schedules(self) -> ScheduleBoard:
        """What a schedules page shows of a chat; changes go through ``handle`` (``/schedule``)."""
        ...
