"""Building one Easel from its settings: every part, wired in one place (``bot.app`` runs them).

Order of construction, each part getting only what it uses::

    stores ─► chain ─► ledger ─► runner ─► queue ─► intake ─► scheduler (executor, loop, commands)
                                                      └────► answers ─► chat service ─► front door

The scheduler is built with everything else (its commands are the chat service's from the start, so
``easel chat`` has ``/schedule`` and ``/birthday``); only ``easel run`` starts its loop.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.coordination.state import SharedState, in_memory
from bot.core.bus import JOBS, EventBus, LocalBus
from bot.core.chat.answers import QuickAnswers
from bot.core.chat.front import Front
from bot.core.chat.router import Router, RouterConfig
from bot.core.chat.service import ChatService
from bot.core.flags import parse_aspect
from bot.core.generation.chain import ProviderChain
from bot.core.generation.requests import Defaults
from bot.core.generation.resilience import RetryPolicy
from bot.core.generation.resolve import RequestResolver
from bot.core.identity import Directory
from bot.core.jobs.intake import JobIntake, Policy
from bot.core.jobs.ledger import JobLedger, JobOutcomes
from bot.core.jobs.limits import RateLimiter, Rates
from bot.core.jobs.queue import JobQueue
from bot.core.jobs.relay import Relay
from bot.core.jobs.runner import JobRunner
from bot.core.ports import Clock, Metrics, Platform, Provider
from bot.core.schedules.birthday_card import overlay_images
from bot.core.schedules.board import ScheduleBoard
from bot.core.schedules.commands import ScheduleCommands, SchedulePolicy
from bot.providers import registry
from bot.scheduler.runs import BIRTHDAY_CARD, RunExecutor, RunPolicy
from bot.scheduler.service import POLL_S, SchedulerService, Sleeper
from bot.scheduler.triggers import ApschedulerTriggers
from bot.settings import AppSettings, BuiltinSettings, ProviderSettings
from bot.storage.artifacts import FileArtifactStore
from bot.storage.birthday_repo import SqlBirthdayStore
from bot.storage.gallery_repo import GalleryRepo
from bot.storage.job_repo import SqlJobStore
from bot.storage.repos import SqlHistoryStore
from bot.storage.schedule_repo import SqlScheduleStore


@dataclass
class Easel:
    """Everything of one running Easel. Private to ``bot.app`` and its callers (the CLI, tests):
    adapters get :attr:`front`, nothing else."""

    settings: AppSettings
    front: Front
    service: ChatService
    intake: JobIntake
    queue: JobQueue
    scheduler: SchedulerService
    """Built always (its commands answer in chat); started by ``serve`` when ``scheduler.enabled``."""
    history: SqlHistoryStore
    jobs: SqlJobStore
    artifacts: FileArtifactStore
    providers: list[Provider]
    chain: ProviderChain
    selection: registry.Selection
    engine: AsyncEngine
    """The one connection pool: every SQL store is built on it."""
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class SchedulerClock:
    """How the scheduler's loop waits (tests drive it)."""

    sleeper: Sleeper = asyncio.sleep
    poll_s: float = POLL_S


def build_easel(
    settings: AppSettings,
    *,
    engine: AsyncEngine,
    providers: list[Provider],
    selection: registry.Selection,
    platforms: Mapping[str, Platform],
    clock: Clock,
    metrics: Metrics,
    bot_username: str | None = None,
    scheduler_clock: SchedulerClock = SchedulerClock(),
    bus: EventBus | None = None,
    replica: str = "easel",
    remote: Collection[str] = (),
    work: bool = True,
    shared: SharedState | None = None,
) -> Easel:
    """``platforms``: those this replica holds; ``remote``: those only other replicas hold (a worker
    replica's web chat), answered through ``bus``, which connects the replicas (in-process alone).
    ``work=False``: a gateway's queue, which counts the jobs but runs none. ``shared``: rate limits,
    breakers and backend slots every replica shares (Redis); this process's memory when not given."""
    generation, limits = settings.generation, settings.limits
    bus = bus or LocalBus()
    shared = shared or in_memory()
    platforms = Relay(platforms, bus=bus, replica=replica, remote=remote)
    history, jobs = SqlHistoryStore(engine), SqlJobStore(engine)
    artifacts = FileArtifactStore(settings.media_dir, embed_parameters=generation.embed_parameters)
    defaults = Defaults(aspect=parse_aspect(generation.default_aspect), max_images=generation.max_images)
    chain = build_chain(settings, providers, metrics, shared)
    ledger = JobLedger(jobs=jobs, history=history, clock=clock, outcomes=JobOutcomes(bus), metrics=metrics)
    directory = Directory(history, bus=bus)
    runner = JobRunner(
        jobs=jobs,
        history=history,
        artifacts=artifacts,
        resolver=RequestResolver(history=history, artifacts=artifacts, defaults=defaults),
        chain=chain,
        ledger=ledger,
        platforms=platforms,
        clock=clock,
        max_attempts=generation.max_job_attempts,
        owner=replica,
        steps={BIRTHDAY_CARD: overlay_images},  # the scheduler's cards: their greeting, drawn on
        chat_settings=directory.settings,
    )
    queue = JobQueue(
        runner=runner.run, jobs=jobs, owner=replica, platforms=list(platforms), clock=clock,
        workers=generation.workers if work else 0, max_queue=limits.max_queue, lease_s=generation.lease_s,
        metrics=metrics,
    )  # fmt: skip
    bus.subscribe(JOBS, lambda _message: queue.wake())
    intake = JobIntake(
        directory=directory,
        history=history,
        jobs=jobs,
        artifacts=artifacts,
        queue=queue,
        ledger=ledger,
        limiter=RateLimiter(
            Rates(user=limits.user_rate, chat=limits.chat_rate, overall=limits.global_rate),
            admins=limits.admins,
            storage=shared.rate_storage,
        ),
        platforms=platforms,
        clock=clock,
        bus=bus,
        primary_provider=chain.primary.name,
        policy=Policy(
            daily_images_per_user=limits.daily_images_per_user,
            prices=limits.prices,
            confirm_over=limits.confirm_over,
        ),
    )
    scheduler, commands, board = _scheduler(
        settings, engine, history, jobs, intake, ledger, platforms, clock, scheduler_clock
    )
    answers = QuickAnswers(
        directory=directory, history=history, jobs=jobs, queue=queue, chain=chain, intake=intake,
        defaults=defaults, clock=clock, artifacts=artifacts,
    )  # fmt: skip
    router = Router(
        RouterConfig(
            max_prompt_chars=generation.max_prompt_chars,
            max_images=generation.max_images,
            bot_username=bot_username,
        )
    )
    service = ChatService(
        router=router, directory=directory, intake=intake, answers=answers, jobs=jobs, platforms=platforms,
        scheduling=commands, metrics=metrics, replica=replica,
    )  # fmt: skip
    front = Front(
        service=service,
        directory=directory,
        history=history,
        artifacts=artifacts,
        gallery=GalleryRepo(engine),
        chain=chain,
        queue=queue,
        jobs=jobs,
        max_waiting=limits.max_queue,
        workers=generation.workers,
        limits={
            "user_rate": limits.user_rate,
            "chat_rate": limits.chat_rate,
            "global_rate": limits.global_rate,
            "daily_images_per_user": limits.daily_images_per_user,
            "max_images": generation.max_images,
            "timeout_s": generation.timeout_s,
        },
        models=_model_names(providers, settings),
        schedules=board,
    )
    return Easel(
        settings, front, service, intake, queue, scheduler, history, jobs, artifacts, providers, chain,
        selection, engine, metrics,
    )  # fmt: skip


def build_chain(
    settings: AppSettings, providers: Sequence[Provider], metrics: Metrics, shared: SharedState | None = None
) -> ProviderChain:
    generation, shared = settings.generation, shared or in_memory()
    return ProviderChain(
        providers,
        timeout_s=generation.timeout_s,
        retry=RetryPolicy(retries=generation.retries, attempt_timeout_s=generation.attempt_timeout_s),
        breaker_failures=generation.breaker_failures,
        breaker_reset_s=generation.breaker_reset_s,
        concurrency={
            p.name: registry.concurrency(p.name, settings.providers.get(p.name))
            for p in providers
            if registry.has_client(p.name)
        },
        metrics=metrics,
        breakers=shared.breakers,
        slots=shared.slots,
        slot_names={p.name: backend_slot_name(p.name, _section(settings, p.name)) for p in providers},
    )


def _section(settings: AppSettings, name: str) -> ProviderSettings | BuiltinSettings | None:
    """The settings section of provider ``name``; ``None`` for a provider injected under another name."""
    try:
        return settings.providers.get(name)
    except AttributeError:
        return None


def backend_slot_name(name: str, configured: ProviderSettings | BuiltinSettings | None) -> str:
    """What replicas share a provider's concurrency slots under: its name and its backends' addresses
    (hashed: a URL may carry credentials), so replicas pointed at one GPU share its slots and replicas
    pointed at different servers do not."""
    urls = configured.base_url if isinstance(configured, ProviderSettings) else None
    if not urls:
        return name
    joined = "\n".join(sorted(urls if isinstance(urls, list) else [urls]))
    return f"{name}@{hashlib.sha256(joined.encode()).hexdigest()[:12]}"


def _scheduler(
    settings: AppSettings,
    engine: AsyncEngine,
    history: SqlHistoryStore,
    jobs: SqlJobStore,
    intake: JobIntake,
    ledger: JobLedger,
    platforms: Mapping[str, Platform],
    clock: Clock,
    timing: SchedulerClock,
) -> tuple[SchedulerService, ScheduleCommands, ScheduleBoard]:
    """The scheduler's loop and executor (which hears job outcomes), the chat's /schedule and
    /birthday, which tell that loop about changes, and what the web's schedules page reads."""
    options = settings.scheduler
    store, birthdays, triggers = SqlScheduleStore(engine), SqlBirthdayStore(engine), ApschedulerTriggers()
    scheduler: SchedulerService
    executor = RunExecutor(
        store=store,
        birthdays=birthdays,
        history=history,
        submitter=intake,
        jobs=jobs,
        platforms=platforms,
        clock=clock,
        policy=RunPolicy(max_failures=options.max_failures, retry_backoff_s=options.retry_backoff),
        on_retry=lambda run, when: scheduler.retry_at(run, when),
        wait_for_job=intake.wait_for,
    )
    ledger.outcomes.subscribe(executor.heard)
    scheduler = SchedulerService(
        store=store,
        executor=executor,
        triggers=triggers,
        clock=clock,
        misfire_grace=timedelta(seconds=options.misfire_grace),
        sleeper=timing.sleeper,
        poll_s=timing.poll_s,
    )
    commands = ScheduleCommands(
        store=store,
        birthdays=birthdays,
        history=history,
        triggers=triggers,
        clock=clock,
        events=scheduler,
        policy=SchedulePolicy(
            timezone=options.timezone, birthday_hour=options.birthday_hour, max_per_chat=options.max_per_chat
        ),
    )
    board = ScheduleBoard(
        store=store, birthdays=birthdays, jobs=jobs, triggers=triggers, clock=clock, timezone=options.timezone
    )
    return scheduler, commands, board


def _model_names(providers: Sequence[Provider], settings: AppSettings) -> list[str]:
    """What the configured providers can make images with, for autocompletion."""
    names: list[str] = []
    for provider in providers:
        names.extend(getattr(provider, "catalog", ()))
        if provider.name not in settings.providers.names():
            continue  # an in-process provider without a settings section (tests)
        section = settings.providers.get(provider.name)
        if isinstance(section, ProviderSettings):
            names.extend([section.model] if section.model else [])
            names.extend(section.models)
    return list(dict.fromkeys(names))
