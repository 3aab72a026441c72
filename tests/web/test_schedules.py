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


async def test_the_table_lists_posts_and_birthdays_with_their_next_run_in_their_zone(web: WebRun) -> None:
    """A post in Europe/Berlin says its next run in Berlin's time; a birthday says whose it is."""
    added = await web.client.post(
        "/api/schedules",
        json={"when": "0 9 * * 1", "prompt": "a lighthouse", "tz": "Europe/Berlin", "target": ""},
    )
    assert added.status_code == 200 and added.json()["ok"], added.text
    await command(web, "/birthday set 14-03 Ann")
    table = (await web.client.get("/api/schedules")).json()
    post, birthday = table["schedules"]
    assert post["kind"] == "post" and post["prompt"] == "a lighthouse" and post["tz"] == "Europe/Berlin"
    assert post["next_run_local"].startswith("Mon ") and post["next_run_local"].endswith(" 09:00")
    assert post["last_run"] is None and post["enabled"]
    assert birthday["kind"] == "birthday" and birthday["birthday_of"] == "Ann"
    assert table["label"] == "Web chat"


async def test_preview_shows_the_next_runs_or_why_not(web: WebRun) -> None:
    """A phrase or a cron expression, in the time zone given; a clear 400 for nonsense."""
    found = await web.client.get(
        "/api/schedules/preview", params={"when": "every day at 09:00", "tz": "Asia/Tokyo"}
    )
    assert found.status_code == 200
    body = found.json()
    assert body["tz"] == "Asia/Tokyo" and len(body["runs"]) == 3
    assert all(run.endswith("09:00") for run in body["runs"])
    bad = await web.client.get("/api/schedules/preview", params={"when": "whenever you like"})
    assert bad.status_code == 400 and "couldn't tell when" in bad.json()["error"]
    zone = await web.client.get("/api/schedules/preview", params={"when": "every day", "tz": "Mars/Olympus"})
    assert zone.status_code == 400


async def test_buttons_pause_resume_run_and_delete_through_the_core(web: WebRun) -> None:
    """Each button is the /schedule command: the table follows; an id of another chat is not found."""
    added = await web.client.post("/api/schedules", json={"when": "every day at 09:00", "prompt": "a fox"})
    schedule_id = added.json()["replies"][0]["text"].split("#", 1)[1].split(":", 1)[0]
    paused = (await web.client.post(f"/api/schedules/{schedule_id}/pause", json={})).json()
    assert paused["ok"] and paused["replies"][0]["text"].startswith(f"Paused #{schedule_id}")
    assert (await web.client.get("/api/schedules")).json()["schedules"][0]["enabled"] is False
    assert (await web.client.post(f"/api/schedules/{schedule_id}/resume", json={})).json()["ok"]
    assert (await web.client.post(f"/api/schedules/{schedule_id}/remove", json={})).json()["ok"]
    assert (await web.client.get("/api/schedules")).json()["schedules"] == []
    missing = (await web.client.post("/api/schedules/999/run", json={})).json()
    assert not missing["ok"] and "no scheduled post #999" in missing["replies"][0]["text"]


async def test_hostile_schedule_requests_are_refused(web: WebRun) -> None:
    """Unknown verbs, non-ASCII ids, oversized fields, a foreign target, no CSRF token."""
    assert (await web.client.post("/api/schedules/1/explode", json={})).status_code == 400
    assert (await web.client.post("/api/schedules/\u0661/run", json={})).status_code == 400
    big = {"when": "every day", "prompt": "x" * 5000}
    assert (await web.client.post("/api/schedules", json=big)).status_code == 400
    foreign = {"when": "every day", "prompt": "a fox", "target": "telegram:-100"}
    assert (await web.client.post("/api/schedules", json=foreign)).status_code == 400
    flag = {"when": "every day", "prompt": "a fox", "tz": "UTC --provider x"}
    assert (await web.client.post("/api/schedules", json=flag)).status_code == 400
    del web.client.headers["X-CSRF-Token"]
    assert (await web.client.post("/api/schedules/1/run", json={})).status_code == 403


async def test_a_post_can_target_another_web_conversation(web: WebRun) -> None:
    """The form's target: the schedule belongs to that conversation, not to this one."""
    other = (await web.client.post("/api/conversations", json={"chat": "new"})).json()["chat"]
    await web.client.post("/api/conversations", json={"chat": "web"})
    added = await web.client.post(
        "/api/schedules", json={"when": "every day at 07:00", "prompt": "a sunrise", "target": other}
    )
    assert added.json()["ok"], added.text
    assert (await web.client.get("/api/schedules")).json()["schedules"] == []
    await web.client.post("/api/conversations", json={"chat": other})
    assert [s["prompt"] for s in (await web.client.get("/api/schedules")).json()["schedules"]] == [
        "a sunrise"
    ]
