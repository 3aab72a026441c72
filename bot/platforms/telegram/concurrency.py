"""Updates of different chats at once, each chat's updates in order: PTB's update processor for Easel.

python-telegram-bot handles one update at a time unless told otherwise, so a burst of ``/imagine`` from
many chats is accepted one after the other and a ``/status`` behind it waits for all of them. This
processor runs the updates of different chats concurrently while one chat's updates (its messages and
its button presses) still run strictly one after the other, in the order Telegram sent them: a lock per
chat, fair (first come, first served) and dropped as soon as nobody holds or waits for it. Updates
without a chat (none of the kinds Easel asks for) run unordered.

Two bounds: PTB's own (``max_held_updates``: updates taken from the queue and not finished, including
those waiting for their chat's turn) and ``max_running`` handlers running at once. Only the second is
taken after the chat's lock, so one chat's backlog waits without keeping other chats from running.

Quick commands (``/status``, ``/help``, ``/start``, ``/cancel``) never wait behind other chats' work: they
take neither bound but a small one of their own (``max_quick``), so a ``/status`` sent behind a burst
of thousands of ``/imagine`` is answered at once. They still wait for their own chat's earlier updates
(a ``/cancel`` must see the job its chat asked for just before).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_RUNNING = 64
MAX_HELD = 4096
MAX_QUICK = 16
_UNBOUNDED = 2**31
QUICK_COMMANDS = frozenset({"status", "help", "start", "cancel"})


def is_quick(update: object) -> bool:
    """Whether the update is a quick command (``/status`` or ``/status@SomeBot ...``) in a message."""
    message = update.message if isinstance(update, Update) else None
    text = message.text if message is not None else None
    if not text or not text.startswith("/"):
        return False
    command = text[1:].split(maxsplit=1)[0].split("@", 1)[0] if len(text) > 1 else ""
    return command.lower() in QUICK_COMMANDS


@dataclass
class _Lane:
    """One chat's turn: its lock and how many updates hold it or wait for it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Different chats concurrently (at most ``max_running`` handlers at once), one chat in order."""

    def __init__(
        self, max_running: int = MAX_RUNNING, *, max_held_updates: int = MAX_HELD, max_quick: int = MAX_QUICK
    ) -> None:
        if max_running < 1 or max_held_updates < max_running or max_quick < 1:
            raise ValueError("need 1 <= max_running <= max_held_updates and 1 <= max_quick")
        super().__init__(_UNBOUNDED)  # PTB's bound would hold quick commands too: ours is below
        self._held = asyncio.Semaphore(max_held_updates)
        self._running = asyncio.Semaphore(max_running)
        self._quick = asyncio.Semaphore(max_quick)
        self._lanes: dict[int, _Lane] = {}

    @property
    def chats_waiting(self) -> int:
        """Chats with an update running or waiting (their lanes); 0 when idle."""
        return len(self._lanes)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        quick = is_quick(update)
        lane = self._lanes.setdefault(chat.id, _Lane()) if chat is not None else _Lane()
        lane.users += 1
        started = False
        try:
            held = contextlib.nullcontext() if quick else self._held
            async with held, lane.lock, self._quick if quick else self._running:
                started = True
                await coroutine
        finally:
            lane.users -= 1
            if chat is not None and lane.users == 0:
                del self._lanes[chat.id]
            if not started and inspect.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting for its turn: never run, never warned about

    async def initialize(self) -> None:
        """Nothing to set up: lanes are made as updates come."""

    async def shutdown(self) -> None:
        """Nothing to free: PTB awaits the updates in progress before shutting the processor down."""
