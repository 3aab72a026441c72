"""``easel schedule ...``: the operator's scheduled posts, straight in the database.

The running bot (``easel run``) is the only process that posts: it re-reads changed schedules every
few seconds, so what is added, paused or removed here takes effect without a restart. ``run ID`` asks
the running bot for an immediate run (a ``requested`` row it claims within seconds); when no bot is
running, the run is made at its next start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import platform_names
from bot.cli_common import check_provider, friendly, settings_of
from bot.core.clock import SystemClock
from bot.core.errors import InvalidInput, NotFound
from bot.core.flags import parse_aspect
from bot.core.jobs.ledger import JobLedger, JobOutcomes
from bot.core.schedules.commands import add_schedule, format_times
from bot.core.schedules.ports import NewSchedule, Overrides, ScheduleRecord, TriggerSpec
from bot.core.schedules.spec import check_timezone, describe, format_target, parse_target, parse_when
from bot.core.schedules.templates import validate_template
from bot.core.texts import shorten
from bot.scheduler.triggers import ApschedulerTriggers
from bot.settings import AppSettings
from bot.storage.db import make_engine
from bot.storage.job_repo import SqlJobStore
from bot.storage.migrate import upgrade
from bot.storage.repos import SqlHistoryStore
from bot.storage.schedule_repo import SqlScheduleStore

T = TypeVar("T")
OWNER = ("cli", "operator", "operator")
schedule_app = typer.Typer(
    help="Scheduled image posts: add, list, remove, pause, resume, run now.", no_args_is_help=True
)
IdArgument = Annotated[int, typer.Argument(help="The schedule's number (see `easel schedule list`).")]


def _with_store(settings: AppSettings, work: Callable[[SqlScheduleStore], Awaitable[T]]) -> T:
    return _with_engine(settings, lambda engine: work(SqlScheduleStore(engine)))


def _with_engine(settings: AppSettings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    async def run() -> T:
        await upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@schedule_app.command("add")
@friendly
def add(
    ctx: typer.Context,
    target: Annotated[str, typer.Option(help="telegram:<chat>[:<topic>], discord:<channel> or web.")],
    prompt: Annotated[
        str, typer.Option(help="Prompt template: {date} {weekday} {month} {season} {time} {n} {a|b}.")
    ],
    cron: Annotated[str | None, typer.Option(help='5-field cron, e.g. "0 9 * * *".')] = None,
    every: Annotated[str | None, typer.Option(help='A phrase, e.g. "every day at 09:00".')] = None,
    tz: Annotated[str | None, typer.Option(help="IANA time zone (default scheduler.timezone).")] = None,
    provider: Annotated[str | None, typer.Option(help="Use this provider.")] = None,
    model: Annotated[str | None, typer.Option(help="Use this model.")] = None,
    aspect: Annotated[str | None, typer.Option(help="Aspect ratio, e.g. 16:9.")] = None,
) -> None:
    """Add a scheduled post; prints its number, what it means and the next three times."""
    settings = settings_of(ctx)
    if (cron is None) == (every is None):
        raise InvalidInput("cron or every", user_message="Give exactly one of --cron or --every.")
    when_text = cron if cron is not None else every
    assert when_text is not None
    spec = TriggerSpec("cron", cron=" ".join(when_text.split())) if cron is not None else None
    spec = spec or parse_when(when_text, whole=True).spec
    zone = check_timezone(tz or settings.scheduler.timezone)
    validate_template(prompt)
    overrides = Overrides(
        provider=provider, model=model, aspect=str(parse_aspect(aspect)) if aspect else None
    )
    where = parse_target(target)
    _check_platform(settings, where.platform)
    if provider is not None:
        check_provider(settings, provider)
    new = NewSchedule(where, when_text, spec, zone, prompt, *OWNER, overrides=overrides)
    schedule_id, times = _with_store(
        settings, lambda store: add_schedule(store, ApschedulerTriggers(), new, now=SystemClock().now())
    )
    typer.echo(f"Scheduled #{schedule_id}: {describe(spec, zone)} → {target}")
    typer.echo(f"Next: {format_times(times, zone) or 'never'}")


_HOW_TO_RUN = {
    "telegram": "set telegram.token (EASEL__TELEGRAM__TOKEN)",
    "discord": "set discord.token (EASEL__DISCORD__TOKEN)",
    "web": "web.enabled is false and other platforms are configured",
}


def _check_platform(settings: AppSettings, platform: str) -> None:
    """A schedule posts through a platform ``easel run`` starts with these settings, or not at all."""
    running = platform_names(settings)
    if platform not in running:
        raise InvalidInput(
            f"platform {platform} not configured",
            user_message=f"Easel does not run on {platform} with this configuration "
            f"({_HOW_TO_RUN.get(platform, 'not configured')}); it runs on {', '.join(running)}.",
        )


@schedule_app.command("list")
@friendly
def list_(ctx: typer.Context) -> None:
    """Every schedule (posts and birthday cards) with its next fire time and last run."""
    settings = settings_of(ctx)
    schedules = _with_store(settings, lambda store: store.list_schedules(with_last_run=True))
    if not schedules:
        typer.echo(
            "No schedules. Add one: easel schedule add --target telegram:42 --every 'every day at 09:00' ..."
        )
        return
    table = Table("id", "kind", "target", "when", "state", "next", "last run", "prompt")
    for s in schedules:
        table.add_row(
            str(s.id),
            s.kind.value,
            format_target(s.target),
            describe(s.spec, s.tz),
            "on" if s.enabled else f"paused ({s.failures} failures)" if s.failures else "paused",
            _local(s.next_fire_at, s.tz) if s.enabled else "-",
            _last_run(s),
            shorten(s.prompt, 60),
        )
    Console(width=200).print(table)


def _local(when: Any, tz: str) -> str:
    return when.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z") if when is not None else "-"


def _last_run(schedule: ScheduleRecord) -> str:
    run = schedule.last_run
    if run is None:
        return "never"
    error = f": {shorten(run.error, 40)}" if run.error and run.status.value != "done" else ""
    return f"{run.status.value} {_local(run.fire_time, schedule.tz)}{error}"


@schedule_app.command("remove")
@friendly
def remove(ctx: typer.Context, schedule_id: IdArgument) -> None:
    """Delete a schedule; its queued jobs are cancelled."""

    async def work(engine: AsyncEngine) -> None:
        jobs = await SqlScheduleStore(engine).remove(schedule_id)
        history, job_store = SqlHistoryStore(engine), SqlJobStore(engine)
        ledger = JobLedger(jobs=job_store, history=history, clock=SystemClock(), outcomes=JobOutcomes())
        await ledger.cancel_waiting(jobs, error="schedule deleted")  # their quota given back

    _with_engine(settings_of(ctx), work)
    typer.echo(f"Removed #{schedule_id}.")


def _set_enabled(ctx: typer.Context, schedule_id: int, *, enabled: bool) -> None:
    async def work(store: SqlScheduleStore) -> bool:
        schedule = await store.get(schedule_id)
        if schedule is None:
            return False
        now = SystemClock().now()
        upcoming = ApschedulerTriggers().next_after(
            schedule.spec, schedule.tz, now, anchor=schedule.created_at
        )
        return await store.set_enabled(schedule_id, enabled=enabled, next_fire_at=upcoming, now=now)

    if not _with_store(settings_of(ctx), work):
        raise NotFound(f"schedule {schedule_id}", user_message=f"There is no schedule #{schedule_id}.")
    typer.echo(f"{'Resumed' if enabled else 'Paused'} #{schedule_id}.")


@schedule_app.command("pause")
@friendly
def pause(ctx: typer.Context, schedule_id: IdArgument) -> None:
    """Stop a schedule from posting until resumed."""
    _set_enabled(ctx, schedule_id, enabled=False)


@schedule_app.command("resume")
@friendly
def resume(ctx: typer.Context, schedule_id: IdArgument) -> None:
    """Start a paused schedule again (its failure count is reset)."""
    _set_enabled(ctx, schedule_id, enabled=True)


@schedule_app.command("run")
@friendly
def run(ctx: typer.Context, schedule_id: IdArgument) -> None:
    """Post now, as a test: the running bot makes and delivers it within seconds."""
    _with_store(settings_of(ctx), lambda store: store.request_run(schedule_id, now=SystemClock().now()))
    typer.echo(
        f"Run of #{schedule_id} requested: the running bot (`easel run`) posts it within a few seconds; "
        "if no bot is running, it posts when one starts."
    )
