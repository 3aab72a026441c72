"""What `easel providers` and `easel doctor` report: each provider's state, catalogue and health, and
whether Telegram and Discord take the configured tokens (Telegram's ``getMe``, Discord's
``GET /users/@me``: the calls the adapters make first at start).

Details and notes are scrubbed of every secret in the settings (keys, URL passwords of a ``base_url``,
secret-looking ``options``) before they are shown: they quote errors and backend URLs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

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


@dataclass(frozen=True)
class PlatformReport:
    name: str
    configured: bool
    healthy: bool | None = None
    """None when not configured (nothing to probe)."""
    latency_ms: float | None = None
    detail: str = ""


async def platforms(settings: AppSettings) -> list[PlatformReport]:
    """Telegram and Discord: each configured one asked who the bot is, with its token."""
    redact = Redactor(secrets_in(settings))
    async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as client:
        reports = await asyncio.gather(_telegram(client, settings), _discord(client, settings))
    return [replace(r, detail=redact(r.detail)) for r in reports]


async def _telegram(client: httpx.AsyncClient, settings: AppSettings) -> PlatformReport:
    section = settings.telegram
    if section.token is None:
        return PlatformReport("telegram", configured=False)
    probe = _Probe("telegram", section.base_url, "Telegram rejected telegram.token", (401, 404))
    url = f"{section.base_url}{section.token.get_secret_value()}/getMe"
    return await probe.ask(client, url, {}, _telegram_bot)


async def _discord(client: httpx.AsyncClient, settings: AppSettings) -> PlatformReport:
    section = settings.discord
    if section.token is None:
        return PlatformReport("discord", configured=False)
    probe = _Probe("discord", section.api_base_url, "Discord rejected discord.token", (401,))
    headers = {"Authorization": f"Bot {section.token.get_secret_value()}"}
    return await probe.ask(client, f"{section.api_base_url}/users/@me", headers, _discord_user)


def _telegram_bot(body: dict[str, Any]) -> str:
    bot = body["result"]
    return f"@{bot['username']} (id {bot['id']})"


def _discord_user(body: dict[str, Any]) -> str:
    discriminator = body.get("discriminator")
    name = body["username"] + (f"#{discriminator}" if discriminator not in (None, "0") else "")
    return f"{name} (id {body['id']})"


@dataclass(frozen=True)
class _Probe:
    name: str
    where: str
    rejected: str
    rejecting_statuses: tuple[int, ...]
    """What the platform answers a bad token with (the Bot API: 401 or 404, as PTB reads them)."""

    async def ask(
        self,
        client: httpx.AsyncClient,
        url: str,
        headers: dict[str, str],
        describe: Callable[[dict[str, Any]], str],
    ) -> PlatformReport:
        """One GET: ok with what ``describe`` makes of the answer, or BAD saying why (the token was
        refused, the server did not answer, it answered something else)."""
        started = time.perf_counter()
        try:
            response = await client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            return PlatformReport(self.name, True, False, detail=f"cannot reach {self.where}: {reason}")
        latency = (time.perf_counter() - started) * 1000
        status = f"{response.status_code} {response.reason_phrase}"
        if response.status_code in self.rejecting_statuses:
            return PlatformReport(self.name, True, False, latency, f"{self.rejected} ({status})")
        try:
            response.raise_for_status()
            return PlatformReport(self.name, True, True, latency, describe(response.json()))
        except (httpx.HTTPStatusError, ValueError, KeyError, TypeError) as exc:
            detail = f"unexpected answer from {self.where} ({status}): {exc}"
            return PlatformReport(self.name, True, False, latency, detail)
