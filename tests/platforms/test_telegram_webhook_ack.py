"""Webhook mode answers 200 only once an update is handled: Telegram never resends a 200'd update."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram import Bot
from telegram.error import BadRequest

from tests.big_uploads import solid_png
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.platforms.conftest import CHAT, USER, Running, free_port

PORT = free_port()
WEBHOOK = {
    "EASEL__TELEGRAM__MODE": "webhook",
    "EASEL__TELEGRAM__WEBHOOK_URL": f"http://127.0.0.1:{PORT}/telegram/hook",
    "EASEL__TELEGRAM__LISTEN": "127.0.0.1",
    "EASEL__TELEGRAM__PORT": str(PORT),
    "EASEL__TELEGRAM__SECRET_TOKEN": "s3cret-token",
    "EASEL__TELEGRAM__WEBHOOK_ANSWER_TIMEOUT_S": "1.0",
}
"""A timeout long enough for a quick update on a loaded machine, short for the ones held on purpose."""
PATIENT = {**WEBHOOK, "EASEL__TELEGRAM__WEBHOOK_ANSWER_TIMEOUT_S": "5.0"}
"""For an update that must be answered 200: a cold first /imagine on a busy CI machine can take
longer than a second, and only the order (recorded, then 200) is what the test is about."""


def queued(running: Running, **message: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A user's message and its Update, not posted yet (the test posts it)."""
    sent = running.tg.world.user_message(CHAT, USER, **message)
    return sent, running.tg.world.updates.pop()


async def job_for(running: Running, message: dict[str, Any]) -> Any:
    key = f"telegram:{CHAT}:{message['message_id']}"
    return await running.easel.jobs.find_job(idempotency_key=key)


@pytest.mark.easel(env=PATIENT)
async def test_the_200_comes_after_the_job_is_recorded(running: Running) -> None:
    """When the webhook answers 200 to /imagine, its job row is already in the database."""
    message, update = queued(running, text="/imagine a red fox")
    assert await running.tg.push_webhook(update) == 200
    assert await job_for(running, message) is not None


@pytest.mark.easel(env=WEBHOOK)
async def test_a_slow_update_is_answered_503_and_handled_once(running: Running) -> None:
    """An update not handled within the answer timeout gets 503; its repeats join the same handling,
    and the one after it finished gets 200: one download, one job."""
    tg = running.tg
    held = tg.hold_next("getFile")
    message, update = queued(running, photo=solid_png(64, 64), caption="make it warmer")
    assert await tg.push_webhook(update) == 503
    assert await tg.push_webhook(update) == 503  # Telegram's retry while the download still hangs
    held.set()
    await tg.wait_for(lambda: tg.photos(CHAT))
    assert await tg.push_webhook(update) == 200
    assert len(tg.calls_to("getFile")) == 1
    job = await job_for(running, message)
    assert job is not None and await running.easel.jobs.get_job(job_id=job.id + 1) is None


@pytest.mark.easel(env=WEBHOOK)
async def test_one_chats_webhook_updates_are_handled_in_order(running: Running) -> None:
    """A /help posted while the same chat's photo is still being downloaded waits for it (503 while
    it waits); another chat's /help is answered meanwhile."""
    tg = running.tg
    held = tg.hold_next("getFile")
    photo_message, photo = queued(running, photo=solid_png(64, 64), caption="make it warmer")
    _, help_ = queued(running, text="/help")
    first = asyncio.create_task(tg.push_webhook(photo))
    await tg.wait_for(lambda: tg.calls_to("getFile"))
    tg.world.user_message(CHAT + 1, USER + 1, text="/help")
    assert await tg.push_webhook(tg.world.updates.pop()) == 200 and tg.texts(CHAT + 1)
    assert await tg.push_webhook(help_) == 503 and not tg.texts(CHAT)
    held.set()
    assert await first == 503  # it had been answered before the download was let go
    await tg.wait_for(lambda: tg.texts(CHAT))
    assert await job_for(running, photo_message) is not None
    assert await tg.push_webhook(photo) == 200 and await tg.push_webhook(help_) == 200
    assert len(tg.texts(CHAT)) == 1


async def test_the_fake_refuses_a_secret_token_telegram_refuses() -> None:
    """setWebhook with a base64 secret (+, /, =) is a 400 from the fake, as from Telegram."""
    async with FakeTelegram() as tg:
        bot = Bot(TOKEN, base_url=tg.base_url)
        async with bot:
            with pytest.raises(BadRequest, match="Secret token contains unallowed characters"):
                await bot.set_webhook("https://easel.example/hook", secret_token="a+b/c=")
