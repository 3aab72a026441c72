"""`easel run` as a real process with a Telegram token: answers, then stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.platforms.conftest import CHAT, USER, picture


async def test_easel_run_answers_imagine_and_stops_on_sigterm(tmp_path: Path, db_url: str) -> None:
    """`run` starts the adapter, answers /imagine with a 16:9 photo, exits 0 on SIGTERM, logs no token."""
    async with FakeTelegram() as tg:
        env = os.environ | {
            "EASEL__DATABASE_URL": db_url,
            "EASEL__MEDIA_DIR": str(tmp_path / "media"),
            "EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "160",
            "EASEL__TELEGRAM__TOKEN": TOKEN,
            "EASEL__WEB__ENABLED": "false",
            "EASEL__TELEGRAM__BASE_URL": tg.base_url,
            "EASEL__TELEGRAM__BASE_FILE_URL": tg.base_file_url,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await tg.wait_for(lambda: tg.calls_to("getUpdates"), 30)
            tg.say(CHAT, USER, "/imagine a red fox --ar 16:9")
            await tg.wait_for(lambda: tg.photos(CHAT), 30)
            img = picture(tg.file_bytes(tg.photos(CHAT)[0]))
            assert abs(img.width / img.height - 16 / 9) < 0.05
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, stderr.decode()
        assert TOKEN.split(":")[1] not in stderr.decode()  # httpx would log it in every request URL
