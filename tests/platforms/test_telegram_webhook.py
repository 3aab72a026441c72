"""Webhook mode: Telegram posts updates to us, and only with the right secret token."""

from __future__ import annotations

import pytest

from tests.platforms.conftest import CHAT, USER, Running, free_port

PORT = free_port()
WEBHOOK = {
    "EASEL__TELEGRAM__MODE": "webhook",
    "EASEL__TELEGRAM__WEBHOOK_URL": f"http://127.0.0.1:{PORT}/telegram/hook",
    "EASEL__TELEGRAM__LISTEN": "127.0.0.1",
    "EASEL__TELEGRAM__PORT": str(PORT),
    "EASEL__TELEGRAM__SECRET_TOKEN": "s3cret-token",
}


@pytest.mark.easel(env=WEBHOOK)
async def test_webhook_is_registered_with_its_secret(running: Running) -> None:
    """setWebhook is called with the URL and the secret token; getUpdates is never used."""
    assert running.tg.webhook is not None and running.tg.webhook.secret_token == "s3cret-token"
    assert not running.tg.calls_to("getUpdates")


@pytest.mark.easel(env=WEBHOOK)
async def test_webhook_rejects_a_wrong_secret(running: Running) -> None:
    """An update with a wrong secret token is refused with 403 and not acted on."""
    update = {"update_id": 99, "message": running.tg.world.user_message(CHAT, USER, text="/help")}
    running.tg.world.updates.clear()
    assert await running.tg.push_webhook(update, secret="wrong") == 403
    assert await running.tg.push_webhook(update, secret="") == 403
    assert not running.tg.texts(CHAT)


@pytest.mark.easel(env=WEBHOOK)
async def test_webhook_update_with_the_secret_makes_a_photo(running: Running) -> None:
    """/imagine posted to the webhook with the right secret is answered with a photo."""
    photo = await running.photo_after("/imagine a red fox --ar 16:9")
    assert "a red fox" in photo["caption"] and running.tg.webhook is not None
    assert running.tg.webhook.statuses == [200]
