"""What `easel providers` and `easel doctor` report: each provider's state, catalogue and health.

Details and notes are scrubbed of every secret in the settings (keys, URL passwords of a ``base_url``,
secret-looking ``options``) before they are shown: they quote errors and backend URLs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot.core.errors import EaselError
from bot.core.ports import Provider
from bot.observability.redaction import Redactor, secrets_in
from bot.providers import registry
from bot.providers.settings import ProviderSettings
from bot.settings import AppSettings

PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ProviderReport:
    name: str
    needs: str | None
    """The missing setting, or None when configured."""
    position: int | None
    """1-based place in the provider chain, or None when not used."""
    has_client: bool
    models: tuple[str, ...] = ()
    live_models: bool = False
    """Whether ``models`` came from the provider's own listing."""
    healthy: bool | None = None
    latency_ms: float | None = None
    detail: str = ""
    notes: list[str] = field(default_factory=list)


async def report(settings: AppSettings, *, probe: bool, list_models: bool) -> list[ProviderReport]:
    """Every known provider; configured ones with a client are built, probed and/or asked for models."""
    selection = registry.select(settings.generation, settings.providers)
    names = registry.names()
    reports = await asyncio.gather(*(_one(name, settings, selection, probe, list_models) for name in names))
    redact = Redactor(secrets_in(settings))
    return [replace(r, detail=redact(r.detail), notes=[redact(note) for note in r.notes]) for r in reports]


async def _one(
    name: str, settings: AppSettings, selection: registry.Selection, probe: bool, list_models: bool
) -> ProviderReport:
    needs = registry.missing(name, settings.providers)
    position = selection.chain.index(name) + 1 if name in selection.chain else None
    base = ProviderReport(name, needs, position, registry.has_client(name))
    if needs is not None or not base.has_client:
        return base
    section = settings.providers.get(name)
    alone = registry.Selection(chain=(name,))
    clients = registry.make_clients(alone, settings.providers, default_timeout_s=PROBE_TIMEOUT_S)
    try:
        [provider] = registry.build(alone, settings.providers, clients)
        catalog = tuple(getattr(provider, "catalog", ())) + _extra_models(section)
        result = ProviderReport(name, needs, position, True, models=catalog)
        if probe:
            result = await _probe(provider, result)
        if list_models:
            result = await _live_models(provider, result)
        await provider.aclose()
        return result
    except EaselError as exc:
        return ProviderReport(name, needs, position, True, healthy=False, detail=exc.user_message)
    finally:
        for client in clients.values():
            await client.aclose()


def _extra_models(section: ProviderSettings | object) -> tuple[str, ...]:
    if isinstance(section, ProviderSettings):
        return tuple(section.models) + ((section.model,) if section.model else ())
    return ()


async def _probe(provider: Provider, report_: ProviderReport) -> ProviderReport:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            health = await provider.check()
    except TimeoutError:
        return replace(report_, healthy=False, detail=f"no answer within {PROBE_TIMEOUT_S:.0f} s")
    except EaselError as exc:
        return replace(report_, healthy=False, detail=exc.user_message)
    latency = (time.perf_counter() - started) * 1000
    return replace(report_, healthy=health.ok, latency_ms=latency, detail=health.detail)


async def _live_models(provider: Provider, report_: ProviderReport) -> ProviderReport:
    lister = getattr(provider, "list_models", None)
    if lister is None:
        return report_
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            live: Sequence[str] = await lister()
    except (TimeoutError, EaselError) as exc:
        return replace(report_, notes=[*report_.notes, f"live model list unavailable: {exc}"])
    if getattr(provider, "live_models_only", False):  # a server of the user's own: it has what it has
        return replace(report_, models=tuple(live), live_models=True)
    merged = tuple(dict.fromkeys([*live, *report_.models]))
    return replace(report_, models=merged, live_models=True)
