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
    JobRecord,
    JobStatus,
    ProviderHealth,
    Reply,
    StoredImage,
    Target,
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


@runtime_checkable
class Upscaler(Protocol):
    """A provider that can enlarge an image itself (``Capabilities.upscale``). Optional: the chain
    enlarges with Lanczos when no provider can, so a Provider needs nothing of this."""

    async def upscale(self, image: bytes, factor: int, *, on_progress: ProgressCallback) -> Image | None:
        """``image`` ``factor`` times larger, or None when this provider cannot for this image (the
        offline renderer enlarges only the pictures it drew). Failures as in ``Provider.generate``."""
        ...


class HistoryStore(Protocol):
    """Users, chats, generations and their images, usage counters. All methods are keyword-only."""

    async def upsert_user(self, *, platform: str, external_id: str, display_name: str) -> int: ...

    async def upsert_chat(self, *, platform: str, external_id: str) -> int: ...

    async def upsert_identity(
        self, *, platform: str, user_external_id: str, display_name: str, chat_external_id: str
    ) -> tuple[int, int, dict[str, Any]]:
        """``upsert_user`` and ``upsert_chat`` in one transaction: (user id, chat id, chat settings)."""
        ...

    async def get_chat_settings(self, *, chat_id: int) -> dict[str, Any]: ...

    async def set_chat_settings(self, *, chat_id: int, settings: Mapping[str, Any]) -> None: ...

    async def fail_generation(
        self, *, generation_id: int, error: str, now: datetime, cancelled: bool = False
    ) -> None: ...

    async def record_generation(
        self,
        *,
        chat_id: int,
        user_id: int,
        kind: GenerationKind,
        prompt: str,
        negative: str | None,
        params: Mapping[str, Any],
        parent_id: int | None,
        started: datetime,
        now: datetime,
        provider: str | None = None,
        model: str | None = None,
        images: Sequence[StoredImage] = (),
        error: str | None = None,
        cancelled: bool = False,
        job_id: int | None = None,
        owner: str | None = None,
    ) -> tuple[int, bool]:
        """Insert a finished generation in one transaction: ``done`` with its images in order, or
        ``failed``/``cancelled`` with ``error``. With ``job_id`` that job names it; a done one also moves
        the job to ``generated`` (under ``owner``'s lease, as ``JobStore.move``), so saved images and
        the job's state are committed together. Returns the generation's id and whether the job moved
        (False without ``job_id``, for a failure, or when ``owner`` no longer holds the job)."""
        ...

    async def get_generation(self, *, generation_id: int) -> GenerationRecord | None:
        """The generation with its images (in order), or None."""
        ...

    async def last_generation(self, *, chat_id: int) -> GenerationRecord | None:
        """The newest ``done`` generation with at least one image in the chat, not hidden, or None."""
        ...

    async def list_generations(
        self, *, chat_id: int | None = None, limit: int = 10, offset: int = 0, include_hidden: bool = False
    ) -> list[GenerationRecord]:
        """Newest first; all chats when chat_id is None; hidden ones (``/hide``) only when asked for."""
        ...

    async def set_hidden(self, *, generation_id: int, hidden: bool, by_admin: bool = False) -> None:
        """Hide a generation from the history, the gallery and "the last image" (its rows and files
        stay), or show it again. ``by_admin``: a chat admin or the operator does it; their hide marks it
        ``hidden_by_admin`` (a later hide by its requester keeps that), which only their unhide clears.
        ``NotFound`` when there is no such generation; ``InvalidInput`` when an unhide not
        ``by_admin`` meets one an admin hid (checked in the same statement that changes it)."""
        ...

    async def delete_generation(self, *, generation_id: int) -> list[StoredImage]:
        """Remove the generation and its images from the history in one transaction; return the
        images, whose files the caller removes (``ArtifactStore.remove``). Generations made from it keep
        working without a parent, jobs that named it keep their rows, the messages that showed it are
        forgotten. ``NotFound`` when there is no such generation, ``InvalidInput`` while a job is still
        delivering it."""
        ...

    async def add_usage(self, *, user_id: int, day: date, images: int, est_cost: float = 0.0) -> None:
        """Add (or, with negative numbers, give back) images and estimated spend for a day."""
        ...

    async def reserve_usage(
        self, *, user_id: int, day: date, images: int, est_cost: float, quota: int | None
    ) -> bool:
        """Atomically count ``images`` against the day's quota; False (and nothing counted) if over it.

        Safe under concurrency: twenty simultaneous reservations against a quota of five accept five.
        """
        ...

    async def usage(self, *, user_id: int, day: date) -> UsageSummary: ...


class JobStore(Protocol):
    """The durable queue's rows. The database, not memory, says what is owed to whom after a crash."""

    async def create_job(
        self,
        *,
        idempotency_key: str | None,
        platform: str,
        chat_id: int,
        user_id: int,
        target: Target,
        payload: Mapping[str, Any],
        images_reserved: int,
        usage_day: date | None,
        est_cost: float,
        after_job_id: int | None,
        now: datetime,
        count_usage: bool = False,
        quota: int | None = None,
    ) -> tuple[int, bool] | None:
        """Insert a queued job; return its id and True, or, when the idempotency key is taken
        (the same platform update delivered twice), the existing job's id and False.

        ``count_usage``: in the same transaction, count ``images_reserved`` (and ``est_cost``) against
        the user's ``usage_day`` within ``quota`` (None: no cap); None, and nothing written, when the
        quota has no room. A duplicate key counts nothing."""
        ...

    async def find_job(self, *, idempotency_key: str) -> JobRecord | None: ...

    async def get_job(self, *, job_id: int) -> JobRecord | None: ...

    async def open_jobs(self) -> list[JobRecord]:
        """Jobs owed work or an answer: queued, running, generated, or failed/cancelled not yet told."""
        ...

    async def latest_open_job(self, *, chat_id: int) -> int | None:
        """The newest queued/running/generated job in the chat, if any."""
        ...

    async def move(
        self,
        *,
        job_id: int,
        to: JobStatus,
        now: datetime,
        error: str | None = None,
        user_message: str | None = None,
        notified: bool = False,
        attempt: bool = False,
        owner: str | None = None,
    ) -> JobRecord | None:
        """The one way a job's status changes: to ``to``, only from the states
        ``bot.core.jobs.lifecycle.MOVES`` allows, and only by ``owner``, the replica holding its lease
        (without ``owner``: only while nobody holds it), in the same statement. ``attempt`` counts a
        start, ``notified`` says the user has been told; a final state lets go of the lease. Returns
        the job as moved, or None when it may not move (another state, another holder, no such job)."""
        ...

    async def claim(
        self, *, owner: str, platforms: Sequence[str], now: datetime, lease_s: float
    ) -> JobRecord | None:
        """Lease the next job owed work that nobody holds, for one of ``platforms``, to ``owner`` for
        ``lease_s`` seconds: the user served least recently first, a job waiting on an earlier open
        job of its chat skipped. Safe for workers of several replicas at once."""
        ...

    async def claim_next(
        self, *, owner: str, platforms: Sequence[str], now: datetime, lease_s: float
    ) -> tuple[JobRecord | None, bool]:
        """``claim``, and whether another job was owed work and free at the time (a hint: False means
        asking again at once would find nothing, until a job is queued, freed, or a lease expires)."""
        ...

    async def has_work(self, *, platforms: Sequence[str], now: datetime) -> bool:
        """Whether a job for one of ``platforms`` is owed work and held by nobody."""
        ...

    async def renew(self, *, owner: str, job_ids: Sequence[int], now: datetime, lease_s: float) -> set[int]:
        """Extend ``owner``'s leases; return the ids it still holds (the others were taken over)."""
        ...

    async def release(self, *, owner: str, job_id: int) -> None:
        """Let go of a job left open (to be taken up again, here or elsewhere)."""
        ...

    async def release_platforms(self, *, platforms: Sequence[str]) -> int:
        """Let go of every lease on the jobs of ``platforms`` (held by a previous run of a process that
        is the only one serving them: SQLite's one ``easel run``, the console); return how many."""
        ...

    async def queue_counts(self, *, now: datetime) -> tuple[int, int]:
        """(waiting jobs, jobs being worked on), over every replica."""
        ...

    async def position(self, *, job_id: int, now: datetime) -> int | None:
        """A waiting job's place in the claim order (1 = next), or None when it is not waiting."""
        ...

    async def open_jobs_in(self, *, chat_id: int, user_id: int | None = None) -> list[JobRecord]:
        """The chat's queued or running jobs (one user's, with ``user_id``), over every replica."""
        ...

    async def record_delivery(
        self,
        *,
        job_id: int,
        kind: str,
        platform: str,
        message_ids: Sequence[str],
        now: datetime,
        shown: tuple[str, int] | None = None,
        owner: str | None = None,
    ) -> None:
        """Remember a send, in the same transaction moving the job to done (a result; by ``owner``,
        as ``move``) or marking it told (a failure notice). ``shown`` (chat id, generation id): the
        messages show that generation, so a reply to one of them names it."""
        ...

    async def delivered(self, *, job_id: int, kind: str) -> bool: ...

    async def generation_shown_in(self, *, platform: str, chat_id: str, message_id: str) -> int | None:
        """The generation a delivered message shows, if it is one of ours."""
        ...

    async def result_messages(self, *, generation_id: int) -> list[tuple[Target, list[str]]]:
        """For each delivered result showing the generation: its job's target and message ids."""
        ...


class SlotClaims(Protocol):
    """Concurrency slots taken without waiting, shared by every replica: what keeps one backend (a
    single-GPU server) at its cap whichever replica calls it."""

    async def claim(self, name: str, limit: int) -> Callable[[], Awaitable[None]] | None:
        """Take one of ``name``'s ``limit`` slots if one is free now, and return what gives it back
        (it is held, and renewed, until then); ``None`` when all are taken or the store is unreachable."""
        ...


class Platform(Protocol):
    """A chat platform as the core sees it: somewhere to send replies and progress."""

    name: str

    async def send(self, target: Target, reply: Reply) -> list[str]:
        """Deliver a reply; return the platform's message ids."""
        ...

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        """Show a job's progress (queued position, started, percent, done, failed)."""
        ...

    async def delete(self, target: Target, message_ids: Sequence[str]) -> None:
        """Remove messages this platform sent to the target's chat (those already gone are skipped);
        a platform that cannot remove a sent message does nothing. Raises ``DeliveryFailed``."""
        ...


class ArtifactStore(Protocol):
    """Image files under ``media_dir`` (``YYYY-MM-DD/<id>.<ext>`` + ``<id>.json`` sidecar)."""

    async def save(self, image: Image, *, metadata: Mapping[str, Any], now: datetime) -> StoredImage:
        """Write the bytes and the sidecar; the id and path are chosen here, never from input."""
        ...

    async def load(self, stored: StoredImage) -> bytes: ...

    async def remove(self, images: Sequence[StoredImage]) -> None:
        """Delete the images' files and their sidecars (those already gone are skipped); refuses
        paths outside ``media_dir``."""
        ...


class Metrics(Protocol):
    """What the core reports for monitoring (``/metrics``). Every method must be cheap and never raise."""

    def generation_seconds(self, provider: str, seconds: float) -> None:
        """One successful provider call (retries included) took ``seconds``."""
        ...

    def provider_error(self, provider: str, kind: str) -> None:
        """A provider call failed for good (after its retries); ``kind`` is the error class name."""
        ...

    def job_finished(self, outcome: str) -> None:
        """A job ended: ``done``, ``failed`` or ``cancelled``."""
        ...

    def delivered(self, platform: str) -> None:
        """A result was delivered on ``platform``."""
        ...

    def rate_limited(self, scope: str) -> None:
        """A request was refused by a limit: ``user``, ``chat``, ``overall``, ``queue`` or ``daily``."""
        ...

    def watch_queue(self, queued: Callable[[], int], running: Callable[[], int]) -> None:
        """Read the queue's depth (waiting jobs) and running jobs whenever metrics are collected."""
        ...


class NoMetrics:
    """The default :class:`Metrics`: records nothing."""

    def generation_seconds(self, provider: str, seconds: float) -> None:
        pass

    def provider_error(self, provider: str, kind: str) -> None:
        pass

    def job_finished(self, outcome: str) -> None:
        pass

    def delivered(self, platform: str) -> None:
        pass

    def rate_limited(self, scope: str) -> None:
        pass

    def watch_queue(self, queued: Callable[[], int], running: Callable[[], int]) -> None:
        pass


NO_METRICS = NoMetrics()
