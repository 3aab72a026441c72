"""Discord channel posts are exactly-once across a crash: a keyed reply (a job's result or failure notice)
carries a nonce per message with ``enforce_nonce``, so the process restarted after a kill between
Discord's answer and the delivery record gets the message already made back instead of posting a copy."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import random
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from PIL import Image as PILImage
from sqlalchemy import select

from bot.core.jobs.delivery import result_key
from bot.core.types import DELIVERY_KEY, JobStatus, Reply, StoredImage, Target
from bot.platforms.discord.adapter import DiscordAdapter
from bot.platforms.discord.nonces import MAX_NONCE, nonce_for
from bot.settings import load_settings
from bot.storage.db import make_engine
from bot.storage.tables import JobRow
from tests.fakes.clock import FixedClock
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_harness import env_for
from tests.fakes.discord_world import BOT_ID, CHANNEL, TOKEN, USER

NOISE_SIZE = (300, 200)
TWO_GROUPS_LIMIT = 250_000
"""Each noisy PNG (about 180 kB) fits a message under this limit, two do not: one message each."""


def target() -> Target:
    return Target("discord", str(CHANNEL), user_id=str(USER), extra={"channel_id": CHANNEL})


def keyed(text: str, key: str, images: tuple[StoredImage, ...] = ()) -> Reply:
    return Reply(text=text, images=images, generation_id=1 if images else None, extra={DELIVERY_KEY: key})


def noisy_image(tmp_path: Path, seed: int) -> StoredImage:
    """An incompressible PNG on disk (about 180 kB), as the artifact store would hand it over."""
    width, height = NOISE_SIZE
    buffer = io.BytesIO()
    noise = random.Random(seed).randbytes(width * height * 3)
    PILImage.frombytes("RGB", NOISE_SIZE, noise).save(buffer, format="PNG")
    data = buffer.getvalue()
    path = tmp_path / f"noise{seed}.png"
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    return StoredImage(f"noise{seed}", path, "image/png", digest, len(data), width, height)


@asynccontextmanager
async def process(dc: FakeDiscord, tmp_path: Path) -> AsyncIterator[DiscordAdapter]:
    """A Discord adapter as a fresh process has it: logged in over REST, knowing nothing of before."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}"
    settings = load_settings(None, environ=env_for(dc, tmp_path, url))
    adapter = DiscordAdapter(settings.discord, clock=FixedClock())
    await adapter.initialize()
    try:
        yield adapter
    finally:
        await adapter.shutdown()


async def test_a_keyed_reply_sent_again_by_a_restarted_process_posts_once(tmp_path: Path) -> None:
    """The same keyed text reply sent by two processes in turn makes one channel message."""
    async with FakeDiscord() as dc:
        async with process(dc, tmp_path) as first:
            ids = await first.send(target(), keyed("a red fox", result_key(7)))
        async with process(dc, tmp_path) as second:
            again = await second.send(target(), keyed("a red fox", result_key(7)))
        assert again == ids and len(dc.channel_messages(CHANNEL)) == 1
        assert not dc.errors, dc.errors


async def test_a_result_in_several_messages_is_posted_once_by_a_restarted_process(tmp_path: Path) -> None:
    """A result of two image messages, sent again after a restart, still makes exactly those two."""
    images = (noisy_image(tmp_path, 1), noisy_image(tmp_path, 2))
    where = Target("discord", str(CHANNEL), extra={"channel_id": CHANNEL, "filesize_limit": TWO_GROUPS_LIMIT})
    async with FakeDiscord() as dc:
        async with process(dc, tmp_path) as first:
            ids = await first.send(where, keyed("a red fox", result_key(8), images))
        async with process(dc, tmp_path) as second:
            again = await second.send(where, keyed("a red fox", result_key(8), images))
        posted = [m for m in dc.channel_messages(CHANNEL) if m["attachments"]]
        assert len(ids) == 2 and again == ids and [m["id"] for m in posted] == ids
        assert [m["nonce"] for m in posted] == [nonce_for(result_key(8), 0), nonce_for(result_key(8), 1)]


async def test_different_keys_make_different_messages(tmp_path: Path) -> None:
    """Two replies with the same text but different keys (two jobs) are two messages."""
    async with FakeDiscord() as dc, process(dc, tmp_path) as adapter:
        one = await adapter.send(target(), keyed("a red fox", result_key(1)))
        two = await adapter.send(target(), keyed("a red fox", result_key(2)))
        assert one != two and len(dc.channel_messages(CHANNEL)) == 2


async def test_an_unkeyed_reply_is_posted_each_time(tmp_path: Path) -> None:
    """A reply without a key (a quick answer) gets discord.py's random nonce: sent twice, posted twice."""
    async with FakeDiscord() as dc, process(dc, tmp_path) as adapter:
        await adapter.send(target(), Reply(text="Nothing to do."))
        await adapter.send(target(), Reply(text="Nothing to do."))
        nonces = {m["nonce"] for m in dc.channel_messages(CHANNEL)}
        assert len(dc.channel_messages(CHANNEL)) == 2 and len(nonces) == 2


async def test_the_fake_answers_404_for_the_nonce_of_a_deleted_message() -> None:
    """An enforced nonce whose message was deleted since is refused with 404, as discord.py documents."""
    async with FakeDiscord() as dc:
        _, made = await post(dc, {"content": "hi", "nonce": "job-1.0", "enforce_nonce": True})
        dc.world.deleted.add(int(str(made["id"])))
        status, _ = await post(dc, {"content": "hi", "nonce": "job-1.0", "enforce_nonce": True})
        assert status == 404 and len(dc.channel_messages(CHANNEL)) == 0


def test_a_long_key_still_makes_a_nonce_within_25_characters() -> None:
    """A key too long to show whole is hashed: within 25 characters, the same in every process."""
    key = "schedule-123456789012345678901234567890"
    assert len(nonce_for(key, 3)) <= MAX_NONCE and nonce_for(key, 3) == nonce_for(key, 3)
    assert nonce_for(key, 3) != nonce_for(key, 4)


async def post(dc: FakeDiscord, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    """A raw Create Message in the default channel, as the bot."""
    url = f"{dc.api_base_url}/channels/{CHANNEL}/messages"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers={"Authorization": f"Bot {TOKEN}"}) as response,
    ):
        return response.status, await response.json()


async def test_the_fake_refuses_a_nonce_of_26_characters() -> None:
    """A 26-character nonce is a 400 Invalid Form Body naming the nonce field, and makes nothing."""
    async with FakeDiscord() as dc:
        status, body = await post(dc, {"content": "hi", "nonce": "n" * 26, "enforce_nonce": True})
        assert (status, body["code"]) == (400, 50035)
        too_long = {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 25 or fewer in length."}
        assert body["errors"] == {"nonce": {"_errors": [too_long]}}
        assert dc.channel_messages(CHANNEL) == []


async def test_the_fake_returns_the_earlier_message_for_an_enforced_nonce() -> None:
    """The same enforced nonce again answers 200 with the first message's id and creates nothing."""
    async with FakeDiscord() as dc:
        first = await post(dc, {"content": "hi", "nonce": "job-1.0", "enforce_nonce": True})
        second = await post(dc, {"content": "hi again", "nonce": "job-1.0", "enforce_nonce": True})
        assert first[0] == second[0] == 200 and first[1]["id"] == second[1]["id"]
        assert len(dc.channel_messages(CHANNEL)) == 1


async def test_the_fake_only_echoes_a_nonce_that_is_not_enforced() -> None:
    """Without enforce_nonce the same nonce twice makes two messages, each echoing it."""
    async with FakeDiscord() as dc:
        await post(dc, {"content": "hi", "nonce": 12})
        await post(dc, {"content": "hi", "nonce": 12})
        assert [m["nonce"] for m in dc.channel_messages(CHANNEL)] == [12, 12]


async def test_the_fake_forgets_an_enforced_nonce_after_its_window() -> None:
    """Past the 300 s window (the fake's injectable clock) the same nonce makes a new message."""
    async with FakeDiscord() as dc:
        now = [1000.0]
        dc.nonces.clock = lambda: now[0]
        await post(dc, {"content": "hi", "nonce": "job-1.0", "enforce_nonce": True})
        now[0] += 301
        await post(dc, {"content": "hi", "nonce": "job-1.0", "enforce_nonce": True})
        assert len(dc.channel_messages(CHANNEL)) == 2


# ------------------------------------------------------------------------------------ a real kill


async def start(dc: FakeDiscord, tmp_path: Path, url: str) -> asyncio.subprocess.Process:
    env = os.environ | env_for(dc, tmp_path, url) | {"EASEL__WEB__ENABLED": "false"}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def job_status(url: str) -> str | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(select(JobRow.status).where(JobRow.id == 1))).scalar()
    finally:
        await engine.dispose()


async def test_sigkill_after_discord_took_the_result_then_restart_posts_it_once(tmp_path: Path) -> None:
    """`easel run` killed -9 while Discord's answer to the result post is on its way (the message made,
    its delivery not recorded); the next `easel run` delivers the job again: one result message."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}"
    async with FakeDiscord() as dc:
        hold = dc.hold_uploads = asyncio.Event()
        first = await start(dc, tmp_path, url)
        try:
            await dc.wait_for(lambda: dc.ready and dc.commands, 30)  # connected and synced: listening
            dc.say("a lighthouse at dusk", mention_bot=True)
            await dc.wait_for(lambda: any(m["attachments"] for m in dc.channel_messages(CHANNEL)), 30)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        dc.hold_uploads = None
        hold.set()
        assert await job_status(url) == JobStatus.GENERATED, "the kill did not fall between send and record"
        second = await start(dc, tmp_path, url)
        try:
            for _ in range(300):
                if await job_status(url) == JobStatus.DONE:
                    break
                await asyncio.sleep(0.1)
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), 30)
        assert await job_status(url) == JobStatus.DONE
        results = [m for m in dc.channel_messages(CHANNEL) if m["attachments"]]
        assert len(results) == 1 and results[0]["author"]["id"] == str(BOT_ID)
        posts = [c for c in dc.calls_to("channel_messages") if c.method == "POST" and c.files]
        assert len(posts) == 2, "the restart did not send the result again"
