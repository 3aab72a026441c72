"""What the web chat's routes need from the server they run in (``WebAdapter`` is one): the guards,
the live event hub, the front door and a few of the server's own facts. The routes depend on this,
not on the adapter, so the adapter can build them without an import circle."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

from bot.core.front_door import FrontDoor
from bot.core.gallery import GalleryStore
from bot.core.types import StoredImage
from bot.observability.metrics import PrometheusMetrics
from bot.platforms.web.hub import EventHub
from bot.platforms.web.security import Guard

__all__ = ["Site"]


class Site(Protocol):
    guard: Guard
    hub: EventHub
    max_upload_bytes: int
    metrics: PrometheusMetrics | None

    @property
    def front(self) -> FrontDoor:
        """Raises 503 while Easel is starting."""
        ...

    @property
    def gallery(self) -> GalleryStore: ...

    def scheduler_state(self) -> str:
        """``running``, ``stopped`` or ``absent``."""
        ...

    def reply_image(self, image_id: str) -> StoredImage | None:
        """An image of a reply without a generation id (served as ``/files/<id>``)."""
        ...

    async def chat_language(self, chat: str) -> str | None:
        """The web conversation's ``/settings language`` (None: not set, or not known)."""
        ...

    def collect(self, request_id: str) -> AbstractContextManager[list[dict[str, Any]]]:
        """Replies to that request go to the list, not to the pages."""
        ...
