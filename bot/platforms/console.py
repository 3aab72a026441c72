"""The terminal chat: lines from stdin in, text and saved image paths out.

Works piped as well as in a terminal. Replies go to stdout, each saved image's absolute path on a
line of its own; progress goes to stderr.
"""

from __future__ import annotations

import asyncio
import getpass
import threading
from typing import TextIO

from bot.core.service import EaselService
from bot.core.types import Done, Failed, Incoming, JobEvent, Progress, Queued, Reply, Started

QUIT_WORDS = frozenset({"/quit", "/exit", "quit", "exit"})


class ConsoleResponder:
    """Prints replies to ``out`` and progress to ``err``."""

    def __init__(self, out: TextIO, err: TextIO, *, show_progress: bool) -> None:
        self._out = out
        self._err = err
        self._show_progress = show_progress
        self.replies: list[Reply] = []

    async def send(self, reply: Reply) -> None:
        self.replies.append(reply)
        lines = [f"error: {reply.text}" if reply.is_error else reply.text]
        lines += [f"note: {note}" for note in reply.notes]
        lines += [str(image.path) for image in reply.images]
        if reply.images:
            lines.append("(reply /reroll, /vary, or say how to change it, e.g. 'make it warmer')")
        self._out.write("\n".join(lines) + "\n")
        self._out.flush()

    async def event(self, event: JobEvent) -> None:
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
        self._err.write(f"  {text}\n")
        self._err.flush()


async def run_console(
    service: EaselService,
    *,
    stdin: TextIO,
    stdout: TextIO,
    stderr: TextIO,
    user: str | None = None,
    show_progress: bool = True,
) -> int:
    """Chat until end of input or /quit; return how many messages were handled."""
    name = user or _user_name()
    interactive = stdin.isatty()
    responder = ConsoleResponder(stdout, stderr, show_progress=show_progress)
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
            platform="console",
            chat_id="console",
            user_id=name,
            display_name=name,
            text=text,
            message_id=str(handled),
            is_admin=True,
        )
        await service.handle(message, responder)
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
