"""The job pipeline alone (no chat platform): ``EaselService.handle`` straight in, an in-process sink
out; jobs per second with an instant provider, and memory with thousands of queued jobs."""

from __future__ import annotations

import asyncio
import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image as PILImage

from bench.report import Result
from bot.app import open_easel
from bot.core.messages import Incoming
from bot.core.ports import ProgressCallback
from bot.core.types import Capabilities, Image, ImageRequest, JobEvent, ProviderHealth, Reply, Target
from bot.settings import load_settings

_PNG = io.BytesIO()
PILImage.new("RGB", (64, 64), (120, 90, 200)).save(_PNG, format="PNG")
PNG = _PNG.getvalue()


class InstantProvider:
    """Answers at once with a small PNG (or waits on ``gate`` when given)."""

    name = "instant"
    capabilities = Capabilities(edit=True, max_n=4, negative_prompt=True, seed=True, max_reference_images=1)

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.gate = gate

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        if self.gate is not None:
            await self.gate.wait()
        return [Image(PNG, "image/png", 64, 64, seed=request.seed, provider=self.name, model="m")] * request.n

    async def check(self) -> ProviderHealth:
        return ProviderHealth(ok=True)

    async def aclose(self) -> None:
        return None


class Sink:
    name = "bench"

    def __init__(self) -> None:
        self.results = 0

    async def send(self, target: Target, reply: Reply) -> list[str]:
        self.results += bool(reply.images)
        return ["m"]

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        return None


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def settings(root: Path, database_url: str | None, workers: int, max_queue: int) -> Any:
    return load_settings(
        None,
        environ={
            "EASEL__DATABASE_URL": database_url or f"sqlite+aiosqlite:///{root / 'bench.db'}",
            "EASEL__MEDIA_DIR": str(root / "media"),
            "EASEL__GENERATION__WORKERS": str(workers),
            "EASEL__LIMITS__MAX_QUEUE": str(max_queue),
            "EASEL__LIMITS__USER_RATE": "1000000/minute",
            "EASEL__LIMITS__CHAT_RATE": "1000000/minute",
            "EASEL__LIMITS__GLOBAL_RATE": "1000000/minute",
            "EASEL__LIMITS__DAILY_IMAGES_PER_USER": "0",
        },
    )


def message(i: int, users: int) -> Incoming:
    user = f"user{i % users}"
    return Incoming(
        platform="bench", chat_id=user, user_id=user, text=f"/imagine a fox {i}", message_id=str(i)
    )


async def throughput(jobs: int, users: int, workers: int, database_url: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        sink = Sink()
        config = settings(Path(tmp), database_url, workers, max_queue=jobs + 1)
        async with open_easel(
            config, platforms={"bench": sink}, providers_override=[InstantProvider()]
        ) as easel:
            submit_ms: list[float] = []
            start = time.perf_counter()
            for i in range(jobs):
                t0 = time.perf_counter()
                await easel.service.handle(message(i, users))
                submit_ms.append((time.perf_counter() - t0) * 1000)
            await easel.queue.drain()
            elapsed = time.perf_counter() - start
        assert sink.results == jobs, f"{sink.results} of {jobs} delivered"
        return {
            "jobs/s": jobs / elapsed,
            "submit p50 ms": statistics.median(submit_ms),
            "submit p99 ms": statistics.quantiles(submit_ms, n=100)[98],
        }


async def queued_memory(jobs: int, database_url: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        gate = asyncio.Event()
        config = settings(Path(tmp), database_url, workers=4, max_queue=jobs + 1)
        sink = Sink()
        async with open_easel(
            config, platforms={"bench": sink}, providers_override=[InstantProvider(gate)]
        ) as easel:
            before = rss_mb()
            start = time.perf_counter()
            for i in range(jobs):
                await easel.service.handle(message(i, users=200))
            accept_s = time.perf_counter() - start
            after = rss_mb()
            t0 = time.perf_counter()
            await easel.service.handle(
                Incoming(
                    platform="bench", chat_id="user1", user_id="user1", text="/status", message_id="status"
                )
            )
            status_ms = (time.perf_counter() - t0) * 1000
            gate.set()
            await easel.queue.drain()
        return {
            "accepted/s": jobs / accept_s,
            "RSS before MB": before,
            "RSS with queue MB": after,
            "KB per queued job": (after - before) * 1024 / jobs,
            "/status ms": status_ms,
        }


def run(quick: bool, database_url: str | None = None) -> list[Result]:
    jobs = 200 if quick else 1000
    queued = 300 if quick else 2000
    result = Result(
        f"6. Job pipeline without a chat platform: {jobs} jobs from 50 users", ["measure", "value"]
    )
    for workers in (4,) if quick else (1, 4):
        figures = asyncio.run(throughput(jobs, users=50, workers=workers, database_url=database_url))
        for name, value in figures.items():
            result.add(f"{workers} worker(s): {name}", value)
    for name, value in asyncio.run(queued_memory(queued, database_url)).items():
        result.add(f"{queued} queued jobs (provider blocked): {name}", value)
    result.notes.append("EaselService.handle called directly; the platform is an in-process sink.")
    return [result]
