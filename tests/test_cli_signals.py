"""`easel gen` stopped by SIGTERM (a supervisor, `kill`, `timeout`) cleans up like Ctrl-C: the job it
started on the user's ComfyUI is interrupted instead of running on for nobody."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from tests.fakes.providers.comfyui import FakeComfyUI


async def test_sigterm_to_gen_interrupts_its_comfyui_job(tmp_path: Path) -> None:
    """A slow generation, then SIGTERM: the fake ComfyUI sees our prompt deleted and interrupted."""
    async with FakeComfyUI(step_s=2.0) as fake:  # 8 s per image: longer than the test takes
        env = os.environ | {
            "EASEL__DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}",
            "EASEL__MEDIA_DIR": str(tmp_path / "media"),
            "EASEL__GENERATION__PROVIDER": "comfyui",
            "EASEL__PROVIDERS__COMFYUI__BASE_URL": fake.base_url,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "gen", "a slow lighthouse", "--out", str(tmp_path / "out"),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not fake.prompt_ids and time.monotonic() < deadline:  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.05)
        assert fake.prompt_ids, "the generation never reached ComfyUI"
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode != 0, err.decode()
        assert fake.deleted == fake.prompt_ids[:1] and fake.interrupts == 1, err.decode()[-2000:]
