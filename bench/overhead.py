"""Scenario 1, overhead and throughput: ``/imagine`` through the Telegram fake, Easel against a bare
python-telegram-bot application that answers every command with a fixed photo."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from bench.report import Result, percentile
from bench.telegram_harness import TimedTelegram, baseline_bot, closed_loop, easel_bot, one_by_one, small_png
from tests.fakes.scripted import ScriptedProvider

WARM_UP = 5

BotFactory = Callable[[TimedTelegram], AbstractAsyncContextManager[Any]]


def _instant(what_if: frozenset[str] = frozenset()) -> BotFactory:
    return lambda tg: easel_bot(tg, providers=[ScriptedProvider("instant")], what_if=what_if)


def _variants(quick: bool) -> list[tuple[str, BotFactory]]:
    variants: list[tuple[str, BotFactory]] = [
        ("bare PTB baseline", lambda tg: baseline_bot(tg, small_png())),
        ("Easel, instant provider", _instant()),
        ("Easel, builtin renderer (512 px)", lambda tg: easel_bot(tg, providers=None)),
    ]
    if not quick:
        variants += [
            ("what-if: no status message", _instant(frozenset({"no-status"}))),
            ("what-if: PTB concurrent updates", _instant(frozenset({"concurrent-updates"}))),
            ("what-if: both", _instant(frozenset({"no-status", "concurrent-updates"}))),
        ]
    return variants


@contextlib.asynccontextmanager
async def _running(factory: BotFactory) -> AsyncIterator[TimedTelegram]:
    async with TimedTelegram() as tg, factory(tg):
        yield tg


async def _measure(factory: BotFactory, users: int, total: int, alone: int) -> dict[str, float]:
    async with _running(factory) as tg:
        await one_by_one(tg, WARM_UP)
        single = await one_by_one(tg, alone)
        tg.forget_history()
        cpu = time.process_time()
        loaded = await closed_loop(tg, users, total)
        cpu = time.process_time() - cpu
        calls = len(tg.calls) - len(tg.calls_to("getUpdates"))
    return {
        "alone p50": percentile(single.latencies_ms, 50),
        "alone p99": percentile(single.latencies_ms, 99),
        "loaded p50": percentile(loaded.latencies_ms, 50),
        "loaded p99": percentile(loaded.latencies_ms, 99),
        "req/s": loaded.per_s,
        "calls/req": calls / total,
        "cpu/req": cpu * 1000 / total,
    }


def run(quick: bool) -> list[Result]:
    users, total, alone = (40, 160, 20) if quick else (200, 1000, 100)
    result = Result(
        f"1. /imagine through the Telegram fake: {total} requests from {users} users (closed loop)",
        [
            "bot",
            "alone p50 ms",
            "alone p99 ms",
            "loaded p50 ms",
            "loaded p99 ms",
            "req/s",
            "x baseline",
            "CPU ms/req",
            "API calls/req",
        ],
    )
    baseline_rate = float("nan")
    for name, factory in _variants(quick):
        figures = asyncio.run(_measure(factory, users, total, alone))
        if name.startswith("bare"):
            baseline_rate = figures["req/s"]
        result.add(
            name,
            figures["alone p50"],
            figures["alone p99"],
            figures["loaded p50"],
            figures["loaded p99"],
            figures["req/s"],
            figures["req/s"] / baseline_rate,
            figures["cpu/req"],
            figures["calls/req"],
        )
    result.notes += [
        f"alone: {alone} requests from one user, each sent after the previous photo arrived "
        "(the bot's own latency); loaded: every user sends its next request when its photo arrives.",
        "latency: from the Update being queued for getUpdates to sendPhoto arriving at the fake.",
        "CPU ms/req: the process's CPU time (all threads: bot, SQLite, fake) over the loaded run, per "
        "request; steadier than wall-clock figures on a busy machine.",
        "PTB's AIORateLimiter runs with no limits (Telegram's 30 messages/s would cap every figure).",
        "what-if rows patch the running adapter to measure changes NOT made: no queued/generating status "
        "message; PTB handling up to 256 updates at once (it handles one at a time).",
    ]
    return [result]
