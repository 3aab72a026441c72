"""JobQueue's stop with a grace, and runs that ask to be run again later."""

from __future__ import annotations

import asyncio

from bot.core.jobs.queue import JobQueue, QueuedJob


class Runs:
    """A runner whose jobs finish when their gate opens; records what started and what ended how."""

    def __init__(self, again: dict[int, float] | None = None) -> None:
        self.gates: dict[int, asyncio.Event] = {}
        self.running = asyncio.Event()
        self.started: list[int] = []
        self.finished: list[int] = []
        self.interrupted: list[int] = []
        self._again = dict(again or {})

    def gate(self, job_id: int) -> asyncio.Event:
        return self.gates.setdefault(job_id, asyncio.Event())

    async def __call__(self, job_id: int) -> float | None:
        self.started.append(job_id)
        self.running.set()
        try:
            await self.gate(job_id).wait()
        except asyncio.CancelledError:
            self.interrupted.append(job_id)
            raise
        self.finished.append(job_id)
        return self._again.pop(job_id, None)


async def test_stop_lets_a_running_job_finish_within_the_grace() -> None:
    """A job that finishes during the grace is not interrupted, and no queued job starts."""
    runs = Runs()
    queue = JobQueue(runner=runs, workers=1, max_queue=10)
    await queue.start()
    queue.submit(QueuedJob(1, user_id=1, chat_id=1))
    queue.submit(QueuedJob(2, user_id=1, chat_id=1))
    await runs.running.wait()
    stopping = asyncio.create_task(queue.stop(grace_s=30))
    await asyncio.sleep(0)
    runs.gate(1).set()
    runs.gate(2).set()
    await stopping
    assert runs.finished == [1] and runs.started == [1] and runs.interrupted == []


async def test_stop_interrupts_a_job_still_running_after_the_grace() -> None:
    """A job that outlives the grace is interrupted (it resumes at the next start)."""
    runs = Runs()
    queue = JobQueue(runner=runs, workers=1, max_queue=10)
    await queue.start()
    queue.submit(QueuedJob(1, user_id=1, chat_id=1))
    await runs.running.wait()
    await queue.stop(grace_s=0.01)
    assert runs.interrupted == [1] and runs.finished == []


async def test_a_run_asking_to_run_again_is_resubmitted_after_its_delay() -> None:
    """A runner returning 0.01 s is run again after it, and wait_for waits through the delay."""
    runs = Runs(again={1: 0.01})
    queue = JobQueue(runner=runs, workers=1, max_queue=10)
    await queue.start()
    runs.gate(1).set()
    queue.submit(QueuedJob(1, user_id=1, chat_id=1))
    await asyncio.wait_for(queue.wait_for(1), 5)
    await queue.stop()
    assert runs.started == [1, 1] and runs.finished == [1, 1]
