"""Scenario 5, the scheduler at scale: start-up with 100,000 schedules in the database, and how late
1,000 runs due at the same instant get their jobs queued (``bot.scheduler`` as ``serve`` builds it,
an instant provider, the results delivered to an in-process sink)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.loop_lag import lag_probe
from bench.pipeline import Sink, settings
from bench.report import Result, percentile
from bot.app import open_easel
from bot.core.schedules.ports import TriggerSpec
from bot.core.types import Reply, Target
from bot.storage.migrate import upgrade
from tests.fakes.scripted import ScriptedProvider

LEAD_S = 4.0
"""How far ahead of start-up the due runs' fire time is set."""


class CountingSink(Sink):
    """The pipeline bench's sink, which also says when ``expected`` results have arrived."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self.expected = expected
        self.all_in = asyncio.Event()

    async def send(self, target: Target, reply: Reply) -> list[str]:
        ids = await super().send(target, reply)
        if self.results >= self.expected:
            self.all_in.set()
        return ids


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _rows(total: int, due: int, fire: datetime, now: datetime) -> Iterator[tuple[Any, ...]]:
    spec = json.dumps(TriggerSpec(kind="cron", cron="0 9 * * *").to_json())
    created = _stamp(now - timedelta(days=1))
    for i in range(total):
        target = json.dumps(Target(platform="bench", chat_id=f"c{i}", user_id=f"u{i}").to_json())
        when = fire if i < due else now + timedelta(hours=1, seconds=i)
        yield (
            "post", target, "every day at 09:00", spec, "UTC", f"a lighthouse {i}", "bench", f"u{i}", "",
            1, 0, 0, _stamp(when), created, created,
        )  # fmt: skip


def _fill(db_file: Path, total: int, due: int, fire: datetime, now: datetime) -> float:
    started = time.perf_counter()
    db = sqlite3.connect(db_file)
    with db:
        db.executemany(
            "INSERT INTO schedules (kind, target, when_text, spec, tz, prompt, owner_platform, owner_user, "
            "owner_name, enabled, counter, failures, next_fire_at, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            _rows(total, due, fire, now),
        )
    db.close()
    return time.perf_counter() - started


async def _measure(total: int, due: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="easel-bench-") as tmp:
        root = Path(tmp)
        config = settings(root, None, workers=16, max_queue=due * 2 + 10)
        url = config.database_url
        await upgrade(url)
        now = datetime.now(UTC)
        fire = (now + timedelta(seconds=LEAD_S)).replace(microsecond=0)
        fill_s = _fill(root / "bench.db", total, due, fire, now)
        sink = CountingSink(due)
        async with open_easel(
            config, platforms={"bench": sink}, providers_override=[ScriptedProvider("instant")]
        ) as easel:
            scheduler = easel.scheduler
            started = time.perf_counter()
            await scheduler.start()
            startup_s = time.perf_counter() - started
            try:
                async with lag_probe() as probe:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(sink.all_in.wait(), LEAD_S + 120)
                    lags = list(probe.lags_ms)
            finally:
                await scheduler.stop()
            async with easel.jobs._engine.connect() as conn:
                rows = (
                    await conn.execute(
                        text(
                            "SELECT r.fire_time, j.created_at FROM schedule_runs r "
                            "JOIN jobs j ON j.id = r.job_id"
                        )
                    )
                ).all()
    late = [(_parse(created) - _parse(fired)).total_seconds() * 1000 for fired, created in rows]
    return {
        "fill_s": fill_s,
        "startup_s": startup_s,
        "jobs": len(late),
        "delivered": sink.results,
        "late p50": percentile(late, 50),
        "late p99": percentile(late, 99),
        "late max": max(late, default=float("nan")),
        "lag p99": percentile(lags, 99),
        "lag max": max(lags, default=float("nan")),
    }


def _parse(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def run(quick: bool) -> list[Result]:
    total, due = (20_000, 200) if quick else (100_000, 1_000)
    f = asyncio.run(_measure(total, due))
    result = Result(
        f"5. Scheduler: {total:,} schedules, {due:,} runs due at the same instant", ["measure", "value"]
    )
    result.add(f"start-up: load {total:,} schedules and open runs (s)", f["startup_s"])
    result.add("runs whose job was queued / results delivered", f"{f['jobs']:,} / {f['delivered']:,}")
    result.add(
        "job queued after the fire time: p50 / p99 / max ms",
        f"{f['late p50']:,.0f} / {f['late p99']:,.0f} / {f['late max']:,.0f}",
    )
    result.add("loop lag meanwhile: p99 / max ms", f"{f['lag p99']:.1f} / {f['lag max']:.1f}")
    result.notes.append(
        f"schedules bulk-inserted with executemany in {f['fill_s']:.1f} s (not measured as start-up); "
        "16 workers, instant provider; lateness = the job row's created_at minus the run's fire time."
    )
    return [result]
