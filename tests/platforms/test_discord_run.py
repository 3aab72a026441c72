"""`easel run` as a real process with a Discord token: answers /imagine, then stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_harness import picture
from tests.fakes.discord_world import TOKEN


async def test_easel_run_answers_imagine_with_a_16_9_png(tmp_path: Path) -> None:
    """`run` defers /imagine within 3 s, then edits in a 16:9 PNG with buttons; exits 0; logs no token."""
    async with FakeDiscord() as dc:
        env = os.environ | {
            "EASEL__DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}",
            "EASEL__MEDIA_DIR": str(tmp_path / "media"),
            "EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "160",
            "EASEL__WEB__ENABLED": "false",
            "EASEL__DISCORD__TOKEN": TOKEN,
            "EASEL__DISCORD__API_BASE_URL": dc.api_base_url,
            "EASEL__DISCORD__GATEWAY_URL": dc.gateway_url,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await dc.wait_for(lambda: dc.ready and None in dc.commands, 30)
            it = dc.slash("imagine", {"prompt": "a red fox", "aspect": "16:9"})
            await dc.wait_for(lambda: (m := dc.original(it)) is not None and m["attachments"], 30)
            assert it.response_type == 5 and it.responded_at is not None and it.responded_at - it.created < 3
            message = dc.original(it)
            assert message is not None and len(dc.custom_ids(message)) == 5  # r, v, u, e, d
            img = picture(dc.file_bytes(message["attachments"][0]))
            assert img.format == "PNG" and abs(img.width / img.height - 16 / 9) < 0.05
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, stderr.decode()
        assert TOKEN not in stderr.decode()
        assert not dc.errors, dc.errors
