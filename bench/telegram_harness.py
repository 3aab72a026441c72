"""Easel's Telegram bot, or a bare python-telegram-bot baseline, running against the loopback Bot API
fake of the tests, with the time each request's answer arrived at the fake.

The fake is :class:`tests.fakes.telegram.FakeTelegram`; :class:`TimedTelegram` only adds timestamps:
a request is "available" when its Update is queued for ``getUpdates`` and "answered" when a
``sendPhoto`` (or ``sendMessage``) replying to it arrives. Fake, bot and load share one event loop, so
the fake's own work is part of every figure, for Easel and the baseline alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from telegram import ReplyParameters, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ContextTypes,
    MessageHandler,
    SimpleUpdateProcessor,
    filters,
)

from bot.app import Easel, serve
from bot.core.ports import Provider
from bot.core.types import JobEvent, Progress, Queued, Started, Target
from bot.platforms.telegram.adapter import TelegramAdapter
from bot.platforms.telegram.lanes import PriorityFloodLimiter
from bot.settings import AppSettings, load_settings
from tests.fakes.telegram import TOKEN, FakeTelegram

os.environ.setdefault("PTB_TIMEDELTA", "true")


def small_png() -> bytes:
    """The 8x8 PNG the scripted provider makes: the baseline sends the same bytes Easel does."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 8), (200, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Waiter:
    injected: float
    answered: asyncio.Future[float]


class TimedTelegram(FakeTelegram):
    """The test fake, plus: inject a command and await the moment its photo (or text) answer arrives."""

    def __init__(self) -> None:
        super().__init__()
        self._photo_waiters: dict[tuple[int, int], Waiter] = {}
        self._text_waiters: dict[tuple[int, int], Waiter] = {}

    def inject(self, chat_id: int, user_id: int, text: str, *, answer: str = "photo") -> Waiter:
        """Queue a user's message; ``answer`` ("photo" or "text") is what the returned waiter waits for."""
        message = self.say(chat_id, user_id, text)
        waiter = Waiter(time.perf_counter(), asyncio.get_running_loop().create_future())
        waiters = self._photo_waiters if answer == "photo" else self._text_waiters
        waiters[(chat_id, message["message_id"])] = waiter
        return waiter

    def _arrived(self, waiters: dict[tuple[int, int], Waiter], params: dict[str, Any], at: float) -> None:
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict) or not isinstance(params.get("chat_id"), int):
            return
        waiter = waiters.pop((params["chat_id"], int(reply.get("message_id", 0))), None)
        if waiter is not None and not waiter.answered.done():
            waiter.answered.set_result(at)

    async def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self._arrived(self._photo_waiters, params, time.perf_counter())
        return await super()._m_sendPhoto(params, files)

    async def _m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self._arrived(self._text_waiters, params, time.perf_counter())
        return await super()._m_sendMessage(params, files)

    def forget_history(self) -> None:
        """Drop the fake's record of calls and sent messages (it only grows; long runs get slow)."""
        self.calls.clear()
        self.sent.clear()


async def latency_ms(waiter: Waiter) -> float:
    return (await waiter.answered - waiter.injected) * 1000


# ----------------------------------------------------------------------------------------- Easel


def easel_settings(tg: FakeTelegram, root: Path, env: Mapping[str, str] | None = None) -> AppSettings:
    return load_settings(
        None,
        environ={
            "EASEL__DATABASE_URL": f"sqlite+aiosqlite:///{root / 'bench.db'}",
            "EASEL__MEDIA_DIR": str(root / "media"),
            "EASEL__LIMITS__USER_RATE": "1000000/minute",
            "EASEL__LIMITS__CHAT_RATE": "1000000/minute",
            "EASEL__LIMITS__GLOBAL_RATE": "1000000/minute",
            "EASEL__LIMITS__MAX_QUEUE": "100000",
            "EASEL__LIMITS__DAILY_IMAGES_PER_USER": "0",
            "EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "512",
            "EASEL__TELEGRAM__TOKEN": TOKEN,
            "EASEL__TELEGRAM__BASE_URL": tg.base_url,
            "EASEL__TELEGRAM__BASE_FILE_URL": tg.base_file_url,
            **(env or {}),
        },
    )


@contextlib.asynccontextmanager
async def easel_bot(
    tg: FakeTelegram,
    *,
    providers: Sequence[Provider] | None,
    telegram_limits: bool = False,
    env: Mapping[str, str] | None = None,
    what_if: frozenset[str] = frozenset(),
) -> AsyncIterator[Easel]:
    """Easel's Telegram bot wired as ``bot.app.serve`` wires it (same order, same adapter).

    ``telegram_limits=False`` switches Easel's flood limiter to no limits (it still runs): its default
    of 30 requests a second overall models Telegram's broadcast limit and would otherwise cap every
    figure at 30 Bot API calls a second, whatever the bot costs.

    ``what_if`` measures changes not made (yet), by patching the running adapter: ``"no-status"``
    shows no status message (queued/generating) at all; ``"concurrent-updates"`` lets PTB handle up to
    256 updates at once instead of one after the other.
    """
    with tempfile.TemporaryDirectory(prefix="easel-bench-") as tmp:
        settings = easel_settings(tg, Path(tmp), env)
        adapter = TelegramAdapter(settings.telegram)
        if not telegram_limits:
            unlimited = (10**9, 1.0)  # the same limiter (lanes and all), with windows nothing fills
            adapter.application.bot._rate_limiter = PriorityFloodLimiter(
                overall=unlimited, per_group=unlimited
            )
        _apply_what_if(adapter, what_if)
        stop = asyncio.Event()
        ready: asyncio.Future[Easel] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            serve(
                settings,
                stop=stop,
                on_ready=ready.set_result,
                providers_override=list(providers) if providers is not None else None,
                adapters=[adapter],
            )
        )
        waiters: set[asyncio.Future[Any]] = {task, ready}
        done, _ = await asyncio.wait(waiters, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # start-up failed: show why
        if ready not in done:
            raise RuntimeError("Easel did not start within a minute")
        try:
            yield ready.result()
        finally:
            stop.set()
            await task


def _apply_what_if(adapter: TelegramAdapter, what_if: frozenset[str]) -> None:
    if "no-status" in what_if:
        delivery = adapter.delivery
        shown = delivery.event

        async def event(target: Target, job_id: int, event: JobEvent) -> None:
            if not isinstance(event, Queued | Started | Progress):
                await shown(target, job_id, event)

        delivery.event = event  # type: ignore[method-assign]
    if "concurrent-updates" in what_if:
        adapter.application._update_processor = SimpleUpdateProcessor(256)


# -------------------------------------------------------------------------------------- baseline


@contextlib.asynccontextmanager
async def baseline_bot(
    tg: FakeTelegram, photo: bytes, *, rate_limiter: AIORateLimiter | None = None
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A bare python-telegram-bot Application: polling, one handler, every command answered with
    ``photo`` as a reply (no database, no queue; PTB's ``rate_limiter`` when given, else none)."""

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        assert message is not None
        await message.reply_photo(photo, reply_parameters=ReplyParameters(message.message_id))

    builder = Application.builder().token(TOKEN).base_url(tg.base_url).base_file_url(tg.base_file_url)
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)  # type: ignore[arg-type]  # its RLARGS is dict
    application = builder.build()
    application.add_handler(MessageHandler(filters.COMMAND, answer))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(allowed_updates=["message", "callback_query"])
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


# ------------------------------------------------------------------------------------------ load


@dataclass
class Load:
    latencies_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def per_s(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else float("nan")


FIRST_USER = 10_000


async def one_by_one(tg: TimedTelegram, count: int, *, text: str = "/imagine a fox") -> Load:
    """``count`` requests from one user, each sent when the previous one's photo has arrived."""
    load = Load()
    start = time.perf_counter()
    for i in range(count):
        waiter = tg.inject(FIRST_USER - 1, FIRST_USER - 1, f"{text} {i}")
        load.latencies_ms.append(await latency_ms(waiter))
    load.elapsed_s = time.perf_counter() - start
    return load


async def closed_loop(tg: TimedTelegram, users: int, total: int, *, text: str = "/imagine a fox") -> Load:
    """``users`` users in their private chats, each sending its next request when the previous one's
    photo has arrived, ``total`` requests in all."""
    load = Load()

    async def user(index: int, count: int) -> None:
        uid = FIRST_USER + index
        for i in range(count):
            waiter = tg.inject(uid, uid, f"{text} {index}.{i}")
            load.latencies_ms.append(await latency_ms(waiter))

    start = time.perf_counter()
    per_user, extra = divmod(total, users)
    async with asyncio.TaskGroup() as group:
        for index in range(users):
            group.create_task(user(index, per_user + (index < extra)))
    load.elapsed_s = time.perf_counter() - start
    return load
