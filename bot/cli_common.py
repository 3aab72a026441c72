"""What every ``easel`` command shares: reading the settings named by ``--config``, and turning Easel's
errors into one clear line on stderr with an exit code (2: the configuration or the command line, 1:
the request could not be done)."""

from __future__ import annotations

import asyncio
import functools
import signal
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from bot.core.errors import ConfigError, EaselError, InvalidInput, LimitExceeded, NotFound
from bot.settings import AppSettings, load_settings

__all__ = ["err", "friendly", "run", "settings_of"]

T = TypeVar("T")
err = Console(stderr=True, highlight=False, markup=False)


def settings_of(ctx: typer.Context) -> AppSettings:
    """The settings of ``easel --config PATH <command>`` (the root command holds the path)."""
    root = ctx.find_root()
    return load_settings(root.obj if isinstance(root.obj, Path) else None)


def friendly(func: Callable[..., T]) -> Callable[..., T]:
    """Easel's errors as one line on stderr and an exit code; Ctrl-C as 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        except EaselError as exc:
            # The operator is the reader: the full message, except where the user's answer says it better.
            answer = isinstance(exc, InvalidInput | NotFound | LimitExceeded)
            err.print(f"error: {exc.user_message if answer else exc}", style="red", soft_wrap=True)
            raise typer.Exit(2 if isinstance(exc, ConfigError | InvalidInput) else 1) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

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
