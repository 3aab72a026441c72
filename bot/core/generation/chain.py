"""The provider chain: fit a request to a provider's capabilities, enforce the deadline, fail over.

Only transient failures (rate limits, outages, time-outs) are retried and then move on to the next
provider; refusals and invalid requests are the user's answer and are raised at once. Each provider has
a circuit breaker (a provider that keeps failing is skipped for a while) and, optionally, a limit on
simultaneous calls. ``timeout_s`` bounds one whole ``generate()``: every provider, retry, backoff and
wait for a concurrency slot counts against it.

Breakers (``BreakerStore``) and slots (``Slots``) are ports: in this process by default
(``MemoryBreakers``, ``MemorySlots``), shared by every replica when the composition root passes the
Redis ones from ``bot.coordination``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from bot.core.errors import (
    InvalidInput,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    TransientProviderError,
    Unavailable,
)
from bot.core.generation.fitting import fit_to_capabilities, identical_notes
from bot.core.generation.resilience import (
    BreakerPass,
    BreakerPolicy,
    BreakerState,
    BreakerStore,
    MemoryBreakers,
    RetryPolicy,
    about,
    call_with_retries,
)
from bot.core.generation.upscale import MAX_UPSCALED_SIDE, lanczos, lanczos_note, upscalers
from bot.core.i18n import _
from bot.core.ports import NO_METRICS, Metrics, ProgressCallback, Provider, Upscaler
from bot.core.types import GenerationKind, GenerationResult, Image, ImageRequest

log = logging.getLogger(__name__)
T = TypeVar("T")

PROBE_MARGIN_S = 30.0
"""A half-open probe unanswered this long after the chain's own deadline is presumed lost."""


class Slots(Protocol):
    """Caps on simultaneous calls by name, in this process or across every replica."""

    def hold(self, name: str, limit: int) -> contextlib.AbstractAsyncContextManager[None]:
        """Wait for one of ``name``'s ``limit`` slots and hold it for the ``async with`` body."""
        ...


class MemorySlots:
    """``Slots`` for one process: an ``asyncio.Semaphore`` per name (the single-process default)."""

    def __init__(self) -> None:
        self._semaphores: dict[str, asyncio.Semaphore] = {}

    @contextlib.asynccontextmanager
    async def hold(self, name: str, limit: int) -> AsyncIterator[None]:
        semaphore = self._semaphores.get(name)
        if semaphore is None:
            semaphore = self._semaphores[name] = asyncio.Semaphore(limit)
        async with semaphore:
            yield


class ProviderChain:
    """Providers tried in order, each behind retries, a circuit breaker and an optional concurrency cap.

    ``retry`` says how often one provider is retried; ``breaker_failures`` consecutive failed calls
    (each after its retries) pause a provider for ``breaker_reset_s``; ``concurrency`` caps calls into
    the named providers. ``clock`` (monotonic seconds) decides whether a wait still fits the deadline
    and drives the default in-memory breakers; ``sleep`` makes the waits. Both are injected so tests
    need no real time; the deadline itself is enforced with ``asyncio.timeout`` in event-loop time.
    ``breakers`` and ``slots`` default to this process's memory; pass shared ones for several replicas.
    """

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        timeout_s: float,
        retry: RetryPolicy = RetryPolicy(),
        breaker_failures: int = 5,
        breaker_reset_s: float = 60.0,
        concurrency: Mapping[str, int] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        metrics: Metrics | None = None,
        breakers: BreakerStore | None = None,
        slots: Slots | None = None,
        slot_names: Mapping[str, str] | None = None,
    ) -> None:
        if not providers:
            raise ValueError("a provider chain needs at least one provider")
        self._providers = list(providers)
        self._timeout_s = timeout_s
        self._retry = retry
        self._clock = clock
        self._sleep = sleep
        self._metrics = metrics or NO_METRICS
        self._policy = BreakerPolicy(
            failure_threshold=breaker_failures,
            reset_after_s=breaker_reset_s,
            probe_ttl_s=timeout_s + PROBE_MARGIN_S,
        )
        self._breakers: BreakerStore = breakers if breakers is not None else MemoryBreakers(clock=clock)
        self._slots: Slots = slots if slots is not None else MemorySlots()
        self._slot_names = dict(slot_names or {})
        """Provider → the name its slots are shared under (one per backend: its address, hashed)."""
        self._limits: dict[str, int] = {}
        for name, limit in (concurrency or {}).items():
            if limit < 1:
                raise ValueError(f"concurrency for {name!r} must be >= 1")
            self._limits[name] = limit

    def is_preview(self, name: str) -> bool:
        """Whether the named provider makes previews (``Capabilities.preview``)."""
        return any(p.name == name and p.capabilities.preview for p in self._providers)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self._providers]

    @property
    def primary(self) -> Provider:
        return self._providers[0]

    def health(self) -> dict[str, BreakerState]:
        """Each provider's breaker state, in chain order, as this process last saw it (no I/O)."""
        return {name: s.state for name, s in self._breakers.last_known(self.names, self._policy).items()}

    async def current_health(self) -> dict[str, BreakerState]:
        """Each provider's breaker state, in chain order, as shared by every replica now."""
        statuses = await self._breakers.statuses(self.names, self._policy)
        return {name: status.state for name, status in statuses.items()}

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> GenerationResult:
        """Run the request on the first provider that can take it, failing over on transient errors."""
        if request.kind is GenerationKind.UPSCALE:
            return await self._upscale(request, on_progress)
        candidates = self._candidates(request)
        current = candidates[0].name
        deadline = self._clock() + self._timeout_s
        notes: list[str] = []
        failed: list[str] = []
        last_error: TransientProviderError | None = None
        try:
            async with asyncio.timeout(self._timeout_s):
                for provider in candidates:
                    ticket = await self._breakers.allow(provider.name, self._policy)
                    if ticket is None:
                        notes.append(
                            _(
                                "{provider} is paused after repeated failures; trying the next provider."
                            ).format(provider=provider.name)
                        )
                        log.info("provider %s skipped: its circuit breaker is open", provider.name)
                        continue
                    current = provider.name
                    fitted, fit_notes = fit_to_capabilities(request, provider)
                    try:
                        images = await self._call_in_batches(provider, ticket, fitted, on_progress, deadline)
                    except TransientProviderError as exc:
                        last_error = exc
                        failed.append(provider.name)
                        log.warning("provider %s failed transiently: %s", provider.name, exc)
                        continue
                    if failed:
                        notes.append(
                            _("{failed} was unavailable, so {provider} made this image.").format(
                                failed=failed[0], provider=provider.name
                            )
                        )
                    return GenerationResult(
                        images=tuple(images),
                        provider=provider.name,
                        model=images[0].model if images else None,
                        notes=_unique(
                            *notes,
                            *fit_notes,
                            *_provider_notes(images),
                            *identical_notes(images, provider.name),
                        ),
                    )
        except TimeoutError as exc:
            raise ProviderTimeout(
                f"{current} took longer than {self._timeout_s:.0f} s",
                provider=current,
                user_message=_("The image took too long ({seconds} s) and was abandoned.").format(
                    seconds=f"{self._timeout_s:.0f}"
                ),
            ) from exc
        if last_error is None:
            raise await self._all_paused(candidates)
        if isinstance(last_error, RateLimited):
            _explain_rate_limit(last_error)
        raise last_error

    async def _call_in_batches(
        self,
        provider: Provider,
        ticket: BreakerPass,
        request: ImageRequest,
        on_progress: ProgressCallback,
        deadline: float,
    ) -> list[Image]:
        """More images than the provider makes per call become several calls (seeds kept apart)."""
        per_call = max(1, provider.capabilities.max_n)
        if request.n <= per_call:
            return await self._call(provider, ticket, request, on_progress, deadline)
        images: list[Image] = []
        while len(images) < request.n:
            count = min(per_call, request.n - len(images))
            seed = request.seed + len(images) if request.seed is not None else None
            batch = dataclasses.replace(request, n=count, seed=seed)
            images += await self._call(provider, ticket, batch, on_progress, deadline)
        return images[: request.n]

    async def _call(
        self,
        provider: Provider,
        ticket: BreakerPass,
        request: ImageRequest,
        on_progress: ProgressCallback,
        deadline: float,
    ) -> list[Image]:
        """One provider with retries, under its concurrency slot; the outcome is told to its breaker."""

        async def attempt() -> list[Image]:
            return await provider.generate(request, on_progress=on_progress)

        return await self._guarded(provider, ticket, attempt, deadline)

    async def _upscale(self, request: ImageRequest, on_progress: ProgressCallback) -> GenerationResult:
        """The image larger, by the first provider with an upscaler that takes it (see
        ``bot.core.generation.upscale``), else with Lanczos and a note saying so."""
        data, factor = request.reference_images[0], request.upscale_factor
        failed: list[str] = []
        declined: list[str] = []
        deadline = self._clock() + self._timeout_s
        try:
            async with asyncio.timeout(self._timeout_s):
                for provider in upscalers(request, self._providers):
                    ticket = await self._breakers.allow(provider.name, self._policy)
                    if ticket is None:
                        continue
                    assert isinstance(provider, Upscaler)
                    attempt = functools.partial(provider.upscale, data, factor, on_progress=on_progress)
                    try:
                        image = await self._guarded(provider, ticket, attempt, deadline)
                    except ProviderError as exc:
                        log.warning("provider %s could not upscale: %s", provider.name, exc)
                        failed.append(provider.name)
                        continue
                    if image is None:
                        declined.append(provider.name)
                        continue
                    if max(image.width, image.height) > MAX_UPSCALED_SIDE:
                        log.warning("provider %s upscaled to %dx%d", provider.name, image.width, image.height)
                        failed.append(provider.name)
                        continue
                    said = (
                        _("{failed} could not upscale it, so {provider} did.").format(
                            failed=", ".join(failed), provider=provider.name
                        ),
                    )
                    return GenerationResult((image,), provider.name, image.model, said if failed else ())
                image = await lanczos(data, factor)
        except TimeoutError as exc:
            raise ProviderTimeout(
                f"upscale took longer than {self._timeout_s:.0f} s",
                provider=request.made_by or "",
                user_message=_("The upscale took too long ({seconds} s) and was abandoned.").format(
                    seconds=f"{self._timeout_s:.0f}"
                ),
            ) from exc
        await on_progress(1.0, None)
        note = lanczos_note(request, failed=failed, declined=declined)
        return GenerationResult((image,), image.provider, None, (note,))

    async def _guarded(
        self, provider: Provider, ticket: BreakerPass, attempt: Callable[[], Awaitable[T]], deadline: float
    ) -> T:
        """``attempt`` with retries, under the provider's slot; the outcome is told to its breaker."""
        started = self._clock()
        try:
            async with self._slot(provider.name):
                result = await call_with_retries(
                    attempt,
                    policy=self._retry,
                    provider=provider.name,
                    sleep=self._sleep,
                    deadline=deadline,
                    clock=self._clock,
                )
        except TransientProviderError as exc:
            await self._breakers.record_failure(ticket, self._policy)
            self._metrics.provider_error(provider.name, type(exc).__name__)
            raise
        except ProviderError as exc:
            await self._breakers.record_success(ticket)  # a refusal or a rejected request: it is up
            self._metrics.provider_error(provider.name, type(exc).__name__)
            raise
        except BaseException:
            # Cancelled, deadline, or a bug: no verdict on the provider. Shielded, so a second
            # cancellation cannot leave a shared probe taken until its TTL.
            await asyncio.shield(self._breakers.release(ticket))
            raise
        await self._breakers.record_success(ticket)
        self._metrics.generation_seconds(provider.name, self._clock() - started)
        return result

    @contextlib.asynccontextmanager
    async def _slot(self, name: str) -> AsyncIterator[None]:
        limit = self._limits.get(name)
        if limit is None:
            yield
            return
        async with self._slots.hold(self._slot_names.get(name, name), limit):
            yield

    async def _all_paused(self, candidates: Sequence[Provider]) -> Unavailable:
        statuses = await self._breakers.statuses([p.name for p in candidates], self._policy)
        wait = min(statuses[p.name].retry_in for p in candidates)
        names = ", ".join(p.name for p in candidates)
        return Unavailable(
            f"every candidate provider is paused by its circuit breaker: {names}",
            provider=candidates[0].name,
            user_message=_("All image providers are failing right now; try again in about {wait}.").format(
                wait=about(wait)
            ),
        )

    def _candidates(self, request: ImageRequest) -> list[Provider]:
        providers = self._providers
        if request.provider:
            providers = [p for p in self._providers if p.name == request.provider]
            if not providers:
                raise InvalidInput(
                    f"provider {request.provider!r} not configured",
                    user_message=_("The provider {provider} is not set up here. Available: {names}.").format(
                        provider=repr(request.provider), names=", ".join(self.names)
                    ),
                )
        if request.kind in (GenerationKind.EDIT, GenerationKind.VARY):
            editors = [p for p in providers if p.capabilities.edit]
            if not editors:
                raise InvalidInput(
                    "no provider can edit",
                    user_message=_("None of the configured image providers can edit images."),
                )
            return editors
        return providers


def _provider_notes(images: Sequence[Image]) -> tuple[str, ...]:
    """The notes the provider attached to its images (each batch of a split request repeats them)."""
    return tuple(note for image in images for note in image.notes)


def _unique(*notes: str) -> tuple[str, ...]:
    """The notes in order, each once."""
    return tuple(dict.fromkeys(notes))


def _explain_rate_limit(error: RateLimited) -> None:
    """Give a rate limit that carries no message of its own one that tells the user when to come back."""
    default = RateLimited.default_user_message
    if error.user_message not in (default, _(default)):  # raised with its generic text, in any language
        return
    if error.retry_after is not None:
        error.user_message = _("The image service is busy; try again in about {wait}.").format(
            wait=about(error.retry_after)
        )
    else:
        error.user_message = _("The image service is busy; try again in a little while.")
