"""Scenario: one provider over four backends of different speeds (0.5, 1, 2 and 4 s a request, each a
GPU serving one request at a time), through :class:`~bot.providers._http.backends.BackendPool`.

Low load: one request at a time. High load: 16 clients each sending the next request as soon as the
last one is answered. Each is run under the pool's policy (finish first: the free backend with the
least ``(in_flight + 1) * estimate``) and under the previous one (least busy, ties round-robin,
reproduced by a subclass) for comparison. The calls are ``asyncio.sleep`` scaled by ``SCALE``; the
latencies (from asking for a backend to the answer, pool waits included) are reported scaled back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from bench.report import Result, percentile
from bot.providers._http.backends import BackendPool, _State

SPEEDS_S = (0.5, 1.0, 2.0, 4.0)
URLS = tuple(f"http://gpu-{i}.invalid:7860" for i in range(len(SPEEDS_S)))
SCALE = 0.05  # 1 s of a backend = 50 ms here
CLIENTS = 16
WARM_UP = CLIENTS  # "max warm": over the requests after the first 16 (the pool knows no speeds before)

# This scenario's full run against the pool module as it was before issue 16 (mean / p50 / max, s).
BEFORE = (
    "measured before issue 16 with the unchanged pool (full run, mean/p50/max s): low 1.88/1.01/4.01, "
    "share 25/25/25/25 %; high cap 1 4.16/4.04/8.03; high cap 8 4.28/2.02/16.1"
)


class LeastBusyPool(BackendPool):
    """The policy before issue 16: least busy first, ties round-robin; no speed estimates."""

    def _by_preference(self, free: list[_State]) -> list[_State]:
        count = len(self._states)
        order = [self._states[(self._next + i) % count] for i in range(count)]
        return sorted((s for s in order if s in free), key=lambda s: s.in_flight)


class Gpus:
    """Four fake servers, each answering one request at a time after its own service time."""

    def __init__(self) -> None:
        self._speed = dict(zip(URLS, SPEEDS_S, strict=True))
        self._busy = {url: asyncio.Lock() for url in URLS}
        self.served = dict.fromkeys(URLS, 0)

    async def generate(self, url: str) -> None:
        async with self._busy[url]:  # a queue at the server when the pool lets several in
            await asyncio.sleep(self._speed[url] * SCALE)
        self.served[url] += 1


async def _one(pool: BackendPool, gpus: Gpus) -> float:
    start = time.perf_counter()
    await pool.call(gpus.generate)
    return (time.perf_counter() - start) / SCALE


async def _low(pool: BackendPool, gpus: Gpus, requests: int) -> list[float]:
    return [await _one(pool, gpus) for _ in range(requests)]


async def _high(pool: BackendPool, gpus: Gpus, requests: int) -> list[float]:
    """Latencies in the order the requests were sent."""
    latencies = [float("nan")] * requests
    sent = 0

    async def client() -> None:
        nonlocal sent
        while sent < requests:
            index, sent = sent, sent + 1
            latencies[index] = await _one(pool, gpus)
            await asyncio.sleep(0)  # delivering the answer: lets the pool's woken waiters in first

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return latencies


def _measure(policy: type[BackendPool], load: str, cap: int, requests: int) -> tuple[list[float], Gpus]:
    """Latencies (scaled back, in the order sent) and the servers' counts, on a fresh pool."""

    async def go() -> tuple[list[float], Gpus]:
        pool, gpus = policy(URLS, max_per_backend=cap), Gpus()
        latencies = await (_low if load == "low" else _high)(pool, gpus, requests)
        return latencies, gpus

    return asyncio.run(go())


def _share(gpus: Gpus) -> str:
    total = sum(gpus.served.values())
    return "/".join(f"{100 * n / total:.0f}" for n in gpus.served.values())


def run(quick: bool) -> list[Result]:
    low_n, high_n = (20, 64) if quick else (40, 160)
    result = Result(
        "Backends of different speeds (0.5/1/2/4 s): latency by pool policy",
        [
            "load",
            "policy",
            "requests",
            "mean s",
            "p50 s",
            "p90 s",
            "max s",
            "max warm s",
            "share % (0.5/1/2/4 s)",
        ],
    )
    runs: Sequence[tuple[str, str, int, int]] = (
        ("low (1 at a time)", "low", 1, low_n),
        (f"high ({CLIENTS} clients), cap 1", "high", 1, high_n),
        (f"high ({CLIENTS} clients), cap 8", "high", 8, high_n),
    )
    for label, load, cap, requests in runs:
        for name, policy in (("least busy (old)", LeastBusyPool), ("finish first", BackendPool)):
            latencies, gpus = _measure(policy, load, cap, requests)
            mean = sum(latencies) / len(latencies)
            warm = latencies[WARM_UP:]
            result.add(
                label,
                name,
                len(latencies),
                mean,
                percentile(latencies, 50),
                percentile(latencies, 90),
                max(latencies),
                max(warm),
                _share(gpus),
            )
    result.notes.append(
        f"calls are asyncio.sleep x {SCALE} and reported scaled back; latency includes waiting for a slot; "
        "cap = max_per_backend (1: the pool never queues at a GPU; 8: up to 8 queue at each); "
        f"max warm = the largest after the first {WARM_UP} requests sent"
    )
    result.notes.append(
        "high load is a closed loop with every GPU kept busy, so the mean is set by the total throughput "
        "(16 clients / 3.75 requests a second = 4.3 s) under either policy; the choice moves the tail"
    )
    result.notes.append(BEFORE)
    return [result]
