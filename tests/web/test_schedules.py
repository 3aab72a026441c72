"""The schedules page's commands (``/schedule …`` through ``/api/command``) against the real scheduler,
and a scheduled post arriving in the shared web chat."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.scheduler.service import SchedulerService
from tests.web.conftest import WebRun, open_web


async def command(run: WebRun, text: str) -> str:
    response = await run.client.post("/api/command", json={"text": text})
    assert response.status_code == 200, response.text
    return "\n".join(reply["text"] for reply in response.json()["replies"])


async def test_create_list_pause_and_run_a_schedule(tmp_path: Path) -> None:
    """What the page's forms send; "run now" posts an image into the web chat for everyone."""
    holder: list[SchedulerService] = []
    async with open_web(tmp_path, scheduler_alive=lambda: holder[0].is_running()) as run:
        scheduler = run.easel.scheduler
        holder.append(scheduler)
        await scheduler.start()
        try:
            await run.login()
            assert (await run.client.get("/healthz")).json()["scheduler"] == "running"
            added = await command(run, "/schedule add every day at 09:00 a lighthouse at dawn")
            assert added.startswith("Scheduled #")
            schedule_id = added.split("#", 1)[1].split(":", 1)[0]
            assert "a lighthouse at dawn" in await command(run, "/schedule list")
            assert (await command(run, f"/schedule pause {schedule_id}")).startswith(f"Paused #{schedule_id}")
            assert "[paused]" in await command(run, "/schedule list")
            async with run.adapter.hub.subscribe() as events, asyncio.timeout(10):
                assert await command(run, f"/schedule run {schedule_id}") == f"Running #{schedule_id} now."
                post: dict[str, Any] = {}
                while not post.get("images"):
                    event = await events.get()
                    assert event is not None
                    post = event.data
            assert post["chat"] == "web"
            image = await run.client.get(post["images"][0]["url"])
            assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
        finally:
            await scheduler.stop()
