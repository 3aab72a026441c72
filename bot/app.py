"""The composition root: settings in, a wired Easel out. The one place that builds everything."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from bot.core.chain import ProviderChain
from bot.core.clock import SystemClock
from bot.core.errors import ConfigError
from bot.core.execution import JobRunner
from bot.core.flags import parse_aspect
from bot.core.jobs import JobQueue
from bot.core.limits import RateLimiter, Rates
from bot.core.ports import Clock, Platform, Provider
from bot.core.requests import Defaults
from bot.core.resilience import RetryPolicy
from bot.core.resolve import RequestResolver
from bot.core.router import Router, RouterConfig
from bot.core.service import EaselService, Policy
from bot.providers import registry
from bot.providers.http import make_client
from bot.settings import AppSettings, BuiltinSettings, ProviderSettings
from bot.storage.artifacts import FileArtifactStore
from bot.storage.db import check_connection, make_engine
from bot.storage.job_repo import SqlJobStore
from bot.storage.migrate import upgrade
from bot.storage.repos import SqlHistoryStore

log = logging.getLogger(__name__)

LOCAL_PROVIDERS = frozenset({"sdwebui", "comfyui", "openai-compatible"})
BUILTIN_CONCURRENCY = 2
"""The offline renderer is CPU-bound Pillow work in threads: more than the cores buys nothing."""


@dataclass
class Easel:
    settings: AppSettings
    service: EaselService
    queue: JobQueue
    history: SqlHistoryStore
    jobs: SqlJobStore
    artifacts: FileArtifactStore
    providers: list[Provider]
    chain: ProviderChain
    selection: registry.Selection


@asynccontextmanager
async def open_easel(
    settings: AppSettings,
    *,
    platforms: Mapping[str, Platform],
    clock: Clock | None = None,
    migrate: bool = True,
    recover: bool = True,
    providers_override: list[Provider] | None = None,
    bot_username: str | None = None,
) -> AsyncIterator[Easel]:
    """Connect, migrate, build providers, queue and service, resume unfinished jobs (for the given
    platforms) and start the workers; stop and close everything on exit. ``providers_override``
    replaces the configured providers (tests use in-process fakes); ``bot_username`` lets the router
    tell "/imagine@ThisBot" and "@ThisBot a fox" from messages for other bots."""
    selection = registry.select(settings.generation, settings.providers)
    engine = make_engine(settings.database_url)
    providers: list[Provider] = []
    clients: dict[str, httpx.AsyncClient] = {}
    queue: JobQueue | None = None
    clock = clock or SystemClock()
    try:
        await check_connection(engine)
        if migrate:
            await upgrade(settings.database_url)
        history = SqlHistoryStore(engine)
        jobs = SqlJobStore(engine)
        artifacts = FileArtifactStore(settings.media_dir)
        for name in selection.chain:
            section = settings.providers.get(name)
            if isinstance(section, ProviderSettings):
                clients[name] = make_client(section, default_timeout_s=settings.generation.attempt_timeout_s)
        providers = providers_override or registry.build(selection, settings.providers, clients)
        generation = settings.generation
        defaults = Defaults(aspect=parse_aspect(generation.default_aspect), max_images=generation.max_images)
        chain = ProviderChain(
            providers,
            timeout_s=generation.timeout_s,
            retry=RetryPolicy(retries=generation.retries, attempt_timeout_s=generation.attempt_timeout_s),
            breaker_failures=generation.breaker_failures,
            breaker_reset_s=generation.breaker_reset_s,
            concurrency={
                p.name: _concurrency(p.name, settings.providers.get(p.name))
                for p in providers
                if registry.has_client(p.name)
            },
        )
        runner = JobRunner(
            jobs=jobs,
            history=history,
            artifacts=artifacts,
            resolver=RequestResolver(history=history, artifacts=artifacts, defaults=defaults),
            chain=chain,
            platforms=platforms,
            clock=clock,
            max_attempts=generation.max_job_attempts,
        )
        queue = JobQueue(runner=runner.run, workers=generation.workers, max_queue=settings.limits.max_queue)
        limits = settings.limits
        service = EaselService(
            router=Router(
                RouterConfig(
                    max_prompt_chars=generation.max_prompt_chars,
                    max_images=generation.max_images,
                    bot_username=bot_username,
                )
            ),
            history=history,
            jobs=jobs,
            artifacts=artifacts,
            queue=queue,
            chain=chain,
            limiter=RateLimiter(
                Rates(user=limits.user_rate, chat=limits.chat_rate, overall=limits.global_rate),
                admins=limits.admins,
            ),
            platforms=platforms,
            clock=clock,
            defaults=defaults,
            policy=Policy(
                daily_images_per_user=limits.daily_images_per_user,
                prices=limits.prices,
                confirm_over=limits.confirm_over,
            ),
        )
        if recover:
            resumed = await service.recover()
            if resumed:
                log.info("resuming %d unfinished job(s)", resumed)
        await queue.start()
        log.info("easel ready: providers %s", " -> ".join(selection.chain))
        yield Easel(settings, service, queue, history, jobs, artifacts, providers, chain, selection)
    finally:
        if queue is not None:
            await queue.stop()
        for provider in providers:
            await provider.aclose()
        for client in clients.values():
            await client.aclose()
        await engine.dispose()


def _concurrency(name: str, section: ProviderSettings | BuiltinSettings) -> int:
    if isinstance(section, BuiltinSettings):
        return BUILTIN_CONCURRENCY
    per_backend = section.max_concurrency or (1 if name in LOCAL_PROVIDERS else 4)
    backends = len(section.base_url) if isinstance(section.base_url, list) else 1
    return per_backend * backends


async def serve(
    settings: AppSettings,
    *,
    stop: asyncio.Event | None = None,
    handle_signals: bool = False,
    on_ready: Callable[[Easel], None] | None = None,
    providers_override: list[Provider] | None = None,
) -> None:
    """Run the configured chat platforms until ``stop`` is set (or SIGINT/SIGTERM with
    ``handle_signals``). Order: meet the platform (its username is the router's), open Easel with it
    (unfinished jobs resume and are delivered through it), take updates; then the reverse."""
    from bot.platforms.telegram import TelegramAdapter  # only `run` needs python-telegram-bot loaded

    if settings.telegram.token is None:
        raise ConfigError("No chat platform is configured (set telegram.token).")
    stop = stop or asyncio.Event()
    signals = _install_signal_handlers(stop) if handle_signals else []
    adapter = TelegramAdapter(settings.telegram)
    try:
        await adapter.initialize()
        async with open_easel(
            settings,
            platforms={adapter.name: adapter},
            bot_username=adapter.username,
            providers_override=providers_override,
        ) as easel:
            adapter.attach(easel.service, easel.history)
            await adapter.start()
            try:
                if on_ready is not None:
                    on_ready(easel)
                await stop.wait()
                log.info("stopping")
            finally:
                await adapter.stop()
    finally:
        await adapter.shutdown()
        loop = asyncio.get_running_loop()
        for sig in signals:
            loop.remove_signal_handler(sig)


def _install_signal_handlers(stop: asyncio.Event) -> list[signal.Signals]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on this platform/thread
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    return installed
