"""Platform-free value types that flow between adapters, the router, the service and providers."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Aspect:
    """An aspect ratio such as 16:9 (always stored reduced to lowest terms is not required)."""

    width: int
    height: int

    def __str__(self) -> str:
        return f"{self.width}:{self.height}"

    @property
    def ratio(self) -> float:
        return self.width / self.height

    def size_for(self, long_side: int, *, multiple: int = 8) -> tuple[int, int]:
        """Pixel size with the given long side, both sides rounded to ``multiple``."""
        if self.width >= self.height:
            w, h = float(long_side), long_side * self.height / self.width
        else:
            w, h = long_side * self.width / self.height, float(long_side)
        return (
            max(multiple, round(w / multiple) * multiple),
            max(multiple, round(h / multiple) * multiple),
        )


SQUARE = Aspect(1, 1)


class GenerationKind(enum.StrEnum):
    GENERATE = "generate"
    EDIT = "edit"
    REROLL = "reroll"
    VARY = "vary"
    UPSCALE = "upscale"


class GenerationStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# ------------------------------------------------------------------------------------- generation


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """What a provider is asked to make. ``reference_images`` are encoded image bytes."""

    prompt: str
    aspect: Aspect = SQUARE
    n: int = 1
    seed: int | None = None
    negative: str | None = None
    model: str | None = None
    provider: str | None = None
    quality: str | None = None
    kind: GenerationKind = GenerationKind.GENERATE
    reference_images: tuple[bytes, ...] = ()
    mask: bytes | None = None
    source_prompt: str | None = None
    """For edits and variations: the prompt that produced the reference image."""
    upscale_factor: int = 2
    """For an upscale (``kind`` UPSCALE, the image in ``reference_images``): how many times larger."""
    made_by: str | None = None
    """For an upscale: the provider that made the image, asked first (``provider`` still pins one)."""
    seed_given: bool = False
    """The user chose ``seed`` (``--seed``); otherwise the core picked it, and a provider that cannot
    take a seed drops it without a note."""
    moderation: str | None = None
    """How strictly a provider that offers a level filters: ``low`` under the chat's content policy
    ``off``; None: the provider's default (OpenAI's ``auto``)."""


@dataclass(frozen=True, slots=True)
class Image:
    """One generated image, as a provider returns it."""

    data: bytes
    mime: str
    width: int
    height: int
    seed: int | None = None
    provider: str = ""
    model: str | None = None
    revised_prompt: str | None = None
    notes: tuple[str, ...] = ()
    """What the provider changed to make it, for the user (a GIF reference sent as its first frame);
    the chain merges them into :attr:`GenerationResult.notes`."""
    flagged: bool = False
    """The provider's content filter flagged it but sent it anyway (Stability's ``CONTENT_FILTERED``:
    a blurred image); the chat's content policy decides what becomes of it
    (:func:`bot.core.content.policy.screen`)."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    edit: bool = False
    max_n: int = 1
    aspects: tuple[Aspect, ...] | None = None
    """Supported aspect ratios; None means any."""
    negative_prompt: bool = False
    seed: bool = False
    max_reference_images: int = 0
    preview: bool = False
    """Its images are previews (the offline renderer): captions say so, and its notes are shown."""
    upscale: bool = False
    """It can enlarge an image itself (``bot.core.ports.Upscaler``); otherwise the core does Lanczos."""


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class GenerationResult:
    images: tuple[Image, ...]
    provider: str
    model: str | None
    notes: tuple[str, ...] = ()
    """What the chain changed on the user's behalf (nearest aspect, ignored flag, fallback used)."""


# ----------------------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Queued:
    position: int


@dataclass(frozen=True, slots=True)
class Started:
    provider: str


@dataclass(frozen=True, slots=True)
class Progress:
    fraction: float
    preview: bytes | None = None


@dataclass(frozen=True, slots=True)
class Done:
    generation_id: int


@dataclass(frozen=True, slots=True)
class Failed:
    reason: str


JobEvent = Queued | Started | Progress | Done | Failed


# ----------------------------------------------------------------------------------------- storage


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An image saved by the artifact store. ``id`` names the file; ``path`` is absolute."""

    id: str
    path: Path
    mime: str
    sha256: str
    size_bytes: int
    width: int
    height: int
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        """As kept in a job's payload or a generation's parameters."""
        return {
            "id": self.id,
            "path": str(self.path),
            "mime": self.mime,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "width": self.width,
            "height": self.height,
            "seed": self.seed,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoredImage:
        seed = data.get("seed")
        return cls(
            id=str(data["id"]),
            path=Path(str(data["path"])),
            mime=str(data["mime"]),
            sha256=str(data["sha256"]),
            size_bytes=int(data["size_bytes"]),
            width=int(data["width"]),
            height=int(data["height"]),
            seed=int(seed) if seed is not None else None,
        )


@dataclass(frozen=True, slots=True)
class GenerationRecord:
    id: int
    chat_id: int
    user_id: int
    kind: GenerationKind
    status: GenerationStatus
    prompt: str
    negative: str | None
    params: Mapping[str, Any]
    provider: str | None
    model: str | None
    parent_id: int | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    images: tuple[StoredImage, ...] = ()
    hidden: bool = False
    """Hidden by ``/hide``: left out of the history, the gallery and "the last image", still stored."""
    hidden_by_admin: bool = False
    """Hidden by a chat admin or the operator: only an admin may show it again, and for everyone else,
    its requester too, it is not there."""


@dataclass(frozen=True, slots=True)
class UsageSummary:
    images_today: int
    images_total: int
    spend_today: float = 0.0
    spend_total: float = 0.0


# ----------------------------------------------------------------------------------------- replies


DELIVERY_KEY = "delivery_key"
"""``Reply.extra`` key: a stable idempotency key of one send (``job-12``: job 12's result), the same in
every process; how it is used is the platform's business (Discord: message nonces)."""


class Action(enum.StrEnum):
    REROLL = "reroll"
    VARY = "vary"
    UPSCALE = "upscale"
    EDIT = "edit"
    ORIGINAL = "original"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Reply:
    """What the service answers. Adapters render it natively (photo + caption + buttons, ...)."""

    text: str
    images: tuple[StoredImage, ...] = ()
    generation_id: int | None = None
    actions: tuple[Action, ...] = ()
    notes: tuple[str, ...] = ()
    is_error: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Hints for the platform; ``extra[DELIVERY_KEY]``: an idempotency key for this send (the same key
    again, as after a restart, means the same answer: a platform that can, does not post it twice)."""
    spoiler: bool = False
    """Show its images hidden until opened (the chat's content policy): Telegram ``has_spoiler``,
    Discord ``SPOILER_`` file names, blurred in the web chat until clicked."""


@dataclass(frozen=True, slots=True)
class Deletion:
    """What a Delete press removes: the platform messages that showed a generation, and where they are
    (read from the recorded deliveries, never from the button)."""

    generation_id: int
    messages: tuple[tuple[Target, tuple[str, ...]], ...]

    @property
    def message_ids(self) -> tuple[str, ...]:
        return tuple(message_id for _, ids in self.messages for message_id in ids)


# --------------------------------------------------------------------------------------------- jobs


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    GENERATED = "generated"
    """Images saved, not yet delivered: a restart delivers them without generating again."""
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.GENERATED)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a job's answers go: a platform, a chat there, and platform-specific details."""

    platform: str
    chat_id: str
    user_id: str = ""
    reply_to_message_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    locale: str | None = None
    """The language its answers are in (``bot.core.i18n``), resolved when the request came in; None:
    English."""

    def to_json(self) -> dict[str, Any]:
        data = {
            "platform": self.platform,
            "chat_id": self.chat_id,
            "user_id": self.user_id,
            "reply_to_message_id": self.reply_to_message_id,
            "extra": dict(self.extra),
        }
        return data | ({"locale": self.locale} if self.locale else {})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Target:
        return cls(
            platform=str(data["platform"]),
            chat_id=str(data["chat_id"]),
            user_id=str(data.get("user_id") or ""),
            reply_to_message_id=data.get("reply_to_message_id"),
            extra=dict(data.get("extra") or {}),
            locale=data.get("locale") or None,
        )


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: int
    status: JobStatus
    platform: str
    chat_id: int
    user_id: int
    target: Target
    payload: Mapping[str, Any]
    attempts: int
    generation_id: int | None
    after_job_id: int | None
    images_reserved: int
    usage_day: date | None
    est_cost: float
    created_at: datetime
    error: str | None = None
    user_message: str | None = None
    notified: bool = False
    lease_owner: str | None = None
    """The replica working on it now (its lease may have expired: see ``JobStore.claim``)."""
