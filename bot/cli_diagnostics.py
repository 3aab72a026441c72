"""``easel providers`` and ``easel doctor``: what is configured, what is used, and whether it answers."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer

from bot import diagnostics
from bot.cli_common import friendly, run, settings_of
from bot.coordination.state import redis_latency_ms
from bot.core.errors import EaselError
from bot.observability.masking import redact_url
from bot.settings import AppSettings
from bot.storage.db import check_connection, make_engine


def diagnostics_commands(app: typer.Typer) -> None:
    """Register ``providers`` and ``doctor`` on the ``easel`` command."""
    app.command()(providers)
    app.command()(doctor)


@friendly
def providers(
    ctx: typer.Context,
    live: Annotated[
        bool, typer.Option("--live/--no-live", help="Ask configured providers for their models.")
    ] = True,
) -> None:
    """List every provider: configured or not (and what is missing), whether it is used, its models."""
    settings = settings_of(ctx)
    for item in run(diagnostics.report(settings, probe=False, list_models=live)):
        configured = "configured" if item.needs is None else f"not configured (needs {item.needs})"
        used = f"used (#{item.position})" if item.position else ""
        available = "" if item.has_client else "no client in this version"
        state = ", ".join(part for part in (configured, used, available) if part)
        typer.echo(f"{item.name:18} {state}")
        if item.models:
            source = "models (live)" if item.live_models else "models"
            typer.echo(
                f"{'':18} {source}: {', '.join(item.models[:12])}{' …' if len(item.models) > 12 else ''}"
            )
        elif item.live_models:
            typer.echo(f"{'':18} models (live): none")
        for note in item.notes:
            typer.echo(f"{'':18} {note}")
        if item.detail:
            typer.echo(f"{'':18} {item.detail}")


@friendly
def doctor(ctx: typer.Context) -> None:
    """Check the database, Redis, the media directory, every configured provider and platform."""
    settings = settings_of(ctx)
    ok = run(_doctor(settings))
    if not ok:
        raise typer.Exit(1)


async def _doctor(settings: AppSettings) -> bool:
    ok = True
    engine = make_engine(settings.database_url)
    started = time.perf_counter()
    try:
        await check_connection(engine)
        typer.echo(f"database    ok  {_ms(started)}  {redact_url(settings.database_url)}")
    except EaselError as exc:
        typer.echo(f"database    BAD {exc}")
        ok = False
    finally:
        await engine.dispose()
    ok &= await _redis(settings)
    media = settings.media_dir.resolve()
    writable = _writable(media)
    typer.echo(f"media dir   {'ok ' if writable else 'BAD'} {media}")
    ok &= writable
    for item in await diagnostics.report(settings, probe=True, list_models=False):
        if item.needs is not None or not item.has_client:
            continue
        latency = f"{item.latency_ms:.0f} ms" if item.latency_ms is not None else "-"
        state = "ok " if item.healthy else "BAD"
        typer.echo(f"{item.name:11} {state} {latency}  {item.detail}")
        ok &= bool(item.healthy)
    for platform in await diagnostics.platforms(settings):
        if not platform.configured:
            typer.echo(f"{platform.name:11} not configured")
            continue
        latency = f"{platform.latency_ms:.0f} ms" if platform.latency_ms is not None else "-"
        typer.echo(f"{platform.name:11} {'ok ' if platform.healthy else 'BAD'} {latency}  {platform.detail}")
        ok &= bool(platform.healthy)
    return ok


PER_PROCESS = (
    "limits, breakers and concurrency are per process: set redis_url when several replicas share this "
    "database"
)


async def _redis(settings: AppSettings) -> bool:
    """Redis answers (PING, latency) when ``redis_url`` is set; a note if PostgreSQL is shared without it."""
    if settings.redis_url is None:
        if settings.database_url.startswith("postgresql"):
            typer.echo(f"{'redis':11} not configured: {PER_PROCESS}")
        return True
    where = redact_url(settings.redis_url)
    try:
        latency = await redis_latency_ms(settings.redis_url)
    except EaselError as exc:
        typer.echo(f"{'redis':11} BAD {exc}")
        return False
    typer.echo(f"{'redis':11} ok  {latency:.1f} ms  {where}")
    return True


def _ms(started: float) -> str:
    return f"{(time.perf_counter() - started) * 1000:.0f} ms"


def _writable(path: Path) -> bool:
    """The media directory exists and takes files, or could be created."""
    probe = path
    while not probe.exists():
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK)
