"""Protocols the core depends on. Adapters, providers and storage implement them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from bot.core.types import (
    Capabilities,
    GenerationKind,
    GenerationRecord,
    Image,
    ImageRequest,
    JobEvent,
    ProviderHealth,
    Reply,
    StoredImage,
    UsageSummary,
)

ProgressCallback = Callable[[float, bytes | None], Awaitable[None]]
"""Called by providers with a fraction in [0, 1] and an optional preview image."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


@runtime_checkable
class Provider(Protocol):
    """An image backend. Every failure is raised as a ``bot.core.errors.ProviderError`` subclass."""

    name: str
    capabilities: Capabilities

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]: ...

    async def check(self) -> ProviderHealth: ...

    async def aclose(self) -> None: ...


class Responder(Protocol):
    """The way back to the user who sent a message (one conversation on one platform)."""

    async def send(self, reply: Reply) -> None: ...

    async def event(self, event: JobEvent) -> None:
        """Progress of the request being worked on (queued, started, progress, done, failed)."""
        ...


class HistoryStore(Protocol):
    """Users, chats, generations and their images, usage counters. All methods are keyword-only."""

    async def upsert_user(self, *, platform: str, external_id: str, display_name: str) -> int: ...

    async def upsert_chat(self, *, platform: str, external_id: str) -> int: ...

    async def get_chat_settings(self, *, chat_id: int) -> dict[str, Any]: ...

    async def set_chat_settings(self, *, chat_id: int, settings: Mapping[str, Any]) -> None: ...

    async def create_generation(
        self,
        *,
        chat_id: int,
        user_id: int,
        kind: GenerationKind,
        prompt: str,
        negative: str | None,
        params: Mapping[str, Any],
        parent_id: int | None,
        now: datetime,
    ) -> int:
        """Insert a generation with status ``running`` and ``started_at = now``; return its id."""
        ...

    async def complete_generation(
        self,
        *,
        generation_id: int,
        provider: str,
        model: str | None,
        images: Sequence[StoredImage],
        now: datetime,
    ) -> None:
        """Mark done, set provider/model/finished_at, insert the image rows in order."""
        ...

    async def fail_generation(
        self, *, generation_id: int, error: str, now: datetime, cancelled: bool = False
    ) -> None: ...

    async def get_generation(self, *, generation_id: int) -> GenerationRecord | None:
        """The generation with its images (in order), or None."""
        ...

    async def last_generation(self, *, chat_id: int) -> GenerationRecord | None:
        """The newest ``done`` generation with at least one image in the chat, or None."""
        ...

    async def list_generations(
        self, *, chat_id: int | None = None, limit: int = 10, offset: int = 0
    ) -> list[GenerationRecord]:
        """Newest first; all chats when chat_id is None."""
        ...

    async def add_usage(self, *, user_id: int, day: date, images: int) -> None: ...

    async def usage(self, *, user_id: int, day: date) -> UsageSummary: ...


class ArtifactStore(Protocol):
    """Image files under ``media_dir`` (``YYYY-MM-DD/<id>.<ext>`` + ``<id>.json`` sidecar)."""

    async def save(self, image: Image, *, metadata: Mapping[str, Any], now: datetime) -> StoredImage:
        """Write the bytes and the sidecar; the id and path are chosen here, never from input."""
        ...

    async def load(self, stored: StoredImage) -> bytes: ...
