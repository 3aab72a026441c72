"""A reply marked as a spoiler reaches the web chat flagged, for the page to blur until clicked."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.types import Image, Reply, Target
from tests.web.conftest import WebRun, png


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
