"""``/id`` (issue 18 item 14): the ids an operator puts in Easel's settings, on Telegram and Discord."""

from __future__ import annotations

from pathlib import Path

from bot.core.chat import ids
from bot.core.messages import Incoming
from tests.fakes.discord_harness import running_discord
from tests.fakes.discord_world import CHANNEL, GUILD
from tests.fakes.discord_world import USER as DISCORD_USER
from tests.platforms.conftest import USER, Running

GROUP = -1001234567890


async def test_telegram_id_names_the_user_and_the_group(running: Running) -> None:
    """/id in a group answers the sender's id, the group's id and the schedule target; it is registered."""
    tg = running.tg
    tg.group(GROUP)
    tg.say(GROUP, USER, "/id")
    await tg.wait_for(lambda: tg.texts(GROUP))
    (answer,) = tg.texts(GROUP)
    assert f"Your user id: {USER}" in answer and f"This chat: {GROUP}" in answer
    assert f"--target telegram:{GROUP}" in answer
    assert "id" in {c["command"] for c in tg.commands}


async def test_telegram_id_in_a_topic_names_the_topic(running: Running) -> None:
    """/id inside a forum topic also names the topic, as a schedule target takes it."""
    tg = running.tg
    tg.group(GROUP, forum=True)
    tg.say(GROUP, USER, "/id", thread_id=7)
    await tg.wait_for(lambda: tg.texts(GROUP))
    assert f"--target telegram:{GROUP}:7" in tg.texts(GROUP)[0]


async def test_discord_id_names_user_channel_and_server(tmp_path: Path) -> None:
    """/id on Discord answers privately with the user, channel and server (guild) ids."""
    async with running_discord(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}") as bot:
        it = bot.dc.slash("id")
        await bot.dc.wait_for(lambda: (m := bot.dc.original(it)) is not None and m["content"])
        message = bot.dc.original(it)
    assert message is not None
    text = message["content"]
    assert f"Your user id: {DISCORD_USER}" in text and f"This channel: {CHANNEL}" in text
    assert f"This server: {GUILD}" in text and message["flags"] & 64


def test_id_answers_only_the_id_command() -> None:
    """/id and /id@Bot are answered; /idea and a prompt are not."""

    def ask(text: str) -> str | None:
        return ids.answer(Incoming(platform="web", chat_id="web", user_id="b1", text=text))

    assert ask("/id") is not None and ask("/ID@EaselBot") is not None
    assert ask("/idea a fox") is None and ask("a fox /id") is None
