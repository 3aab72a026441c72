"""Discord across a restart: persistent buttons keep working, and a job resumed by the next process is
still delivered through the interaction token kept with the job."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_harness import running_discord
from tests.fakes.scripted import ScriptedProvider


async def test_buttons_work_after_a_restart(tmp_path: Path, db_url: str) -> None:
    """Reroll pressed on a result from a previous process makes a new image in the new one."""
    url = db_url
    async with FakeDiscord() as dc:
        async with running_discord(tmp_path, url, dc=dc) as first:
            message = await first.result_of(dc.slash("imagine", {"prompt": "a red fox"}))
        async with running_discord(tmp_path, url, dc=dc) as second:
            reroll = next(c for c in dc.custom_ids(message) if c.startswith("easel:r:"))
            await second.result_of(dc.press(int(message["id"]), reroll))
            record = await second.easel.history.get_generation(generation_id=2)
            assert record is not None and record.kind == "reroll" and record.parent_id == 1


async def test_a_job_resumed_after_a_restart_edits_the_original_response(tmp_path: Path, db_url: str) -> None:
    """A job cut off by a shutdown is finished by the next process and lands in the original response
    (its interaction token was stored with the job)."""
    url = db_url
    async with FakeDiscord() as dc:
        never = asyncio.Event()
        async with running_discord(tmp_path, url, dc=dc, providers=[ScriptedProvider(gate=never)]) as first:
            it = dc.slash("imagine", {"prompt": "a patient fox"})
            await dc.wait_for(lambda: (m := dc.original(it)) is not None and "Generating" in m["content"])
            job = await first.easel.jobs.get_job(job_id=1)
            assert job is not None and job.status == "running"
        async with running_discord(tmp_path, url, dc=dc, providers=[ScriptedProvider()]) as second:
            message = await second.result_of(it)
            assert message["embeds"] and dc.custom_ids(message)
