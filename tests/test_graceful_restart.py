"""A planned restart never duplicates: `easel run` gets SIGTERM while a scheduled post is on its way
(the photo already shows in the chat, Telegram's answer not yet back), finishes and records that
delivery before exiting, and the next start sends nothing again. Real processes, the fake Bot API."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.platforms.conftest import CHAT, USER


async def start(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


def captions(tg: FakeTelegram, generation: int) -> list[str]:
    return [m["caption"] for m in tg.photos(CHAT) if f"#{generation} ·" in m["caption"]]


async def test_sigterm_during_a_scheduled_post_then_restart_posts_it_once(
    tmp_path: Path, db_url: str
) -> None:
    """SIGTERM while the post's sendPhoto is unanswered: one photo of it in all, none after restart."""
    async with FakeTelegram() as tg:
        env = os.environ | {
            "EASEL__DATABASE_URL": db_url,
            "EASEL__MEDIA_DIR": str(tmp_path / "media"),
            "EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "160",
            "EASEL__TELEGRAM__TOKEN": TOKEN,
            "EASEL__TELEGRAM__STATUS_DELAY_S": "30",
            "EASEL__WEB__ENABLED": "false",
            "EASEL__TELEGRAM__BASE_URL": tg.base_url,
            "EASEL__TELEGRAM__BASE_FILE_URL": tg.base_file_url,
        }
        first = await start(env)
        await tg.wait_for(lambda: tg.calls_to("getUpdates"), 30)
        tg.say(CHAT, USER, "/schedule add every day at 03:00 a lighthouse in a storm")
        await tg.wait_for(lambda: any("Scheduled #1" in t for t in tg.texts(CHAT)), 30)
        tg.answer_late("sendPhoto", 2.0)
        tg.say(CHAT, USER, "/schedule run 1")
        await tg.wait_for(lambda: captions(tg, 1), 30)
        await stop(first)  # the photo shows; Telegram's answer is still 2 s away

        second = await start(env)
        await tg.wait_for(lambda: len(tg.calls_to("getUpdates")) > 1, 30)
        tg.say(CHAT, USER, "/imagine a red fox")  # answered after anything the restart resumed
        await tg.wait_for(lambda: captions(tg, 2), 30)
        await stop(second)
        assert len(captions(tg, 1)) == 1
