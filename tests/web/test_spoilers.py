"""A reply marked as a spoiler reaches the web chat flagged, for the page to blur until clicked; a picture
sent hidden stays so in the history read back after a restart and in the gallery."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.core.types import Image, Reply, Target
from tests.web.conftest import WebRun, open_web, png


async def test_a_spoiler_reply_is_flagged_for_the_page(web: WebRun) -> None:
    """Reply(spoiler=True) → ``"spoiler": true`` in the chat's event; an ordinary reply → false."""
    stored = await web.easel.artifacts.save(
        Image(data=png(), mime="image/png", width=64, height=48), metadata={}, now=datetime.now(UTC)
    )
    await web.adapter.send(Target("web", "web"), Reply(text="hidden", images=(stored,), spoiler=True))
    await web.adapter.send(Target("web", "web"), Reply(text="shown", images=(stored,)))
    hidden, shown = (event.data for event in web.adapter.hub.recent()[-2:])
    assert hidden["text"] == "hidden" and hidden["spoiler"] is True
    assert shown["spoiler"] is False


async def test_a_picture_sent_hidden_stays_hidden_after_a_restart(tmp_path: Path) -> None:
    """Made under /settings policy spoiler: /api/history (read back from the database) marks it spoiler."""
    async with open_web(tmp_path) as run:
        await run.login()
        shown = await run.generate("a blue house")
        response = await run.client.post("/api/command", json={"text": "/settings policy spoiler"})
        assert response.status_code == 200, response.text
        hidden = await run.generate("a red house")
    async with open_web(tmp_path) as run:
        await run.login()
        response = await run.client.get("/api/history")
    replies = {entry["reply"]["generation_id"]: entry["reply"] for entry in response.json()["items"]}
    assert replies[hidden]["spoiler"] is True and replies[shown]["spoiler"] is False


async def test_the_gallery_marks_a_picture_sent_hidden(web: WebRun) -> None:
    """The gallery's item says spoiler for a picture its chat was sent hidden, not for the others."""
    await web.login()
    shown = await web.generate("a blue house")
    await web.client.post("/api/command", json={"text": "/settings policy spoiler"})
    hidden = await web.generate("a red house")
    items = {item["id"]: item for item in (await web.client.get("/api/gallery")).json()["items"]}
    assert items[hidden]["spoiler"] is True and items[shown]["spoiler"] is False
