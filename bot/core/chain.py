"""The provider chain: fit a request to a provider's capabilities, enforce the deadline, fail over.

Only transient failures (rate limits, outages, time-outs) move on to the next provider; refusals and
invalid requests are the user's answer and are raised at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence

from bot.core.errors import InvalidInput, ProviderTimeout, TransientProviderError
from bot.core.ports import ProgressCallback, Provider
from bot.core.types import Aspect, GenerationKind, GenerationResult, ImageRequest

log = logging.getLogger(__name__)


class ProviderChain:
    def __init__(self, providers: Sequence[Provider], *, timeout_s: float) -> None:
        if not providers:
            raise ValueError("a provider chain needs at least one provider")
        self._providers = list(providers)
        self._timeout_s = timeout_s

    @property
    def names(self) -> list[str]:
        return [p.name for p in self._providers]

    @property
    def primary(self) -> Provider:
        return self._providers[0]

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> GenerationResult:
        """Run the request on the first provider that can take it, failing over on transient errors."""
        candidates = self._candidates(request)
        notes: list[str] = []
        last_error: TransientProviderError | None = None
        for index, provider in enumerate(candidates):
            fitted, fit_notes = fit_to_capabilities(request, provider)
            try:
                async with asyncio.timeout(self._timeout_s):
                    images = await provider.generate(fitted, on_progress=on_progress)
            except TimeoutError as exc:
                last_error = ProviderTimeout(
                    f"{provider.name} took longer than {self._timeout_s:.0f} s",
                    provider=provider.name,
                    user_message=f"The image took too long ({self._timeout_s:.0f} s) and was abandoned.",
                )
                last_error.__cause__ = exc
            except TransientProviderError as exc:
                last_error = exc
            else:
                if index > 0:
                    notes.append(f"{candidates[0].name} was unavailable, so {provider.name} made this image.")
                return GenerationResult(
                    images=tuple(images),
                    provider=provider.name,
                    model=images[0].model if images else None,
                    notes=(*notes, *fit_notes),
                )
            log.warning("provider %s failed transiently: %s", provider.name, last_error)
        assert last_error is not None
        raise last_error

    def _candidates(self, request: ImageRequest) -> list[Provider]:
        providers = self._providers
        if request.provider:
            providers = [p for p in self._providers if p.name == request.provider]
            if not providers:
                raise InvalidInput(
                    f"provider {request.provider!r} not configured",
                    user_message=f"The provider {request.provider!r} is not set up here. "
                    f"Available: {', '.join(self.names)}.",
                )
        if request.kind in (GenerationKind.EDIT, GenerationKind.VARY):
            editors = [p for p in providers if p.capabilities.edit]
            if not editors:
                raise InvalidInput(
                    "no provider can edit",
                    user_message="None of the configured image providers can edit images.",
                )
            return editors
        return providers


def fit_to_capabilities(request: ImageRequest, provider: Provider) -> tuple[ImageRequest, list[str]]:
    """Adjust ``request`` to what ``provider`` supports and say what changed."""
    caps = provider.capabilities
    notes: list[str] = []
    changes: dict[str, object] = {}
    if request.n > caps.max_n:
        changes["n"] = caps.max_n
        notes.append(f"{provider.name} makes at most {caps.max_n} image(s) per request.")
    if request.negative and not caps.negative_prompt:
        changes["negative"] = None
        notes.append(f"{provider.name} has no negative prompt; --no was ignored.")
    if request.seed is not None and not caps.seed:
        notes.append(f"{provider.name} does not take a seed; results will vary.")
    if caps.aspects and request.aspect not in caps.aspects:
        nearest = nearest_aspect(request.aspect, caps.aspects)
        changes["aspect"] = nearest
        notes.append(f"{provider.name} has no {request.aspect}; used the nearest, {nearest}.")
    if len(request.reference_images) > caps.max_reference_images:
        changes["reference_images"] = request.reference_images[: caps.max_reference_images]
        notes.append(f"{provider.name} takes at most {caps.max_reference_images} reference image(s).")
    return dataclasses.replace(request, **changes) if changes else request, notes  # type: ignore[arg-type]


def nearest_aspect(wanted: Aspect, available: Sequence[Aspect]) -> Aspect:
    return min(available, key=lambda a: abs(a.ratio - wanted.ratio))
