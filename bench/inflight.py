"""Scenario 2, in-flight scale: thousands of ``/imagine`` requests at once through the Telegram fake,
against a provider that takes 20 s, with an event-loop lag probe running and ``/status`` asked during
the load. Workers are at their maximum (64, ``generation.workers``); the rest of the jobs wait queued.
"""

from __future__ import annotations

import asyncio
import time

from bench.loop_lag import lag_probe
from bench.report import Result, peak_rss_mb, percentile, reset_peak_rss, rss_mb
from bench.telegram_harness import FIRST_USER, TimedTelegram, easel_bot, latency_ms
from tests.fakes.scripted import ScriptedProvider

WORKERS = 64


async def _measure(jobs: int, provider_s: float, hold_s: float) -> dict[str, float]:
    provider = ScriptedProvider("slow", delay_s=provider_s)
    before = rss_mb()
    if not reset_peak_rss():
        before = float("nan")  # the peak below is then the whole process's, earlier scenarios included
    async with (
        TimedTelegram() as tg,
        easel_bot(tg, providers=[provider], env={"EASEL__GENERATION__WORKERS": str(WORKERS)}),
        lag_probe() as probe,
    ):
        await latency_ms(tg.inject(FIRST_USER, FIRST_USER, "/status", answer="text"))  # warm up
        start = time.perf_counter()
        queued = [
            tg.inject(FIRST_USER + i, FIRST_USER + i, f"/imagine a slow fox {i}", answer="text")
            for i in range(jobs)
        ]
        status_in_backlog = tg.inject(FIRST_USER, FIRST_USER, "/status", answer="text")
        accept_ms = [await latency_ms(waiter) for waiter in queued]
        accepted_s = time.perf_counter() - start
        backlog_status_ms = await latency_ms(status_in_backlog)
        accept_lags = list(probe.lags_ms)
        status_ms: list[float] = []
        hold_until = time.perf_counter() + hold_s
        while time.perf_counter() < hold_until:
            user = FIRST_USER + len(status_ms) % jobs
            status_ms.append(await latency_ms(tg.inject(user, user, "/status", answer="text")))
            await asyncio.sleep(0.25)
        hold_lags = probe.lags_ms[len(accept_lags) :]
        in_flight = len(provider.requests) - (provider.in_flight == 0)
        peak = peak_rss_mb()
    return {
        "accepted/s": jobs / accepted_s,
        "accept p50": percentile(accept_ms, 50),
        "accept p99": percentile(accept_ms, 99),
        "backlog status": backlog_status_ms,
        "accept lag p99": percentile(accept_lags, 99),
        "accept lag max": max(accept_lags, default=float("nan")),
        "hold lag p99": percentile(hold_lags, 99),
        "hold lag max": max(hold_lags, default=float("nan")),
        "status p50": percentile(status_ms, 50),
        "status p99": percentile(status_ms, 99),
        "rss before": before,
        "peak rss": peak,
        "provider calls": float(in_flight),
    }


def run(quick: bool) -> list[Result]:
    jobs, provider_s, hold_s = (200, 2.0, 3.0) if quick else (2000, 20.0, 25.0)
    f = asyncio.run(_measure(jobs, provider_s, hold_s))
    result = Result(
        f"2. {jobs:,} jobs in flight, provider takes {provider_s:g} s, {WORKERS} workers",
        ["measure", "value"],
    )
    result.add("requests accepted per second (Update queued → 'Queued' status message)", f["accepted/s"])
    result.add("accept latency p50 / p99 ms", f"{f['accept p50']:,.0f} / {f['accept p99']:,.0f}")
    result.add("/status sent behind the whole burst: answered after ms", f["backlog status"])
    result.add(
        "loop lag while accepting: p99 / max ms", f"{f['accept lag p99']:.1f} / {f['accept lag max']:.1f}"
    )
    result.add(
        f"loop lag while {jobs:,} jobs are in flight ({hold_s:g} s): p99 / max ms",
        f"{f['hold lag p99']:.1f} / {f['hold lag max']:.1f}",
    )
    result.add("/status during the load: p50 / p99 ms", f"{f['status p50']:.1f} / {f['status p99']:.1f}")
    result.add("RSS before start / peak MiB", f"{f['rss before']:.0f} / {f['peak rss']:.0f}")
    result.notes.append(
        "peak RSS is the whole process's high-water mark: the bot, python-telegram-bot, SQLite and the fake "
        "Bot API (which keeps every message) share it. Loop lag: a 10 ms ticker's lateness."
    )
    return [result]
