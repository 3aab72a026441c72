"""``/healthz`` (database and scheduler liveness) and ``/metrics`` (Prometheus text format)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bot.core.messages import Incoming
from bot.core.types import JobEvent, Reply, Target
from tests.web.conftest import WebRun, open_web


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, keyed by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_healthz_is_ok_when_the_database_answers(web: WebRun) -> None:
    """200 with the parts named."""
    response = await web.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "scheduler": "absent"}


async def test_healthz_fails_when_the_scheduler_is_not_alive(tmp_path: Path) -> None:
    """A dead scheduler makes the process unhealthy (503); a live one is reported running."""
    alive = [True]
    async with open_web(tmp_path, scheduler_alive=lambda: alive[0]) as run:
        assert (await run.client.get("/healthz")).json()["scheduler"] == "running"
        alive[0] = False
        response = await run.client.get("/healthz")
        assert response.status_code == 503
        assert response.json() == {"status": "unhealthy", "database": "ok", "scheduler": "stopped"}


async def test_healthz_fails_when_the_database_is_gone(web: WebRun, tmp_path: Path) -> None:
    """The database directory replaced by a file: new connections fail, so 503."""
    database_dir = tmp_path / "db"
    shutil.move(database_dir, tmp_path / "moved")
    database_dir.write_text("not a directory")
    await web.adapter.gallery.engine.dispose()  # drop pooled connections to the moved file
    response = await web.client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


async def test_metrics_are_in_the_prometheus_text_format(web: WebRun) -> None:
    """The exposition parses, with the queue gauges at zero when idle."""
    response = await web.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    found = samples(response.text)
    assert found[("easel_queue_depth", ())] == 0
    assert found[("easel_jobs_running", ())] == 0


async def test_metrics_move_after_a_generation(web: WebRun) -> None:
    """One image: a latency observation for the provider, a done job, a web delivery."""
    await web.generate("a red fox")
    found = samples((await web.client.get("/metrics")).text)
    assert found[("easel_generation_seconds_count", (("provider", "builtin"),))] == 1
    assert found[("easel_jobs_total", (("outcome", "done"),))] == 1
    assert found[("easel_deliveries_total", (("platform", "web"),))] == 1


class Lan:
    """A chat platform whose users are held to the rates (the web chat's operator is not)."""

    name = "lan"

    def __init__(self) -> None:
        self.sent: list[Reply] = []

    async def send(self, target: Target, reply: Reply) -> list[str]:
        self.sent.append(reply)
        return [str(len(self.sent))]

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        return None

    async def delete(self, target: Target, message_ids: Sequence[str]) -> None:
        return None


async def test_metrics_count_rate_limit_rejections(tmp_path: Path) -> None:
    """A refused request is counted under the limit's scope."""
    lan = Lan()
    async with open_web(tmp_path, env={"EASEL__LIMITS__USER_RATE": "1/minute"}, others={"lan": lan}) as run:
        await run.login()
        ask = {"platform": "lan", "chat_id": "c1", "user_id": "u1"}
        assert await run.easel.front.handle(Incoming(text="a red fox", **ask)) is not None
        assert await run.easel.front.handle(Incoming(text="a blue fox", **ask)) is None
        assert "too fast" in lan.sent[-1].text
        found = samples((await run.client.get("/metrics")).text)
        assert found[("easel_rate_limited_total", (("scope", "user"),))] == 1


async def test_two_instances_keep_separate_registries(tmp_path: Path, web: WebRun) -> None:
    """Each Easel has its own registry: another instance's counters do not move."""
    await web.generate("a red fox")
    async with open_web(tmp_path / "other") as other:
        found = samples((await other.client.get("/metrics")).text)
        assert ("easel_jobs_total", (("outcome", "done"),)) not in found
