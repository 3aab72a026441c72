"""What the gallery and status pages read (the ``GalleryStore`` port) and the records it returns.

``bot.storage.gallery_repo`` implements it on SQL; adapters see only this module's types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class GalleryImage:
    index: int
    width: int
    height: int
    mime: str
    seed: int | None


@dataclass(frozen=True, slots=True)
class GalleryItem:
    id: int
    kind: str
    status: str
    prompt: str
    negative: str | None
    params: dict[str, Any]
    provider: str | None
    model: str | None
    parent_id: int | None
    error: str | None
    created_at: datetime
    chat: str
    """``platform:external_id``"""
    chat_id: int
    user: str
    user_id: int
    images: tuple[GalleryImage, ...]
    hidden: bool = False
    """Hidden by ``/hide``: left out of :meth:`GalleryStore.browse` unless it is asked to include them."""


@dataclass(frozen=True, slots=True)
class Lineage:
    item: GalleryItem
    parent: GalleryItem | None
    children: tuple[GalleryItem, ...]


@dataclass(frozen=True, slots=True)
class Facets:
    """What the gallery can be filtered by: (id, label) pairs and provider names."""

    chats: tuple[tuple[int, str], ...]
    users: tuple[tuple[int, str], ...]
    providers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecentError:
    job_id: int
    when: datetime
    platform: str
    error: str


class GalleryStore(Protocol):
    """Read-only queries over the whole history (the operator's view: every chat)."""

    async def ping(self) -> None:
        """Raises ``StorageError`` when the database cannot be reached."""
        ...

    async def browse(
        self,
        *,
        chat_id: int | None = None,
        user_id: int | None = None,
        provider: str | None = None,
        before_id: int | None = None,
        limit: int = 30,
        include_hidden: bool = False,
    ) -> list[GalleryItem]:
        """Finished generations with images, newest first; ``before_id`` pages further back; hidden ones
        (``/hide``) only with ``include_hidden``."""
        ...

    async def lineage(self, generation_id: int) -> Lineage | None:
        """The generation, the one it was made from and those made from it (oldest first), hidden or
        not (each says so: ``GalleryItem.hidden``)."""
        ...

    async def facets(self) -> Facets: ...

    async def recent_errors(self, *, limit: int = 10) -> list[RecentError]: ...
