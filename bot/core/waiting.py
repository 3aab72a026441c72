"""Waiting for an event with a time limit, without losing a cancellation; and noticing one that a
library swallowed.

``async with asyncio.timeout(t)`` around ``event.wait()`` with the ``TimeoutError`` suppressed looks
right but is not on Python 3.11: when the caller is cancelled just as the timeout fires, the
cancellation comes out as that ``TimeoutError``, is suppressed, and the task runs on as if nobody had
asked it to stop (a ``/cancel`` or a shutdown then waits forever). ``asyncio.wait`` never turns a
cancellation into anything else, so :func:`wait_event` is built on it.

redis-py 8's asyncio client can return normally from a command during which its task was cancelled
(the ``CancelledError`` does not come out; the task stays "cancelling"). A loop that polls Redis would
then poll forever. :func:`raise_if_cancelled` after such a call turns the pending request back into
the ``CancelledError`` it should have been.
"""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait until ``event`` is set or ``timeout_s`` has passed; True when it is set. A cancellation of
    the caller always propagates."""
    if event.is_set():
        return True
    waiter = asyncio.ensure_future(event.wait())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=timeout_s)
    finally:
        waiter.cancel()
    return bool(done)


def raise_if_cancelled() -> None:
    """Raise ``CancelledError`` when the current task was asked to stop and the request was lost on the
    way (see the module docstring); nothing otherwise."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
