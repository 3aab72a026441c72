"""Scenario 12, start-up: how long ``easel run`` takes from ``exec`` to its first ``getUpdates`` at the
Telegram fake, against a bare python-telegram-bot process doing the same; and ``import bot.cli``.

Each is a real process (``sys.executable``) started three times; the database is created by the first
``easel run`` (migrations included), so runs 2 and 3 find it at head, as every later start does. The
web chat is off and the builtin renderer is the provider: what is measured is the start itself.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import Result
from tests.fakes.telegram import TOKEN, FakeTelegram

RUNS = 3
_BARE = """
import sys
from telegram.ext import Application, MessageHandler, filters
async def answer(update, context): pass
app = Application.builder().token(sys.argv[1]).base_url(sys.argv[2]).build()
app.add_handler(MessageHandler(filters.COMMAND, answer))
app.run_polling(allowed_updates=["message", "callback_query"])
"""


async def _first_poll(args: list[str], env: dict[str, str], tg: FakeTelegram) -> float:
    """Seconds from starting the process to its first getUpdates at the fake."""
    before = len(tg.calls_to("getUpdates"))
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        await tg.wait_for(lambda: len(tg.calls_to("getUpdates")) > before, 60)
        return time.perf_counter() - started
    finally:
        process.terminate()
        await process.wait()


async def _measure(runs: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"bare": [], "easel": []}
    with tempfile.TemporaryDirectory(prefix="easel-startup-") as tmp:
        env = os.environ | {
            "EASEL__DATABASE_URL": f"sqlite:///{Path(tmp) / 'easel.db'}",
            "EASEL__MEDIA_DIR": str(Path(tmp) / "media"),
            "EASEL__TELEGRAM__TOKEN": TOKEN,
            "EASEL__WEB__ENABLED": "false",
        }
        async with FakeTelegram() as tg:
            env |= {
                "EASEL__TELEGRAM__BASE_URL": tg.base_url,
                "EASEL__TELEGRAM__BASE_FILE_URL": tg.base_file_url,
            }
            await _first_poll([sys.executable, "-m", "bot", "run"], env, tg)  # creates the database
            for _ in range(runs):
                figures["bare"].append(
                    await _first_poll([sys.executable, "-c", _BARE, TOKEN, tg.base_url], env, tg)
                )
                figures["easel"].append(await _first_poll([sys.executable, "-m", "bot", "run"], env, tg))
    return figures


def _imports(runs: int) -> list[float]:
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import bot.cli"], check=True)
        took.append(time.perf_counter() - started)
    return took


def run(quick: bool) -> list[Result]:
    runs = 1 if quick else RUNS
    figures = asyncio.run(_measure(runs)) | {"import": _imports(runs)}
    result = Result(
        f"12. Start-up: exec to the first getUpdates, real processes (min / median / max of {runs})",
        ["what", "seconds"],
    )

    def spread(values: list[float]) -> str:
        return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"

    result.add("bare python-telegram-bot process", spread(figures["bare"]))
    result.add("easel run (database at head)", spread(figures["easel"]))
    result.add("python -c 'import bot.cli'", spread(figures["import"]))
    result.notes.append("web chat off, builtin renderer; the interpreter's own start is in every figure")
    return [result]
