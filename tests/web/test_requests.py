"""A photo sent to edit shows in its sender's bubble; a request in progress can be stopped."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

from PIL import Image as PILImage

from tests.fakes.scripted import ScriptedProvider
from tests.web.conftest import WebRun, open_web, png


async def test_an_uploaded_photo_is_shown_small_in_the_senders_bubble(web: WebRun) -> None:
    """The message event names a thumbnail of the photo, served as WebP."""
    await web.generate("make it warmer", image=png(640, 480))
    message = next(e.data for e in web.adapter.hub.recent() if e.data["type"] == "message")
    assert message["has_image"] and message["image"]["url"].startswith("/uploads/")
    response = await web.client.get(message["image"]["url"])
    assert response.status_code == 200 and response.headers["content-type"] == "image/webp"
    assert max(PILImage.open(io.BytesIO(response.content)).size) == 256


async def test_an_unknown_upload_is_not_found(web: WebRun) -> None:
    """Only thumbnails this server made are served."""
    assert (await web.client.get(f"/uploads/{'0' * 32}")).status_code == 404


async def test_stop_ends_the_senders_running_request(tmp_path: Path) -> None:
    """The Stop button (``/api/cancel``) does what /cancel does: the running job ends cancelled."""
    provider = ScriptedProvider(gate=asyncio.Event())
    async with open_web(tmp_path, providers=[provider]) as run:
        await run.login()
        async with run.adapter.hub.subscribe() as events, asyncio.timeout(5):
            job_id = (await run.send("a slow lighthouse")).json()["job_id"]
            started: dict[str, Any] = {}
            while started.get("state") != "started":
                event = await events.get()
                assert event is not None
                started = event.data
        session = (await run.client.get("/api/session")).json()
        assert started["job_id"] == job_id and started["user_id"] == session["user_id"]
        response = await run.client.post("/api/cancel", json={})
        assert response.status_code == 200
        await run.easel.queue.wait_for(job_id)
        job = await run.easel.jobs.get_job(job_id=job_id)
        assert job is not None and job.status == "cancelled"
        texts = [e.data.get("text") for e in run.adapter.hub.recent()]
        assert "Cancelled 1 request(s)." in texts


async def test_stop_needs_the_pages_csrf_token(web: WebRun) -> None:
    """Like every POST, a cancel without the session's token is refused."""
    del web.client.headers["X-CSRF-Token"]
    assert (await web.client.post("/api/cancel", json={})).status_code == 403


async def test_stop_on_one_request_leaves_the_others_running(tmp_path: Path) -> None:
    """Stop with a job id ends that request only; the sender's other request goes on."""
    gate = asyncio.Event()
    async with open_web(tmp_path, providers=[ScriptedProvider(gate=gate)]) as run:
        await run.login()
        first = (await run.send("a slow lighthouse")).json()["job_id"]
        second = (await run.send("a slow harbour")).json()["job_id"]
        response = await run.client.post("/api/cancel", json={"job_id": second})
        assert response.status_code == 200
        await run.easel.queue.wait_for(second)
        gate.set()
        await run.easel.queue.wait_for(first)
        statuses = [(await run.easel.jobs.get_job(job_id=j)) for j in (first, second)]
        assert [job.status if job else None for job in statuses] == ["done", "cancelled"]


async def test_stop_cannot_name_a_job_of_another_chat(tmp_path: Path) -> None:
    """A job id that is not this browser's request here (another chat's, or made up) stops nothing."""
    gate = asyncio.Event()
    async with open_web(tmp_path, providers=[ScriptedProvider(gate=gate)]) as run:
        await run.login()
        mine = (await run.send("a slow lighthouse")).json()["job_id"]
        for forged in (mine + 1, 2**40, -1, "1", True):
            response = await run.client.post("/api/cancel", json={"job_id": forged})
            assert response.status_code in (200, 400)
        gate.set()
        await run.easel.queue.wait_for(mine)
        job = await run.easel.jobs.get_job(job_id=mine)
        assert job is not None and job.status == "done"
