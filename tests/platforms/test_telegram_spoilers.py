"""Under the chat's content policy ``spoiler`` Telegram photos are sent with ``has_spoiler``."""

from __future__ import annotations

from tests.platforms.conftest import CHAT, USER, Running


async def spoiler_policy(running: Running) -> None:
    tg = running.tg
    tg.say(CHAT, USER, "/settings policy spoiler")
    await tg.wait_for(lambda: any("policy: spoiler" in t for t in tg.texts(CHAT)))


async def test_a_photo_goes_hidden_under_the_spoiler_policy(running: Running) -> None:
    """/imagine under policy spoiler: the photo message has has_media_spoiler (sent has_spoiler)."""
    tg = running.tg
    await spoiler_policy(running)
    tg.say(CHAT, USER, "/imagine a red fox")
    await tg.wait_for(lambda: tg.photos(CHAT))
    [photo] = tg.photos(CHAT)
    assert photo.get("has_media_spoiler") is True


async def test_each_photo_of_an_album_goes_hidden(running: Running) -> None:
    """--n 2 under policy spoiler: both album photos are spoilers."""
    tg = running.tg
    await spoiler_policy(running)
    tg.say(CHAT, USER, "/imagine two foxes --n 2")
    await tg.wait_for(lambda: len(tg.photos(CHAT)) == 2)
    assert all(p.get("has_media_spoiler") is True for p in tg.photos(CHAT))


async def test_without_the_policy_photos_are_not_hidden(running: Running) -> None:
    """By default (safe) a photo is sent as it is."""
    tg = running.tg
    tg.say(CHAT, USER, "/imagine a red fox")
    await tg.wait_for(lambda: tg.photos(CHAT))
    assert "has_media_spoiler" not in tg.photos(CHAT)[0]
