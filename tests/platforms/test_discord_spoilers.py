"""A reply marked as a spoiler goes to Discord as SPOILER_ files (Discord blurs them until clicked)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.core.types import Image, Reply, Target
from tests.fakes.discord_harness import running_discord
from tests.fakes.discord_world import CHANNEL, USER
from tests.fakes.scripted import png


async def test_a_spoiler_reply_uploads_files_named_spoiler(tmp_path: Path) -> None:
    """Reply(spoiler=True) → an attachment named SPOILER_easel-…png; an ordinary one has no prefix."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}"
    async with running_discord(tmp_path, url) as bot:
        stored = await bot.easel.artifacts.save(
            Image(data=png(), mime="image/png", width=8, height=8), metadata={}, now=datetime.now(UTC)
        )
        names: list[str] = []
        for spoiler in (True, False):
            it = bot.dc.slash("status")
            await bot.dc.wait_for(lambda it=it: bot.dc.original(it) is not None)
            extra = {"token": it.token, "channel_id": str(CHANNEL), "issued_at": bot.clock.now().timestamp()}
            target = Target("discord", str(CHANNEL), str(USER), extra=extra)
            await bot.adapter.send(target, Reply(text="a fox", images=(stored,), spoiler=spoiler))
            sent = [m for m in [bot.dc.original(it), *bot.dc.followups(it)] if m and m["attachments"]]
            names += [a["filename"] for m in sent for a in m["attachments"]]
        assert names[0].startswith("SPOILER_easel-") and names[0].endswith(".png")
        assert not names[1].startswith("SPOILER_")
