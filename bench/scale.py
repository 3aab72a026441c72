"""Replicas on PostgreSQL and Redis: throughput of 1, 2 and 4 worker processes behind one gateway, the
time a SIGKILLed worker's job waits for its lease to run out, and what splitting gateway from worker
adds to one request.

Real ``easel run --role ...`` processes (``tests/replicas/harness.py``), Telegram in webhook mode
against the project's fake, images from a pool of four one-GPU fake servers (1 s each, one request at
a time across every replica: the per-backend slots on Redis). Each worker runs one generation at a
time, so the workers, not the GPUs, are the bottleneck until four of them share the four GPUs.

Needs PostgreSQL (``EASEL_TEST_POSTGRES_URL``, default 127.0.0.1 database ``test``) and Redis
(``EASEL_TEST_REDIS_URL``); without them the table says why instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bench.report import Result
from tests.coordination.redis_env import redis_namespace
from tests.fakes.providers.openai_images import FakeOpenAIImages
from tests.fakes.telegram import FakeTelegram
from tests.pg_schema import fresh_schema
from tests.replicas.harness import Cluster, jobs

GPU_S = 1.0
GPUS = 4
POSTGRES_URL = os.environ.get("EASEL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1/test")
WORKER_ENV = {
    "EASEL__GENERATION__WORKERS": "1",
    "EASEL__PROVIDERS__OPENAI_COMPATIBLE__MAX_CONCURRENCY": "1",
}


def _schema() -> contextlib.AbstractAsyncContextManager[str]:
    """A fresh PostgreSQL schema (dropped afterwards): the database URL that uses it."""
    return fresh_schema(POSTGRES_URL, prefix="bench")


@contextlib.asynccontextmanager
async def _cluster() -> AsyncIterator[tuple[Cluster, list[FakeOpenAIImages]]]:
    async with contextlib.AsyncExitStack() as stack:
        db_url = await stack.enter_async_context(_schema())
        prefix = await stack.enter_async_context(redis_namespace())
        tg = await stack.enter_async_context(FakeTelegram())
        gpus = [
            await stack.enter_async_context(FakeOpenAIImages(delay_s=GPU_S, image_scale=0.125))
            for _ in range(GPUS)
        ]
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="easel-bench-scale-")))
        cluster = Cluster(tg, db_url, workdir, prefix)
        stack.push_async_callback(cluster.aclose)
        yield cluster, gpus


def _pool(gpus: Sequence[FakeOpenAIImages]) -> str:
    """The base_url list of the pool as an environment value (pydantic-settings reads JSON)."""
    return "[" + ",".join(f'"{g.base_url}"' for g in gpus) + "]"


async def _imagine(cluster: Cluster, index: int) -> None:
    cluster.tg.world.user_message(10_000 + index, 20_000 + index, text=f"/imagine tide pool {index}")
    assert await cluster.post(cluster.tg.world.updates.pop()) == 200


def _answered(cluster: Cluster, count: int) -> bool:
    return all(cluster.tg.photos(10_000 + i) for i in range(count))


async def _throughput(workers: int, count: int) -> tuple[float, int]:
    """Jobs a second through one gateway and ``workers`` workers; the most requests one GPU saw at once."""
    async with _cluster() as (cluster, gpus):
        await cluster.start("gateway", _pool(gpus), **WORKER_ENV)
        for _ in range(workers):
            await cluster.start("worker", _pool(gpus), **WORKER_ENV)
        started = time.perf_counter()
        for i in range(count):
            await _imagine(cluster, i)
        await cluster.until(lambda: _answered(cluster, count), 30 + count * GPU_S * 2, "every photo")
        elapsed = time.perf_counter() - started
        return count / elapsed, max(g.most_in_flight for g in gpus)


async def _latency(split: bool, count: int) -> list[float]:
    """Seconds from webhook to photo for one request at a time (minus the GPU's second)."""
    async with _cluster() as (cluster, gpus):
        if split:
            await cluster.start("gateway", _pool(gpus), **WORKER_ENV)
            await cluster.start("worker", _pool(gpus), **WORKER_ENV)
        else:
            await cluster.start("all", _pool(gpus), **WORKER_ENV)
        extra: list[float] = []
        for i in range(count):
            started = time.perf_counter()
            await _imagine(cluster, i)
            await cluster.until(functools.partial(_answered, cluster, i + 1), 30, "the photo")
            extra.append(time.perf_counter() - started - GPU_S)
        return extra


async def _takeover(lease_s: float) -> tuple[float, float]:
    """A worker SIGKILLed mid-generation: seconds until its job is claimed again, and until its photo."""
    env = WORKER_ENV | {"EASEL__GENERATION__LEASE_S": str(lease_s)}
    async with _cluster() as (cluster, gpus):
        for gpu in gpus:
            gpu.delay_s = 3.0  # long enough to kill the worker while its job is at the GPU
        await cluster.start("gateway", _pool(gpus), **env)
        doomed = await cluster.start("worker", _pool(gpus), **env)
        await _imagine(cluster, 0)
        await cluster.until(lambda: any(g.requests for g in gpus), 20, "the generation")
        await cluster.start("worker", _pool(gpus), **env)
        await cluster.kill(doomed)
        killed = time.perf_counter()

        async def retaken() -> bool:
            return any(
                row.attempts >= 2 and not doomed.owns(row.lease_owner) for row in await jobs(cluster.db_url)
            )

        await cluster.until(retaken, lease_s + 30, "the takeover")
        claimed = time.perf_counter() - killed
        await cluster.until(lambda: _answered(cluster, 1), 30, "the photo")
        return claimed, time.perf_counter() - killed


async def _scenario(quick: bool) -> list[Result]:
    count = 8 if quick else 24
    throughput = Result(
        f"Replicas: {count} requests, one gateway, N workers (1 generation each), {GPUS} one-GPU servers "
        f"of {GPU_S:.0f} s",
        ["workers", "jobs/s", "vs 1 worker", "ideal", "most requests on one GPU"],
    )
    base = 0.0
    for workers in (1, 2) if quick else (1, 2, 4):
        rate, most = await _throughput(workers, count)
        base = base or rate
        throughput.add(str(workers), rate, rate / base, float(min(workers, GPUS)), most)
    throughput.notes.append(
        "ideal: the workers' capacity (one 1 s generation each at a time, at most 4 GPUs)"
    )

    latency = Result(
        "Replicas: one request at a time, seconds beyond the GPU's 1 s (webhook to photo)",
        ["processes", "median", "max"],
    )
    for split in (False, True):
        extra = await _latency(split, 3 if quick else 8)
        latency.add(
            "gateway + worker" if split else "one `all` replica", statistics.median(extra), max(extra)
        )

    takeover = Result(
        "Replicas: a worker SIGKILLed while its job is at the GPU (3 s)",
        ["lease_s", "claimed again after s", "photo after s"],
    )
    for lease_s in (2.0,) if quick else (2.0, 10.0):
        claimed, photo = await _takeover(lease_s)
        takeover.add(f"{lease_s:.0f}", claimed, photo)
    takeover.notes.append("a job is retaken only once its lease has run out; a live worker's never is")
    return [throughput, latency, takeover]


async def _missing() -> str | None:
    """Why the replicas cannot run here (no PostgreSQL, no Redis), or None."""
    try:
        async with _schema(), redis_namespace():
            return None
    except (OSError, SQLAlchemyError) as exc:
        return f"PostgreSQL at {POSTGRES_URL} unreachable: {exc}"
    except BaseException as exc:  # pytest's Skipped (a BaseException) when Redis does not answer
        if type(exc).__name__ != "Skipped":
            raise
        return str(exc)


def run(quick: bool) -> list[Result]:
    reason = asyncio.run(_missing())
    if reason is not None:
        skipped = Result("Replicas (skipped)", ["reason"])
        skipped.add(reason[:200])
        return [skipped]
    return asyncio.run(_scenario(quick))
