"""What every ``easel`` command shares: ``--config PATH`` (``-c``) before or after the command name,
reading the settings it names, turning Easel's errors into one clear line on stderr with an exit code
(2: the configuration or the command line, 1: the request could not be done), and the quiet logging of
the one-shot commands."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from bot.core.errors import ConfigError, EaselError, InvalidInput, LimitExceeded, NotFound
from bot.observability.redaction import install_redaction
from bot.providers import registry
from bot.settings import AppSettings, load_settings

__all__ = [
    "CONFIG_HELP",
    "ConfigOption",
    "check_provider",
    "err",
    "friendly",
    "quiet_logging",
    "run",
    "settings_of",
]

T = TypeVar("T")
err = Console(stderr=True, highlight=False, markup=False)
CONFIG_HELP = "YAML config file (default: $EASEL_CONFIG or ./config.yaml)."
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help=CONFIG_HELP)]
_CONFIG_PARAMETER = "config_path"


def settings_of(ctx: typer.Context, *, overrides: Mapping[str, str] | None = None) -> AppSettings:
    """The settings of ``easel [--config PATH] <command> [--config PATH]`` (the root command holds the
    path). ``overrides``: ``EASEL__...`` values the command line sets (``easel run --port``), above the
    environment."""
    root = ctx.find_root()
    environ = None if not overrides else {**os.environ, **overrides}
    return load_settings(root.obj if isinstance(root.obj, Path) else None, environ=environ)


def quiet_logging(settings: AppSettings, *, verbose: bool) -> None:
    """Warnings and errors only (everything with ``--verbose``), on stderr, secrets redacted."""
    level = logging.DEBUG if verbose else max(logging.WARNING, logging.getLevelName(settings.log_level))
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    install_redaction(settings)  # every record, every logger and handler: no secret reaches stderr


def check_provider(settings: AppSettings, name: str) -> None:
    """``--provider NAME`` names a provider this configuration uses (its chain: ``generation.provider``
    and ``generation.fallbacks``); InvalidInput saying what to do otherwise."""
    chain = registry.select(settings.generation, settings.providers).chain
    if name in chain:
        return
    used = f"Available here: {', '.join(chain)}."
    if name not in registry.names():
        raise InvalidInput(
            f"unknown provider {name!r}",
            user_message=f"There is no provider {name!r} (`easel providers` lists them). {used}",
        )
    needs = registry.missing(name, settings.providers)
    how = f"it needs {needs}" if needs else "add it to generation.fallbacks (or generation.provider)"
    raise InvalidInput(
        f"provider {name!r} not in the chain",
        user_message=f"The provider {name!r} is not set up here: {how}. {used}",
    )


def friendly(func: Callable[..., T]) -> Callable[..., T]:
    """An ``easel`` command: it takes ``--config PATH`` / ``-c PATH`` after its name too (the root
    command's, when both are given, loses); Easel's errors are one line on stderr and an exit code;
    Ctrl-C is 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        config = kwargs.pop(_CONFIG_PARAMETER, None)
        if config is not None:
            # the command's context (typer passes its library's own Context, of which typer.Context
            # is a subclass: it is told by what it does)
            context = next(a for a in (*args, *kwargs.values()) if hasattr(a, "find_root"))
            context.find_root().obj = config
        try:
            return func(*args, **kwargs)
        except EaselError as exc:
            # The operator is the reader: the full message, except where the user's answer says it better.
            answer = isinstance(exc, InvalidInput | NotFound | LimitExceeded)
            err.print(f"error: {exc.user_message if answer else exc}", style="red", soft_wrap=True)
            raise typer.Exit(2 if isinstance(exc, ConfigError | InvalidInput) else 1) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    signature = inspect.signature(func, eval_str=True)
    extra = inspect.Parameter(
        _CONFIG_PARAMETER, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ConfigOption
    )
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), extra]
    )
    wrapper.__annotations__ = {
        **{n: p.annotation for n, p in signature.parameters.items() if p.annotation is not p.empty},
        _CONFIG_PARAMETER: ConfigOption,
    }
    return wrapper


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, with SIGTERM taken like Ctrl-C: the work is cancelled and cleans up after itself
    (a ComfyUI or A1111 job is interrupted, a prompt deleted from the queue) instead of the process
    dying mid-call. ``easel run`` installs its own handlers for both signals while it serves."""
    if threading.current_thread() is not threading.main_thread():
        return asyncio.run(coro)
    previous = signal.signal(signal.SIGTERM, _as_interrupt)
    try:
        return asyncio.run(coro)
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _as_interrupt(signum: int, frame: object) -> None:
    signal.raise_signal(signal.SIGINT)
