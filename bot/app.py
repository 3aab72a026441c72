"""The composition root: settings in, a wired Easel out. The one place that builds everything."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Literal

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter
from tenacity.wait import wait_base

from bot import process_memory
from bot.coordination.bus import make_bus, replica_name
from bot.coordination.state import SharedState, open_shared_state
from bot.core.bus import EventBus
from bot.core.clock import SystemClock
from bot.core.errors import ConfigError, DeliveryFailed
from bot.core.ports import NO_METRICS, Clock, Metrics, Platform, Provider
from bot.core.types import JobEvent, Reply, Target
from bot.observability.masking import redact_url
from bot.observability.metrics import PrometheusMetrics
from bot.observability.redaction import install_redaction
from bot.platforms.base import Adapter, PlatformUnreachable
from bot.providers import registry
from bot.scheduler.service import SchedulerService
from bot.settings import AppSettings
from bot.storage.db import check_connection, make_engine
from bot.storage.migrate import upgrade
from bot.storage.run_lock import lock_path
from bot.wiring import Easel, SchedulerClock, build_easel

__all__ = [
    "Easel", "Role", "SchedulerClock", "SchedulerLiveness", "build_adapters", "open_easel",
    "platform_names", "remote_platforms", "serve",
]  # fmt: skip
log = logging.getLogger(__name__)


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
    metrics: Metrics | None = None,
    scheduler_clock: SchedulerClock = SchedulerClock(),
    replica: str | None = None,
    remote: Collection[str] = (),
    work: bool = True,
    reclaim: Collection[str] = (),
) -> AsyncIterator[Easel]:
    """Connect, migrate, build every part (``bot.wiring``), resume unfinished jobs (for the given
    platforms) and start the workers; stop and close everything on exit. ``providers_override``
    replaces the configured providers (tests use in-process fakes); ``bot_username`` lets the router
    tell "/imagine@ThisBot" and "@ThisBot a fox" from messages for other bots. The scheduler is built
    but not started (``serve`` starts it). ``replica`` names this process among several (a fresh name
    when not given); ``remote`` are the platforms only other replicas hold (answered over the bus);
    ``work=False`` (a gateway) runs no job here. ``reclaim``: platforms only this process serves (SQLite's
    one ``easel run``, the console), whose jobs a previous run left leased are taken up at once."""
    install_redaction(settings)  # before anything can log a URL or an error carrying a secret
    process_memory.install()  # big image decodes give their memory back (glibc)
    selection = registry.select(settings.generation, settings.providers)
    engine = make_engine(settings.database_url)
    providers: list[Provider] = []
    clients: dict[str, httpx.AsyncClient] = {}
    easel: Easel | None = None
    replica = replica or replica_name()
    bus = make_bus(
        settings.database_url, settings.redis_url, replica=replica, redis_prefix=settings.redis_prefix
    )
    shared: SharedState | None = None
    try:
        await check_connection(engine)
        shared = await open_shared_state(settings.redis_url, namespace=settings.redis_prefix)
        if migrate:
            await upgrade(settings.database_url)
        clients = registry.make_clients(
            selection, settings.providers, default_timeout_s=settings.generation.attempt_timeout_s
        )
        providers = providers_override or registry.build(selection, settings.providers, clients)
        if shared.claims is not None:
            registry.share_backends(providers, shared.claims)
        easel = build_easel(
            settings,
            engine=engine,
            providers=providers,
            selection=selection,
            platforms=platforms,
            clock=clock or SystemClock(),
            metrics=metrics or NO_METRICS,
            bot_username=bot_username,
            scheduler_clock=scheduler_clock,
            bus=bus,
            replica=replica,
            remote=remote,
            work=work,
            shared=shared,
        )
        await _start_bus(bus, settings)
        if recover:
            resumed = await easel.intake.recover(platforms, reclaim=reclaim)
            if resumed:
                log.info("resuming %d unfinished job(s)", resumed)
        await easel.queue.start()
        log.info("easel ready: providers %s", " -> ".join(selection.chain))
        yield easel
    finally:
        if easel is not None:
            await easel.queue.stop()
        with _logged("closing the bus"):
            await bus.aclose()
        if shared is not None:
            with _logged("closing the shared state"):
                await shared.aclose()
        for provider in providers:
            await provider.aclose()
        for client in clients.values():
            await client.aclose()
        await engine.dispose()


async def _start_bus(bus: EventBus, settings: AppSettings) -> None:
    try:
        await bus.start()
    except (OSError, ConnectionError) as exc:
        where = redact_url(settings.redis_url or settings.database_url)
        raise ConfigError(f"Cannot open the replicas' event bus at {where}: {exc}") from exc


class SchedulerLiveness:
    """``/healthz``'s view of the scheduler: alive when one is running (none configured: not alive)."""

    def __init__(self) -> None:
        self.scheduler: SchedulerService | None = None

    def __call__(self) -> bool:
        return self.scheduler is not None and self.scheduler.is_running()


Role = Literal["all", "gateway", "worker"]
"""What one ``easel run`` does: ``gateway`` takes the platforms' updates and writes jobs, ``worker``
runs jobs and delivers them (through the platforms' APIs), ``all`` (one process) does both."""


JOIN_WAIT: wait_base = wait_exponential_jitter(initial=1, max=60, jitter=1)
"""Between tries of a platform that did not answer at start: 1 s doubling to a minute, jittered."""


def build_adapters(
    settings: AppSettings,
    *,
    metrics: PrometheusMetrics | None = None,
    scheduler_alive: Callable[[], bool] | None = None,
    role: Role = "all",
) -> list[Adapter]:
    """The chat platforms ``settings`` configure: Telegram and Discord when they have a token, the web
    chat when it is enabled, or alone when nothing else is configured. A worker has no web chat (its
    pages are served by the gateways: see :func:`remote_platforms`)."""
    adapters: list[Adapter] = []
    names = platform_names(settings, role)
    if "telegram" in names:
        from bot.platforms.telegram.adapter import TelegramAdapter  # each library loads only when used

        adapters.append(TelegramAdapter(settings.telegram, redis_url=settings.redis_url))
    if "discord" in names:
        from bot.platforms.discord.adapter import DiscordAdapter

        adapters.append(DiscordAdapter(settings.discord))
    if "web" in names:
        from bot.platforms.web.adapter import WebAdapter

        adapters.append(WebAdapter(settings.web, metrics=metrics, scheduler_alive=scheduler_alive))
    return adapters


def platform_names(settings: AppSettings, role: Role = "all") -> list[str]:
    """The chat platforms ``easel run --role ROLE`` starts with ``settings`` (:func:`build_adapters`)."""
    names = [name for name in ("telegram", "discord") if getattr(settings, name).token is not None]
    return [*names, "web"] if _serves_web(settings) and role != "worker" else names


def _serves_web(settings: AppSettings) -> bool:
    return settings.web.enabled or (settings.telegram.token is None and settings.discord.token is None)


def remote_platforms(settings: AppSettings, role: Role) -> list[str]:
    """The platforms a replica of ``role`` answers on without holding them: a worker's web chat."""
    return ["web"] if role == "worker" and _serves_web(settings) else []


async def serve(
    settings: AppSettings,
    *,
    stop: asyncio.Event | None = None,
    handle_signals: bool = False,
    on_ready: Callable[[Easel], None] | None = None,
    providers_override: list[Provider] | None = None,
    adapters: list[Adapter] | None = None,
    metrics: PrometheusMetrics | None = None,
    liveness: SchedulerLiveness | None = None,
    clock: Clock | None = None,
    role: Role = "all",
    replica: str | None = None,
    join_wait: wait_base = JOIN_WAIT,
) -> None:
    """Run the chat platforms (``build_adapters`` unless given) and the scheduler until ``stop`` is set
        (or SIGINT/SIGTERM with ``handle_signals``). Order: meet every platform (Telegram's username is the
        router's), open Easel with them (unfinished jobs resume and are delivered through them), take
        updates, start the scheduler; then the reverse. See ``bot.platforms.base`` for the adapter life
        cycle. ``metrics`` and ``liveness`` are what the web chat's /metrics and /healthz report; ``clock``
    (tests) drives the pipeline and the scheduler. ``role``: a gateway runs no job, a worker takes no
    update (its adapters only send); see :data:`Role`. A platform whose servers do not answer at start
    (:class:`~bot.platforms.base.PlatformUnreachable`) does not hold up the others: it is tried again in
    the background (``join_wait`` between tries) and joins when it answers; meanwhile its replies wait
    as a delivery the platform cannot take yet. A refused token still stops the start."""
    stop = stop or asyncio.Event()
    metrics = metrics or PrometheusMetrics()
    liveness = liveness or SchedulerLiveness()
    signals = _install_signal_handlers(stop) if handle_signals else []
    if adapters is None:
        adapters = build_adapters(settings, metrics=metrics, scheduler_alive=liveness, role=role)
    receiving = [] if role == "worker" else adapters
    joining: dict[str, _Joining] = {}  # platforms whose servers did not answer: tried in the background
    joins: list[asyncio.Task[None]] = []
    try:
        for adapter in adapters:
            try:
                await adapter.initialize()
            except PlatformUnreachable as exc:
                log.warning("%s; starting without %s and trying again in the background", exc, adapter.name)
                joining[adapter.name] = _Joining(adapter)
        platforms: dict[str, Platform] = {adapter.name: adapter for adapter in adapters}
        platforms |= joining
        async with open_easel(
            settings,
            platforms=platforms,
            bot_username=next((a.username for a in adapters if a.username), None),
            providers_override=providers_override,
            metrics=metrics,
            clock=clock,
            replica=replica,
            remote=remote_platforms(settings, role),
            work=role != "gateway",
            # SQLite: one `easel run` at a time (its lock), so what a killed run held is this one's
            reclaim=list(platforms) if lock_path(settings.database_url) is not None else (),
        ) as easel:
            scheduler = easel.scheduler if settings.scheduler.enabled else None
            for adapter in adapters:
                adapter.attach(easel.front)
            started: list[Adapter] = []
            try:
                for adapter in receiving:
                    if adapter.name in joining:
                        continue
                    try:
                        await adapter.start()
                    except PlatformUnreachable as exc:
                        log.warning("%s; trying %s again in the background", exc, adapter.name)
                        joining[adapter.name] = _Joining(adapter, initialized=True)
                        continue
                    started.append(adapter)
                for late in joining.values():
                    receive = late.adapter in receiving
                    joins.append(asyncio.create_task(late.join(receive, started, join_wait), name=late.name))
                if scheduler is not None:
                    await scheduler.start()
                    liveness.scheduler = scheduler
                if on_ready is not None:
                    on_ready(easel)
                await stop.wait()
                log.info("stopping")
            finally:
                # No new work (the scheduler, then every platform's updates), then the running jobs get
                # their grace to deliver and record, while the platforms can still send.
                for join in joins:
                    join.cancel()
                await asyncio.gather(*joins, return_exceptions=True)
                if scheduler is not None:
                    with _logged("stopping the scheduler"):
                        await scheduler.stop()
                for adapter in reversed(started):
                    with _logged(f"stopping {adapter.name}"):
                        await adapter.stop()
                with _logged("finishing the running jobs"):
                    await easel.queue.stop(grace_s=settings.shutdown_grace_s)
    finally:
        for adapter in reversed(adapters):
            with _logged(f"closing {adapter.name}"):
                await adapter.shutdown()
        loop = asyncio.get_running_loop()
        for sig in signals:
            loop.remove_signal_handler(sig)


class _Joining:
    """A platform whose servers did not answer at start, as the core sees it until it joins: replies
    to it wait (a delivery it cannot take yet, retried as any), progress is not shown."""

    def __init__(self, adapter: Adapter, *, initialized: bool = False) -> None:
        self.name = adapter.name
        self.adapter = adapter
        self._joined = initialized  # initialized: it sends; only its updates are missing

    async def send(self, target: Target, reply: Reply) -> list[str]:
        if not self._joined:
            raise DeliveryFailed(f"{self.name} has not answered since Easel started", permanent=False)
        return await self.adapter.send(target, reply)

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        if self._joined:
            await self.adapter.event(target, job_id, event)

    async def delete(self, target: Target, message_ids: Sequence[str]) -> None:
        if not self._joined:
            raise DeliveryFailed(f"{self.name} has not answered since Easel started", permanent=False)
        await self.adapter.delete(target, message_ids)

    async def join(self, receive: bool, started: list[Adapter], wait: wait_base) -> None:
        """Try until the platform answers (then take its updates, when ``receive``); a refused token
        or any other error ends the tries, logged."""

        def retrying(state: RetryCallState) -> None:
            log.warning("%s still unreachable (%s); next try in %.0f s", self.name,
                        state.outcome and state.outcome.exception(), state.upcoming_sleep)  # fmt: skip

        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(PlatformUnreachable), wait=wait, before_sleep=retrying
            ):
                with attempt:
                    await self.adapter.initialize()
                    self._joined = True
                    if receive:
                        await self.adapter.start()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s could not be started; Easel goes on without it", self.name)
            return
        if receive:
            started.append(self.adapter)
        log.warning("%s is reachable again and has joined", self.name)


@contextlib.contextmanager
def _logged(what: str) -> Iterator[None]:
    """Shut-down steps go on after one fails: each failure is logged, not raised."""
    try:
        yield
    except Exception:
        log.exception("error while %s", what)


def _install_signal_handlers(stop: asyncio.Event) -> list[signal.Signals]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on this platform/thread
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    return installed
