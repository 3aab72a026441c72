"""Waiting with a time limit never loses a cancellation, and one a library swallowed is noticed."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.waiting import raise_if_cancelled, wait_event


async def test_a_set_event_is_seen_at_once() -> None:
    """The event is set: True, without waiting for the time limit."""
    event = asyncio.Event()
    event.set()
    assert await asyncio.wait_for(wait_event(event, 60), 1) is True


async def test_an_unset_event_times_out() -> None:
    """Nobody sets it: False after the time limit."""
    assert await wait_event(asyncio.Event(), 0.01) is False


async def test_a_poll_loop_always_stops_when_cancelled() -> None:
    """200 poll loops with a tiny time limit, each cancelled at a different moment: all of them stop."""
    for attempt in range(200):
        event = asyncio.Event()

        async def poll(never: asyncio.Event = event) -> None:
            while True:
                await wait_event(never, 0.001)

        task = asyncio.create_task(poll())
        await asyncio.sleep(0.0005 * (attempt % 5))
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=1)
        assert done, f"attempt {attempt}: the cancellation was lost"


async def test_a_cancellation_a_library_swallowed_is_raised_again() -> None:
    """A call that ate the CancelledError returns normally; the check after it raises it again."""

    async def swallowing_call() -> str:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            return "swallowed"  # what a misbehaving client library does
        return "done"

    async def worker() -> None:
        await swallowing_call()
        raise_if_cancelled()
        await asyncio.sleep(60)  # never reached

    task = asyncio.create_task(worker())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1)


async def test_nothing_is_raised_without_a_cancellation() -> None:
    """No pending request: the check is silent."""
    raise_if_cancelled()
