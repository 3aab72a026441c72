"""The issue's "done means": ``easel schedule add --target telegram:42 --cron "* * * * *" ...``, then
the bot running against the fake Telegram Bot API posts a photo to chat 42 at each minute (an
injected clock), and ``easel schedule list`` shows the last run.

The bot is composed here the way ``bot.app.serve`` composes it (adapter life cycle, ``open_easel``,
``build_scheduler``) because ``serve`` takes no clock; everything else is the real code path.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from bot.app import SchedulerClock, open_easel
from bot.cli import app
from bot.platforms.telegram.adapter import TelegramAdapter
from bot.settings import load_settings
from bot.storage.db import make_engine
from bot.storage.schedule_repo import SqlScheduleStore
from tests.fakes.clock import FixedClock
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.platforms.conftest import Running, running

__all__ = ["running"]  # the running-bot fixture of the Telegram adapter's tests
GROUP, ADMIN, MEMBER = -100200, 7, 8


async def _first_fire_time(url: str) -> datetime:
    engine = make_engine(url)
    try:
        schedules = await SqlScheduleStore(engine).list_schedules()
    finally:
        await engine.dispose()
    times = {s.next_fire_at for s in schedules}
    assert len(times) == 1
    first = times.pop()
    assert first is not None and first.second == 0
    return first


async def _tick(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.01))  # the test moves the clock; the loop only looks often


async def test_cli_schedule_posts_to_telegram_every_minute(tmp_path: Path) -> None:
    """A CLI-made every-minute schedule posts a photo to chat 42 (and to topic 7) once per minute."""
    async with FakeTelegram() as tg:
        env = {
            "EASEL__DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'easel.sqlite3'}",
            "EASEL__MEDIA_DIR": str(tmp_path / "media"),
            "EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "128",
            "EASEL__TELEGRAM__TOKEN": TOKEN,
            "EASEL__TELEGRAM__BASE_URL": tg.base_url,
            "EASEL__TELEGRAM__BASE_FILE_URL": tg.base_file_url,
        }
        runner = CliRunner()
        if (now := datetime.now(UTC)).second >= 50:  # both adds must see the same next minute
            await asyncio.sleep(60.2 - now.second - now.microsecond / 1e6)
        for target in ("telegram:42", "telegram:-1001:7"):
            args = [
                "schedule",
                "add",
                "--target",
                target,
                "--cron",
                "* * * * *",
                "--prompt",
                "a lighthouse, {weekday}",
            ]
            added = await asyncio.to_thread(runner.invoke, app, args, env=env)  # the CLI runs its own loop
            assert added.exit_code == 0, added.output
        tg.world.chat(42)
        tg.group(-1001, forum=True)
        settings = load_settings(None, environ=env)
        minute = await _first_fire_time(settings.database_url)  # the next whole minute when the CLI ran
        clock = FixedClock(minute - timedelta(seconds=20))
        adapter = TelegramAdapter(settings.telegram)
        try:
            await adapter.initialize()
            async with open_easel(
                settings,
                platforms={adapter.name: adapter},
                clock=clock,
                bot_username=adapter.username,
                scheduler_clock=SchedulerClock(sleeper=_tick),
            ) as easel:
                scheduler = easel.scheduler
                adapter.attach(easel.front)
                await adapter.start()
                await scheduler.start()
                try:
                    assert scheduler.is_running()
                    await asyncio.sleep(0.1)
                    assert tg.photos(42) == []  # not before the minute
                    clock.current = minute
                    await tg.wait_for(lambda: len(tg.photos(42)) == 1 and len(tg.photos(-1001)) == 1)
                    clock.current = minute + timedelta(seconds=30)
                    await asyncio.sleep(0.2)
                    assert len(tg.photos(42)) == 1  # once per minute
                    clock.current = minute + timedelta(minutes=1)
                    await tg.wait_for(lambda: len(tg.photos(42)) == 2)
                    await easel.queue.drain()  # every job ended, its outcome heard
                    await scheduler.settle()
                finally:
                    await scheduler.stop()
                    await adapter.stop()
        finally:
            await adapter.shutdown()
        weekday = minute.strftime("%A")
        assert f"a lighthouse, {weekday}" in (tg.photos(42)[0].get("caption") or "")
        assert tg.photos(-1001)[0].get("message_thread_id") == 7
        listing = await asyncio.to_thread(runner.invoke, app, ["schedule", "list"], env=env)
        assert listing.exit_code == 0, listing.output
        last_run = f"done {(minute + timedelta(minutes=1)).strftime('%Y-%m-%d %H:%M')} UTC"
        assert listing.output.count(last_run) >= 1, listing.output


async def test_telegram_group_schedule_commands_need_a_chat_admin(running: Running) -> None:
    """In a Telegram group, /schedule add is refused for a member and done for an administrator
    (getChatMember), and the schedule posts into the topic it was made in."""
    tg = running.tg
    tg.group(GROUP, admins=(ADMIN,), forum=True)
    tg.say(GROUP, MEMBER, "/schedule add every day at 09:00 a fox", thread_id=5)
    await tg.wait_for(lambda: any("Only the chat's administrators" in t for t in tg.texts(GROUP)))
    tg.say(GROUP, ADMIN, "/schedule add every day at 09:00 a fox", thread_id=5)
    await tg.wait_for(lambda: any("Scheduled #1" in t for t in tg.texts(GROUP)))
    answers = [m for m in tg.sent_to(GROUP) if "Scheduled #1" in (m.get("text") or "")]
    assert answers[0].get("message_thread_id") == 5
    tg.say(GROUP, MEMBER, "/birthday set 14-03", thread_id=5)
    await tg.wait_for(lambda: any("Saved:" in t for t in tg.texts(GROUP)))
