"""The ``easel`` command line. Results go to stdout; progress, notes and errors to stderr."""

from __future__ import annotations

import enum
import gc
import logging
import socket
import sys
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer
import yaml

from bot import __version__
from bot.app import Easel, SchedulerLiveness, build_adapters, open_easel, platform_names, serve
from bot.cli_common import ConfigOption, err, friendly, quiet_logging, settings_of
from bot.cli_common import run as run_coroutine
from bot.cli_diagnostics import diagnostics_commands
from bot.cli_gen import gen_commands
from bot.cli_schedule import schedule_app
from bot.core.errors import ConfigError
from bot.observability.masking import redact_url, redacted
from bot.observability.metrics import PrometheusMetrics
from bot.observability.redaction import install_redaction
from bot.platforms.console.adapter import ConsolePlatform, run_console
from bot.providers import registry
from bot.settings import AppSettings
from bot.storage import migrate
from bot.storage.db import check_connection, make_engine
from bot.storage.run_lock import lock_path, single_runner

app = typer.Typer(
    name="easel",
    help="Easel: chat messages in, generated images out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Check and show the configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(schedule_app, name="schedule")
diagnostics_commands(app)
gen_commands(app)

T = TypeVar("T")


class RoleChoice(enum.StrEnum):
    ALL = "all"
    GATEWAY = "gateway"
    WORKER = "worker"


def main() -> None:
    app()


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"easel {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: ConfigOption = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    ctx.obj = config


# ---------------------------------------------------------------------------------------- chat / run


@app.command()
@friendly
def chat(
    ctx: typer.Context,
    wait: Annotated[
        bool | None,
        typer.Option(
            "--wait/--no-wait",
            help="Finish each request before reading the next line (default when piped) or queue them all.",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Chat in the terminal (reads stdin, so it also works piped)."""
    settings = settings_of(ctx)
    quiet_logging(settings, verbose=verbose)
    run_coroutine(_chat(settings, wait=wait))


async def _chat(settings: AppSettings, *, wait: bool | None = None) -> None:
    console = ConsolePlatform(sys.stdout, sys.stderr)
    # the console is one terminal's: its jobs left leased by a killed `easel chat` are its own again
    async with open_easel(settings, platforms={console.name: console}, reclaim=[console.name]) as easel:
        await run_console(
            easel.front,
            wait_for=easel.queue.wait_for,
            drain=easel.queue.drain,
            stdin=sys.stdin,
            stderr=sys.stderr,
            wait=wait,
        )


@app.command()
@friendly
def run(
    ctx: typer.Context,
    role: Annotated[
        RoleChoice,
        typer.Option(
            "--role",
            help="all: one process does everything; gateway: take updates, write jobs; "
            "worker: run jobs and deliver them. Several replicas need PostgreSQL.",
        ),
    ] = RoleChoice.ALL,
    port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="The web chat's port (web.port, EASEL__WEB__PORT; 0: any free one)."
        ),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(
            help="The address the web chat listens on (web.host; off loopback it needs web.auth_token)."
        ),
    ] = None,
) -> None:
    """Run the bot on every configured platform (the local web chat when none is configured)."""
    overrides = {"EASEL__WEB__PORT": str(port)} if port is not None else {}
    overrides |= {"EASEL__WEB__HOST": host} if host is not None else {}
    settings = settings_of(ctx, overrides=overrides)
    if role != RoleChoice.ALL and lock_path(settings.database_url) is not None:
        raise ConfigError(
            f"--role {role.value} runs one part of Easel among several replicas, which share a PostgreSQL "
            "database; with SQLite (one process), run `easel run` alone."
        )
    logging.basicConfig(
        level=settings.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_redaction(settings)  # every record, every logger and handler: no secret reaches stderr
    metrics, liveness = PrometheusMetrics(), SchedulerLiveness()
    adapters = build_adapters(settings, metrics=metrics, scheduler_alive=liveness, role=role.value)
    if any(adapter.name == "web" for adapter in adapters):
        _check_web_port(settings.web.host, settings.web.port)
    # The libraries are loaded now: keep their objects out of the collector's full passes, which
    # otherwise stall the event loop for 60-110 ms now and then (docs/performance.md).
    gc.collect()
    gc.freeze()
    which = "" if role == RoleChoice.ALL else f" as a {role.value}"
    err.print(f"Starting Easel{which} on {', '.join(a.name for a in adapters)}; Ctrl-C stops it.")

    def ready(_: Easel) -> None:
        for adapter in adapters:
            url = getattr(adapter, "url", None)
            if url:
                print(f"Easel {adapter.name} chat: {url}", flush=True)

    with single_runner(settings.database_url):  # SQLite: a second `easel run` is refused
        run_coroutine(
            serve(
                settings,
                handle_signals=True,
                adapters=adapters,
                metrics=metrics,
                liveness=liveness,
                on_ready=ready,
                role=role.value,
            )
        )


def _check_web_port(host: str, port: int) -> None:
    """A busy web port stops ``easel run`` before anything starts, saying how to choose another."""
    if port == 0:
        return
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the web chat binds it
            sock.bind((host, port))
    except OSError as exc:
        other = port + 1 if port < 65535 else port - 1
        raise ConfigError(
            f"The web chat cannot listen on {host}:{port}: {exc.strerror or exc}. Choose another port: "
            f"`easel run --port {other}`, or EASEL__WEB__PORT={other} (web.port in the config file)."
        ) from exc


# --------------------------------------------------------------------------------------------- config


@config_app.command("check")
@friendly
def config_check(ctx: typer.Context) -> None:
    """Validate the configuration and say what would run."""
    settings = settings_of(ctx)
    selection = registry.select(settings.generation, settings.providers)
    typer.echo("Configuration is valid.")
    typer.echo(f"database:  {redact_url(settings.database_url)}")
    typer.echo(f"media dir: {settings.media_dir.resolve()}")
    typer.echo(
        f"providers: {' -> '.join(selection.chain)} (generation.provider = {settings.generation.provider})"
    )
    for name, reason in selection.skipped:
        typer.echo(f"  skipped {name}: {reason}")
    typer.echo(f"platforms: {', '.join(platform_names(settings))} (what `easel run` starts)")


@config_app.command("show")
@friendly
def config_show(ctx: typer.Context) -> None:
    """Print the effective configuration as YAML, secrets redacted."""
    typer.echo(yaml.safe_dump(redacted(settings_of(ctx)), sort_keys=False).rstrip())


# ------------------------------------------------------------------------------------------------- db


@db_app.command("upgrade")
@friendly
def db_upgrade(ctx: typer.Context, revision: str = "head") -> None:
    """Apply migrations (also done automatically at start)."""
    settings = settings_of(ctx)
    run_coroutine(_checked(settings.database_url, migrate.upgrade(settings.database_url, revision)))
    typer.echo(f"database at {run_coroutine(migrate.current(settings.database_url))}")


@db_app.command("downgrade")
@friendly
def db_downgrade(ctx: typer.Context, revision: str) -> None:
    """Revert migrations down to REVISION (``base`` removes every table)."""
    settings = settings_of(ctx)
    run_coroutine(_checked(settings.database_url, migrate.downgrade(settings.database_url, revision)))
    typer.echo(f"database at {run_coroutine(migrate.current(settings.database_url)) or 'base'}")


@db_app.command("current")
@friendly
def db_current(ctx: typer.Context) -> None:
    """Print the database's migration revision."""
    settings = settings_of(ctx)
    typer.echo(
        run_coroutine(_checked(settings.database_url, migrate.current(settings.database_url))) or "base"
    )


async def _checked(url: str, work: Coroutine[Any, Any, T]) -> T:
    engine = make_engine(url)
    try:
        await check_connection(engine)
    except BaseException:
        work.close()
        raise
    finally:
        await engine.dispose()
    return await work
