"""Any replica can deliver an interaction's result: through the interaction token kept with the job,
over REST, from a Discord adapter that never saw the interaction nor connected to the gateway."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image as PILImage

from bot.core.types import Image, Reply
from bot.platforms.discord.adapter import DiscordAdapter
from tests.fakes.discord_harness import running_discord
from tests.fakes.scripted import ScriptedProvider


def png(width: int = 96, height: int = 64) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


async def test_an_adapter_that_never_connected_edits_the_original_response(tmp_path: Path) -> None:
    """A second DiscordAdapter that only logged in over REST delivers the image of a job another
    adapter received into that interaction's original response; it never opens a gateway session."""
    gate = asyncio.Event()
    url = f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}"
    env = {"EASEL__SHUTDOWN_GRACE_S": "0"}  # the held job is interrupted at once at the end
    async with running_discord(tmp_path, url, env=env, providers=[ScriptedProvider(gate=gate)]) as first:
        dc = first.dc
        it = dc.slash("imagine", {"prompt": "a patient fox"})
        await dc.wait_for(lambda: (m := dc.original(it)) is not None and "Generating" in m["content"])
        job = await first.easel.jobs.get_job(job_id=1)
        assert job is not None
        data = png()
        stored = await first.easel.artifacts.save(
            Image(data=data, mime="image/png", width=96, height=64), metadata={}, now=datetime.now(UTC)
        )
        other = DiscordAdapter(first.settings.discord, clock=first.clock)  # the same time as the first
        await other.initialize()
        try:
            ids = await other.send(job.target, Reply(text="a patient fox", images=(stored,)))
        finally:
            await other.shutdown()
        message = dc.original(it)
        assert message is not None and ids == [message["id"]]
        assert dc.file_bytes(message["attachments"][0]) == data
        assert len(dc.identified) == 1, "the second adapter opened a gateway session"
