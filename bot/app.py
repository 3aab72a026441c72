"""The composition root: settings in, a wired Easel out. The one place that builds everything."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.core.chain import ProviderChain
from bot.core.clock import SystemClock
from bot.core.flags import parse_aspect
from bot.core.ports import Clock, Provider
from bot.core.requests import Defaults
from bot.core.router import Router, RouterConfig
from bot.core.service import EaselService
from bot.providers import registry
from bot.settings import AppSettings
from bot.storage.artifacts import FileArtifactStore
from bot.storage.db import check_connection, make_engine
from bot.storage.migrate import upgrade
from bot.storage.repos import SqlHistoryStore

log = logging.getLogger(__name__)


@dataclass
class Easel:
    settings: AppSettings
    service: EaselService
    history: SqlHistoryStore
    artifacts: FileArtifactStore
    providers: list[Provider]
    selection: registry.Selection


@asynccontextmanager
async def open_easel(
    settings: AppSettings, *, clock: Clock | None = None, migrate: bool = True
) -> AsyncIterator[Easel]:
    """Connect, migrate, build the providers and the service; close everything on exit."""
    selection = registry.select(settings.generation, settings.providers)
    engine = make_engine(settings.database_url)
    providers: list[Provider] = []
    try:
        await check_connection(engine)
        if migrate:
            await upgrade(settings.database_url)
        history = SqlHistoryStore(engine)
        artifacts = FileArtifactStore(settings.media_dir)
        providers = registry.build(selection, settings.providers)
        generation = settings.generation
        service = EaselService(
            router=Router(
                RouterConfig(max_prompt_chars=generation.max_prompt_chars, max_images=generation.max_images)
            ),
            history=history,
            artifacts=artifacts,
            chain=ProviderChain(providers, timeout_s=generation.timeout_s),
            clock=clock or SystemClock(),
            defaults=Defaults(
                aspect=parse_aspect(generation.default_aspect), max_images=generation.max_images
            ),
        )
        log.info("easel ready: providers %s", " -> ".join(selection.chain))
        yield Easel(settings, service, history, artifacts, providers, selection)
    finally:
        for provider in providers:
            await provider.aclose()
        await engine.dispose()
