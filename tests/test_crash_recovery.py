"""Crash recovery for real: `easel chat` with 30 queued jobs against a slow provider is killed with
SIGKILL mid-way and started again; every job ends delivered or failed with a message, and no finished
delivery is sent twice (except inside the documented window between a send and its record)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from bot.core.types import JobStatus
from bot.storage.db import make_engine
from bot.storage.tables import JobRow
from tests.fakes.providers.openai_images import FakeOpenAIImages

JOBS = 30
WORKERS = 4
KILL_AFTER_IMAGES = 8


def chat_env(db_url: str, media: Path, base_url: str) -> dict[str, str]:
    return os.environ | {
        "EASEL__DATABASE_URL": db_url,
        "EASEL__MEDIA_DIR": str(media),
        "EASEL__GENERATION__PROVIDER": "openai-compatible",
        "EASEL__GENERATION__WORKERS": str(WORKERS),
        "EASEL__PROVIDERS__OPENAI_COMPATIBLE__BASE_URL": base_url,
        "EASEL__PROVIDERS__OPENAI_COMPATIBLE__MAX_CONCURRENCY": str(WORKERS),
    }


async def start_chat(env: dict[str, str], stdin_text: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "chat",
        "--no-wait",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
    )
    assert process.stdin is not None
    process.stdin.write(stdin_text.encode())
    await process.stdin.drain()
    process.stdin.close()
    return process


async def statuses(db_url: str) -> Counter[str]:
    """How many jobs are in each status (read while no process runs)."""
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            return Counter((await conn.execute(select(JobRow.status))).scalars())
    finally:
        await engine.dispose()


def delivered_job(line: str) -> int | None:
    """The job id of a printed image path (from its JSON sidecar), or None for other lines."""
    if not line.endswith(".png"):
        return None
    sidecar = json.loads(Path(line).with_suffix(".json").read_text())
    return int(sidecar["job_id"])


async def test_sigkill_mid_run_then_restart_delivers_every_job_once(db_url: str, tmp_path: Path) -> None:
    """Kill -9 with jobs in flight, restart: all 30 jobs end done (or failed with a notice), none lost."""
    async with FakeOpenAIImages(delay_s=0.5) as fake:
        env = chat_env(db_url, tmp_path / "media", fake.base_url)
        prompts = "".join(f"/imagine lighthouse number {i}\n" for i in range(JOBS))
        first = await start_chat(env, prompts)
        assert first.stdout is not None
        first_lines: list[str] = []
        while sum(1 for line in first_lines if line.endswith(".png")) < KILL_AFTER_IMAGES:
            raw = await asyncio.wait_for(first.stdout.readline(), timeout=60)
            assert raw, "easel chat exited before it could be killed"
            first_lines.append(raw.decode().rstrip("\n"))
        first.send_signal(signal.SIGKILL)
        rest, _ = await first.communicate()
        first_lines += rest.decode().splitlines()
        assert first.returncode == -signal.SIGKILL
        in_flight = await statuses(db_url)

        second = await start_chat(env, "")
        out, _ = await asyncio.wait_for(second.communicate(), timeout=120)
        assert second.returncode == 0
        second_lines = out.decode().splitlines()

    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(JobRow.status, JobRow.notified, JobRow.id))).all()
            attempts = (await conn.execute(select(JobRow.attempts))).scalars().all()
    finally:
        await engine.dispose()
    assert len(rows) == JOBS
    assert all(
        status == JobStatus.DONE or (status == JobStatus.FAILED and notified) for status, notified, _ in rows
    )
    done = {job for status, _, job in rows if status == JobStatus.DONE}
    printed = Counter(j for line in first_lines + second_lines if (j := delivered_job(line)) is not None)
    assert done <= set(printed), "a finished job was never shown"
    duplicates = [job for job, count in printed.items() if count > 1]
    assert len(duplicates) <= WORKERS and all(printed[j] == 2 for j in duplicates)
    assert any(delivered_job(line) for line in second_lines), "the restart delivered nothing"
    assert in_flight[JobStatus.RUNNING] + in_flight[JobStatus.GENERATED] > 0, (
        "nothing was in flight at the kill"
    )
    if in_flight[JobStatus.RUNNING]:
        assert max(attempts) == 2, "a job running at the kill was not resumed"
