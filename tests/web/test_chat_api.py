"""The chat over HTTP: prompts, edits, buttons, live events, commands and the images themselves."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image as PILImage

from tests.web.conftest import WebRun, open_web, png


async def test_a_prompt_makes_an_image_served_by_generation_and_index(web: WebRun) -> None:
    """A prompt with flags becomes an image the page can load by generation id and position."""
    generation = await web.generate("a red fox in the snow --ar 16:9")
    response = await web.client.get(f"/images/{generation}/0")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    record = await web.easel.history.get_generation(generation_id=generation)
    assert record is not None and record.params["aspect"] == "16:9"


async def test_download_link_sends_the_file_as_an_attachment(web: WebRun) -> None:
    """``?download=1`` names the file for saving."""
    generation = await web.generate("a lighthouse")
    response = await web.client.get(f"/images/{generation}/0", params={"download": "1"})
    assert response.headers["content-disposition"] == f'attachment; filename="easel-{generation}-1.png"'


async def test_gallery_thumbnails_are_small_webp(tmp_path: Path) -> None:
    """``?thumb=1`` scales a large image down to fit 384 px, as WebP."""
    async with open_web(tmp_path, env={"EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "1024"}) as run:
        await run.login()
        generation = await run.generate("a mountain lake --ar 16:9")
        item = (await run.client.get("/api/gallery")).json()["items"][0]
        assert item["images"][0]["thumb"] == f"/images/{generation}/0?thumb=1"
        response = await run.client.get(item["images"][0]["thumb"])
        assert response.headers["content-type"] == "image/webp"
        thumb = PILImage.open(io.BytesIO(response.content))
        assert max(thumb.size) == 384 and thumb.size[0] > thumb.size[1]


async def test_editing_an_image_records_parent_and_child(web: WebRun) -> None:
    """ "make it warmer" in reply to #n edits n; the lineage API shows both directions."""
    first = await web.generate("a blue house")
    second = await web.generate("make it warmer", reply_to=first)
    child = (await web.client.get(f"/api/generations/{second}")).json()
    parent = (await web.client.get(f"/api/generations/{first}")).json()
    assert child["kind"] == "edit" and child["parent"]["id"] == first
    assert [c["id"] for c in parent["children"]] == [second]


async def test_an_uploaded_image_is_edited(web: WebRun) -> None:
    """A dropped/pasted image with an instruction becomes an edit job."""
    generation = await web.generate("make it warmer", image=png())
    record = await web.easel.history.get_generation(generation_id=generation)
    assert record is not None and record.kind == "edit" and record.images


async def test_reroll_button_makes_a_new_generation(web: WebRun) -> None:
    """The Reroll button sends the same command as Telegram's button."""
    first = await web.generate("a castle")
    response = await web.client.post("/api/actions", json={"action": "reroll", "generation_id": first})
    assert response.status_code == 200
    await web.easel.queue.wait_for(response.json()["job_id"])
    job = await web.easel.jobs.get_job(job_id=response.json()["job_id"])
    assert job is not None and job.generation_id is not None
    record = await web.easel.history.get_generation(generation_id=job.generation_id)
    assert record is not None and record.kind == "reroll" and record.prompt == "a castle"


async def test_unknown_button_is_refused(web: WebRun) -> None:
    """Only Reroll and Vary are server-side buttons."""
    response = await web.client.post("/api/actions", json={"action": "delete", "generation_id": 1})
    assert response.status_code == 400


async def test_events_stream_replays_progress_and_the_reply(web: WebRun) -> None:
    """A page that connects after the fact gets the queue position, the result and its buttons."""
    generation = await web.generate("a windmill")
    events = []
    async with web.client.stream("GET", "/api/events") as response:
        assert response.headers["content-type"] == "text/event-stream"
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if events[-1]["type"] == "reply":
                    break
    states = [e.get("state") for e in events if e["type"] == "job"]
    assert states[0] == "queued" and "started" in states
    reply = events[-1]
    assert reply["generation_id"] == generation
    assert reply["images"][0]["url"] == f"/images/{generation}/0"
    assert reply["actions"] == ["reroll", "vary", "upscale", "edit", "download"]


async def _first_event_id(web: WebRun, last_event_id: str) -> str:
    async with web.client.stream("GET", "/api/events", headers={"Last-Event-ID": last_event_id}) as response:
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                return line[4:]
    raise AssertionError("no event")


async def test_a_reconnecting_page_gets_only_what_it_missed(web: WebRun) -> None:
    """Last-Event-ID from this run skips what the page saw; one from before a restart replays all."""
    await web.generate("a windmill")
    ids = [f"{e.epoch}.{e.id}" for e in web.adapter.hub.recent()]
    assert await _first_event_id(web, ids[1]) == ids[2]
    assert await _first_event_id(web, "0badc0de.9999") == ids[0]


async def test_a_command_answers_in_the_response(web: WebRun) -> None:
    """/api/command runs a chat command and returns its replies instead of broadcasting them."""
    before = len(web.adapter.hub.recent())
    response = await web.client.post("/api/command", json={"text": "/status"})
    assert response.status_code == 200
    assert "Provider: builtin" in response.json()["replies"][0]["text"]
    assert len(web.adapter.hub.recent()) == before


async def test_a_bad_prompt_is_answered_in_the_chat(web: WebRun) -> None:
    """Router refusals reach the page as an error reply, not an HTTP failure."""
    response = await web.send("/imagine")
    assert response.status_code == 200 and response.json()["job_id"] is None
    reply = web.adapter.hub.recent()[-1].data
    assert reply["is_error"] and "Tell me what to draw" in reply["text"]


async def test_gallery_lists_newest_first_with_filters(web: WebRun) -> None:
    """The gallery API pages newest first and filters by provider."""
    first = await web.generate("one")
    second = await web.generate("two")
    items = (await web.client.get("/api/gallery")).json()["items"]
    assert [i["id"] for i in items] == [second, first]
    assert (await web.client.get("/api/gallery", params={"provider": "nope"})).json()["items"] == []
    older = (await web.client.get("/api/gallery", params={"before": second})).json()["items"]
    assert [i["id"] for i in older] == [first]
    facets = (await web.client.get("/api/gallery/facets")).json()
    assert facets["providers"] == ["builtin"] and facets["chats"][0]["label"] == "Web chat"


async def test_status_shows_chain_queue_and_limits(web: WebRun) -> None:
    """The status API exposes what the status page shows."""
    status = (await web.client.get("/api/status")).json()
    assert status["providers"] == [{"name": "builtin", "state": "closed"}]
    assert status["queue"]["waiting"] == 0 and status["limits"]["user_rate"] == "1000/minute"
    assert status["scheduler"] == "absent"


async def test_pages_are_served_with_security_headers(web: WebRun) -> None:
    """Every page is plain HTML from the package with a strict CSP."""
    for path in ("/", "/gallery", "/schedules", "/status", "/static/chat.js", "/static/style.css"):
        response = await web.client.get(path)
        assert response.status_code == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
