"""Scenario 9, a burst under flood control: 300 chats each send ``/imagine`` at once; Easel and a bare
python-telegram-bot application, both with PTB's ``AIORateLimiter`` at its defaults (30 calls a second
overall, 20 a minute per group), against the same Telegram fake; the provider answers at once, so what
is measured is the bot's own work and the Bot API calls it spends.

Figures: photos a second (300 over the time to the last photo), Bot API calls per request (all calls
but ``getUpdates``, over the requests), the first and last photo's latency. Three runs each; the table
gives min / median / max.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from telegram.ext import AIORateLimiter

from bench.report import Result
from bench.telegram_harness import TimedTelegram, baseline_bot, easel_bot, small_png
from tests.fakes.scripted import ScriptedProvider

CHATS = 300
FIRST_CHAT = 50_000

BotFactory = Callable[[TimedTelegram], AbstractAsyncContextManager[Any]]


class SqlCounter:
    """SQL statements and commits of every engine in the process while counting."""

    def __init__(self) -> None:
        self.statements = self.commits = 0
        self.counting = False

    def __enter__(self) -> SqlCounter:
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "commit", self._commit)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._statement)
        event.remove(Engine, "commit", self._commit)

    def _statement(self, *args: Any) -> None:
        self.statements += self.counting

    def _commit(self, *args: Any) -> None:
        self.commits += self.counting


def _easel(limited: bool) -> BotFactory:
    return lambda tg: easel_bot(tg, providers=[ScriptedProvider("instant")], telegram_limits=limited)


def _baseline(limited: bool) -> BotFactory:
    return lambda tg: baseline_bot(tg, small_png(), rate_limiter=AIORateLimiter() if limited else None)


async def _burst(factory: BotFactory, chats: int) -> dict[str, float]:
    with SqlCounter() as sql:
        return await _measure(factory, chats, sql)


async def _measure(factory: BotFactory, chats: int, sql: SqlCounter) -> dict[str, float]:
    async with TimedTelegram() as tg, factory(tg):
        warm = tg.inject(FIRST_CHAT - 1, FIRST_CHAT - 1, "/imagine a warm-up fox")
        await warm.answered
        await asyncio.sleep(1.1)  # the limiter's second of warm-up calls is over
        tg.forget_history()
        started = time.perf_counter()
        cpu = time.process_time()
        sql.counting = True
        waiters = [
            tg.inject(FIRST_CHAT + i, FIRST_CHAT + i, f"/imagine fox number {i}") for i in range(chats)
        ]
        answered = sorted([await w.answered for w in waiters])
        cpu = time.process_time() - cpu
        calls = len(tg.calls) - len(tg.calls_to("getUpdates"))
        await asyncio.sleep(0.5)  # late chatter (a status message deleted after its photo) counts too
        late = len(tg.calls) - len(tg.calls_to("getUpdates")) - calls
        sql.counting = False
    return {
        "statements/request": sql.statements / chats,
        "commits/request": sql.commits / chats,
        "photos/s": chats / (answered[-1] - started),
        "calls/request": (calls + late) / chats,
        "first s": answered[0] - started,
        "last s": answered[-1] - started,
        "cpu ms/request": cpu * 1000 / chats,
    }


def _spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def run(quick: bool) -> list[Result]:
    chats, runs = (100, 1) if quick else (CHATS, 3)
    tables = []
    for limited in (True, False):
        title = "with AIORateLimiter (30/s)" if limited else "without flood control"
        result = Result(
            f"9. Burst: {chats} chats send /imagine at once, {title} (min / median / max of {runs})",
            [
                "bot",
                "photos/s",
                "vs bare",
                "Bot API calls/request",
                "last photo s",
                "CPU ms/request",
                "SQL statements/request",
                "commits/request",
            ],
        )
        figures: dict[str, list[dict[str, float]]] = {}
        for name, factory in (("bare PTB", _baseline(limited)), ("Easel", _easel(limited))):
            figures[name] = [asyncio.run(_burst(factory, chats)) for _ in range(runs)]
        bare = statistics.median(f["photos/s"] for f in figures["bare PTB"])
        for name, runs_of in figures.items():

            def col(key: str, of: list[dict[str, float]] = runs_of) -> list[float]:
                return [f[key] for f in of]

            ratio = statistics.median(col("photos/s")) / bare
            result.add(
                name, _spread(col("photos/s")), ratio, _spread(col("calls/request")),
                _spread(col("last s")), _spread(col("cpu ms/request")),
                _spread(col("statements/request")), _spread(col("commits/request")),
            )  # fmt: skip
        result.notes.append("the provider answers at once; the fake and both bots share one event loop")
        tables.append(result)
    return tables
