"""Two gateway replicas behind a load balancer, in Telegram webhook mode on one database: an update
Telegram delivers twice (once to each) makes one job and one photo."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest

from bot.app import Easel, serve
from bot.settings import load_settings
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.platforms.conftest import CHAT, USER, free_port

SECRET = "s3cret-token"


@asynccontextmanager
async def replica(tg: FakeTelegram, db_url: str, media: Path) -> AsyncIterator[tuple[Easel, str]]:
    """One ``easel run`` in webhook mode (its own port); yields it and the URL it listens on."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    settings = load_settings(
        None,
        environ={
            "EASEL__DATABASE_URL": db_url,
            "EASEL__MEDIA_DIR": str(media),
            "EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "160",
            "EASEL__TELEGRAM__TOKEN": TOKEN,
            "EASEL__TELEGRAM__BASE_URL": tg.base_url,
            "EASEL__TELEGRAM__BASE_FILE_URL": tg.base_file_url,
            "EASEL__TELEGRAM__MODE": "webhook",
            "EASEL__TELEGRAM__WEBHOOK_URL": url,
            "EASEL__TELEGRAM__LISTEN": "127.0.0.1",
            "EASEL__TELEGRAM__PORT": str(port),
            "EASEL__TELEGRAM__SECRET_TOKEN": SECRET,
            "EASEL__TELEGRAM__STATUS_DELAY_S": "60",
            "EASEL__WEB__ENABLED": "false",
            "EASEL__SCHEDULER__ENABLED": "false",
        },
    )
    stop = asyncio.Event()
    ready: asyncio.Future[Easel] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(settings, stop=stop, on_ready=ready.set_result))
    done, _ = await asyncio.wait({task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    assert ready in done, "the replica did not start"
    try:
        yield ready.result(), url
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def test_an_update_delivered_to_two_replicas_makes_one_job(db_url: str, tmp_path: Path) -> None:
    """The same update posted to two replicas at once: both answer 200, one job, one photo."""
    if db_url.startswith("sqlite"):
        pytest.skip("several replicas need PostgreSQL: SQLite is for one process")
    async with FakeTelegram() as tg, AsyncExitStack() as stack:
        first, first_url = await stack.enter_async_context(replica(tg, db_url, tmp_path / "media"))
        _, second_url = await stack.enter_async_context(replica(tg, db_url, tmp_path / "media"))
        message = tg.world.user_message(CHAT, USER, text="/imagine a red fox")
        update = tg.world.updates.pop()
        statuses = await asyncio.gather(
            tg.push_webhook(update, url=first_url), tg.push_webhook(update, url=second_url)
        )
        assert statuses == [200, 200]
        await tg.wait_for(lambda: tg.photos(CHAT))
        job = await first.jobs.find_job(idempotency_key=f"telegram:{CHAT}:{message['message_id']}")
        assert job is not None and await first.jobs.get_job(job_id=job.id + 1) is None
        for _ in range(200):  # the job is finished (delivery recorded) soon after its photo
            record = await first.jobs.get_job(job_id=job.id)
            if record is not None and record.status == "done":
                break
            await asyncio.sleep(0.05)
        assert record is not None and record.status == "done" and len(tg.photos(CHAT)) == 1
