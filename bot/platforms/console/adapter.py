"""The terminal chat: lines from stdin in, text and saved image paths out.

Works piped as well as in a terminal. Replies go to stdout, each saved image's absolute path on a
line of its own; progress goes to stderr. Piped input is handled one line at a time (each request
finishes before the next line is read) unless ``wait=False``, which queues every line at once.
"""

from __future__ import annotations

import asyncio
import getpass
import itertools
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TextIO

from bot.core.front_door import FrontDoor
from bot.core.messages import Incoming
from bot.core.types import Done, Failed, JobEvent, Progress, Queued, Reply, Started, Target

QUIT_WORDS = frozenset({"/quit", "/exit", "quit", "exit"})
CHAT_ID = "console"


class ConsolePlatform:
    """The ``console`` platform: prints replies to ``out`` and progress to ``err``."""

    name = "console"

    def __init__(self, out: TextIO, err: TextIO, *, show_progress: bool = True) -> None:
        self._out = out
        self._err = err
        self._show_progress = show_progress
        self._ids = itertools.count(1)

    async def send(self, target: Target, reply: Reply) -> list[str]:
        lines = [f"error: {reply.text}" if reply.is_error else reply.text]
        lines += [f"note: {note}" for note in reply.notes]
        lines += [str(image.path) for image in reply.images]
        if reply.images:
            lines.append("(reply /reroll, /vary, or say how to change it, e.g. 'make it warmer')")
        self._out.write("\n".join(lines) + "\n")
        self._out.flush()
        return [f"console-{next(self._ids)}"]

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        if not self._show_progress:
            return
        match event:
            case Queued(position=position):
                text = f"queued (#{position})"
            case Started(provider=provider):
                text = f"generating with {provider}…"
            case Progress(fraction=fraction):
                text = f"generating… {fraction:.0%}"
            case Done():
                text = "done"
            case Failed(reason=reason):
                text = f"failed: {reason}"
        self._err.write(f"  [job {job_id}] {text}\n")
        self._err.flush()

    async def delete(self, target: Target, message_ids: Sequence[str]) -> None:
        """Printed lines cannot be taken back."""
        return


async def run_console(
    front: FrontDoor,
    *,
    wait_for: Callable[[int], Awaitable[None]],
    drain: Callable[[], Awaitable[None]],
    stdin: TextIO,
    stderr: TextIO,
    user: str | None = None,
    wait: bool | None = None,
) -> int:
    """Chat until end of input or /quit, then let queued work finish (``drain``); return the messages
    handled. ``wait_for(job_id)``: until that job is finished (piped input, one line at a time)."""
    name = user or _user_name()
    interactive = stdin.isatty()
    sequential = (not interactive) if wait is None else wait
    lines = _LineReader(stdin)
    if interactive:
        stderr.write(
            "Easel chat. Try: /imagine a red fox --ar 16:9   then: make it warmer   (/help, /quit)\n"
        )
    handled = 0
    while True:
        if interactive:
            stderr.write("you> ")
            stderr.flush()
        line = await lines.next()
        if line is None:
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in QUIT_WORDS:
            break
        handled += 1
        message = Incoming(
            platform=ConsolePlatform.name,
            chat_id=CHAT_ID,
            user_id=name,
            display_name=name,
            text=text,
            message_id=None,
            is_admin=True,
        )
        job_id = await front.handle(message)
        if sequential and job_id is not None:
            await wait_for(job_id)
    await drain()
    return handled


class _LineReader:
    """Reads lines on a daemon thread so a blocked read never holds up shutdown."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._pump, name="console-stdin", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            for line in iter(self._stream.readline, ""):
                self._loop.call_soon_threadsafe(self._queue.put_nowait, line)
            self._loop.call_soon_threadsafe(self._queue.put_nowait, None)
        except (RuntimeError, ValueError, OSError):
            return  # the loop or the stream closed under us: the chat is over anyway

    async def next(self) -> str | None:
        return await self._queue.get()


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"
