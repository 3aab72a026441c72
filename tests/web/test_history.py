"""The conversation survives a restart (``/api/history``, read from the database), and a browser keeps
its own conversation (``/api/conversations``, a cookie) or goes back to the main one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.web.conftest import WebRun, open_web


async def history(run: WebRun, **params: Any) -> dict[str, Any]:
    response = await run.client.get("/api/history", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_after_a_restart_the_conversation_is_read_from_the_database(tmp_path: Path) -> None:
    """Oldest first, each picture with the request that made it, its images, buttons and parent."""
    async with open_web(tmp_path) as run:
        await run.login()
        first = await run.generate("a blue house")
        second = await run.generate("make it warmer", reply_to=first)
    async with open_web(tmp_path) as run:
        await run.login()
        page = await history(run)
    assert [entry["reply"]["generation_id"] for entry in page["items"]] == [first, second]
    request, reply = page["items"][1]["request"], page["items"][1]["reply"]
    assert request["text"] == "make it warmer" and request["reply_to"] == first and request["mine"]
    assert reply["images"][0]["url"] == f"/images/{second}/0"
    assert reply["actions"] == ["reroll", "vary", "upscale", "edit", "download"]
    assert reply["text"].startswith("edit: make it warmer") and f"#{second}" in reply["text"]
    assert page["before"] is None


async def test_older_pictures_come_a_page_at_a_time(tmp_path: Path) -> None:
    """``limit`` pictures per page; ``before`` names where the next (older) page starts."""
    async with open_web(tmp_path) as run:
        await run.login()
        made = [await run.generate(f"picture {n}") for n in range(3)]
    async with open_web(tmp_path) as run:
        await run.login()
        newest = await history(run, limit=2)
        older = await history(run, limit=2, before=newest["before"])
    assert [e["reply"]["generation_id"] for e in newest["items"]] == made[1:]
    assert newest["before"] == made[1]
    assert [e["reply"]["generation_id"] for e in older["items"]] == made[:1]
    assert older["before"] is None


async def test_pictures_made_since_the_start_come_from_the_replay_only(web: WebRun) -> None:
    """The event hub replays them with their requests: the history leaves them out (no doubles)."""
    generation = await web.generate("a windmill")
    assert (await history(web))["items"] == []
    replies = [e.data for e in web.adapter.hub.recent(chat="web") if e.data["type"] == "reply"]
    assert [r["generation_id"] for r in replies] == [generation]


async def test_bad_paging_numbers_are_refused(web: WebRun) -> None:
    """``before`` must be written in ASCII digits."""
    response = await web.client.get("/api/history", params={"before": "١٢"})
    assert response.status_code == 400


async def test_a_new_conversation_is_kept_by_the_browser_and_apart_from_the_main_one(tmp_path: Path) -> None:
    """Its cookie keeps it across a restart; its pictures are not in the main conversation."""
    async with open_web(tmp_path) as run:
        await run.login()
        main = await run.generate("in the main conversation")
        switched = await run.client.post("/api/conversations", json={"chat": "new"})
        assert switched.status_code == 200, switched.text
        chat = switched.json()["chat"]
        assert chat.startswith("w") and switched.json()["label"].startswith("Web chat of ")
        assert (await run.client.get("/api/session")).json()["chat"] == chat
        other = await run.generate("in a new one")
        cookies = dict(run.client.cookies)
    async with open_web(tmp_path) as run:
        run.client.cookies.update(cookies)
        await run.login()
        assert [e["reply"]["generation_id"] for e in (await history(run))["items"]] == [other]
        listed = (await run.client.get("/api/conversations")).json()
        assert listed["current"] == chat
        assert [c["id"] for c in listed["conversations"]] == ["web", chat]
        await run.client.post("/api/conversations", json={"chat": "web"})
        assert [e["reply"]["generation_id"] for e in (await history(run))["items"]] == [main]


async def test_a_conversation_id_that_is_not_one_is_refused(web: WebRun) -> None:
    """Only ``new``, ``web`` or an id Easel makes; a forged cookie is the main conversation."""
    for wanted in ("../etc", "w2025", 7, None, "web:web"):
        response = await web.client.post("/api/conversations", json={"chat": wanted})
        assert response.status_code == 400, wanted
    web.client.cookies.set("easel_chat", "telegram:-100")
    assert (await web.client.get("/api/session")).json()["chat"] == "web"


async def test_the_event_stream_carries_only_the_browsers_conversation(web: WebRun) -> None:
    """A page in one conversation is not sent another's messages."""
    await web.generate("in the main conversation")
    await web.client.post("/api/conversations", json={"chat": "new"})
    chats = set()
    async with web.client.stream("GET", "/api/events") as response:
        await web.send("/help")
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                event = json.loads(line[6:])
                chats.add(event["chat"])
                if event["type"] == "reply":
                    break
    assert chats == {(await web.client.get("/api/session")).json()["chat"]}
