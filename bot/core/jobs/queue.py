"""The in-process scheduler over the durable job table: fair, bounded, cancellable workers.

The database row is the truth (see ``JobStore``); this queue only decides *when* each job runs:
- round-robin across users, FIFO within a user, so one user's batch of ten cannot starve another's one;
- a job may wait for an earlier job in its chat (``after_job_id``): "make it warmer" edits the image
  that was still being made when it was sent;
- ``workers`` jobs run at once; beyond ``max_queue`` waiting jobs, new requests are refused;
- a run may ask to be run again later (its runner returns a delay: a result the platform could not take
  yet is retried in this process, with backoff, instead of waiting for the next start);
- ``stop(grace_s=...)`` takes no new job and lets running ones finish within the grace before
  interrupting them, so a planned restart does not cut a delivery in half.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from bot.core.ports import NO_METRICS, Metrics

log = logging.getLogger(__name__)

Runner = Callable[[int], Coroutine[Any, Any, float | None]]
"""Runs a job one step further; returns None when done with it, or seconds after which to run it again."""
USER_CANCEL = "easel: cancelled by the user"
"""The message of the ``CancelledError`` a job sees when /cancel stopped it (not a shutdown)."""


@dataclass(frozen=True, slots=True)
class QueuedJob:
    id: int
    user_id: int
    chat_id: int
    after_job_id: int | None = None


class JobQueue:
    def __init__(
        self,
        *,
        runner: Runner,
        workers: int,
        max_queue: int,
        typical_job_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        self._runner = runner
        self._workers = workers
        self._max_queue = max_queue
        self._clock = clock
        self._by_user: OrderedDict[int, deque[QueuedJob]] = OrderedDict()
        self._queued: dict[int, QueuedJob] = {}
        self._running: dict[int, asyncio.Task[float | None]] = {}
        self._running_jobs: dict[int, QueuedJob] = {}
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []
        self._average_s = typical_job_s
        self._served: dict[int, int] = {}
        """When each user was last served (a tick); the least recently served goes first."""
        self._tick = 0
        self._later: dict[int, tuple[QueuedJob, asyncio.TimerHandle]] = {}
        """Jobs whose runner asked to be run again after a delay (a delivery to retry)."""
        self._stopping = False
        (metrics or NO_METRICS).watch_queue(lambda: len(self._queued), lambda: len(self._running))

    # ------------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._work(), name=f"easel-worker-{i}") for i in range(self._workers)
            ]

    async def stop(self, *, grace_s: float = 0.0) -> None:
        """Take no new job, give running ones ``grace_s`` to finish, then interrupt the rest. Interrupted
        and waiting jobs stay as the database has them (``queued``, ``running``, ``generated``), so the
        next start resumes them; retries waiting for their delay are left to it too."""
        self._stopping = True
        for _, handle in self._later.values():
            handle.cancel()
        self._later.clear()
        running = [task for task in self._running.values() if not task.done()]
        if running and grace_s > 0:
            log.info("waiting up to %.0f s for %d running job(s)", grace_s, len(running))
            _, late = await asyncio.wait(running, timeout=grace_s)
            if late:
                log.warning("%d job(s) still running after %.0f s; interrupted", len(late), grace_s)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def drain(self) -> None:
        """Wait until nothing is queued, running or waiting to be retried."""
        async with self._changed:
            await self._changed.wait_for(lambda: not self._queued and not self._running and not self._later)

    async def wait_for(self, job_id: int) -> None:
        """Until the job is neither queued, running nor waiting to be retried."""
        async with self._changed:
            await self._changed.wait_for(
                lambda: (
                    job_id not in self._queued and job_id not in self._running and job_id not in self._later
                )
            )

    # -------------------------------------------------------------------------------------- intake

    @property
    def full(self) -> bool:
        return len(self._queued) >= self._max_queue

    def wait_estimate_s(self) -> float:
        """Roughly how long until a new job would start, from recent job durations."""
        ahead = len(self._queued) + len(self._running)
        return max(1.0, ahead / self._workers * self._average_s)

    def submit(self, job: QueuedJob) -> int:
        """Queue a job (its row already exists) and return its position (1 = next)."""
        if job.id in self._queued or job.id in self._running:
            return self.position(job.id) or 1
        later = self._later.pop(job.id, None)
        if later is not None:  # asked for again (a restart's recovery, a retry): now, not later
            later[1].cancel()
        self._queued[job.id] = job
        self._by_user.setdefault(job.user_id, deque()).append(job)
        self._notify()
        return self.position(job.id) or 1

    def position(self, job_id: int) -> int | None:
        """1-based place in the order the workers will take queued jobs (ignoring dependencies).

        The workers go round the users in fair order taking one job each, so a job that is ``k``-th
        in its user's lane comes after ``min(len(lane), k)`` jobs of every lane and one more of each
        lane ahead of its user's that is longer than ``k``: O(users), not O(queued jobs)."""
        job = self._queued.get(job_id)
        if job is None:
            return None
        mine = self._by_user[job.user_id]
        k = next(index for index, queued in enumerate(mine) if queued.id == job_id)
        place = 1 + k
        before_mine = True
        for user in self._fair_order():
            if user == job.user_id:
                before_mine = False
                continue
            lane = len(self._by_user[user])
            place += min(lane, k) + (1 if before_mine and lane > k else 0)
        return place

    def _fair_order(self) -> list[int]:
        """Users with waiting jobs, least recently served first (never served before anyone)."""
        arrival = {user: index for index, user in enumerate(self._by_user)}
        return sorted(self._by_user, key=lambda user: (self._served.get(user, -1), arrival[user]))

    # ------------------------------------------------------------------------------------- control

    def queued(self, *, chat_id: int | None = None, user_id: int | None = None) -> list[int]:
        return [job.id for job in self._matching(self._queued.values(), chat_id, user_id)]

    def running(self, *, chat_id: int | None = None, user_id: int | None = None) -> list[int]:
        return [job.id for job in self._matching(self._running_jobs.values(), chat_id, user_id)]

    def remove_queued(self, job_id: int) -> bool:
        job = self._queued.pop(job_id, None)
        if job is None:
            return False
        lane = self._by_user.get(job.user_id)
        if lane is not None:
            lane.remove(job)
            if not lane:
                del self._by_user[job.user_id]
        self._notify()
        return True

    def cancel_running(self, job_id: int) -> bool:
        task = self._running.get(job_id)
        if task is None or task.done():
            return False
        task.cancel(USER_CANCEL)
        return True

    @staticmethod
    def _matching(jobs: Iterable[QueuedJob], chat_id: int | None, user_id: int | None) -> list[QueuedJob]:
        return [
            job
            for job in jobs
            if (chat_id is None or job.chat_id == chat_id) and (user_id is None or job.user_id == user_id)
        ]

    # ------------------------------------------------------------------------------------- workers

    def _notify(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        with contextlib.suppress(RuntimeError):  # no running loop (only in synchronous tests)
            asyncio.get_running_loop().create_task(notify())

    def _take(self) -> QueuedJob | None:
        """The next job: the least recently served user's oldest job that is not waiting on another."""
        if self._stopping:
            return None
        for user_id in self._fair_order():
            lane = self._by_user[user_id]
            for job in lane:
                if job.after_job_id is None or (
                    job.after_job_id not in self._queued and job.after_job_id not in self._running
                ):
                    lane.remove(job)
                    if not lane:
                        del self._by_user[user_id]
                    del self._queued[job.id]
                    self._tick += 1
                    self._served[user_id] = self._tick
                    return job
        return None

    async def _work(self) -> None:
        while True:
            async with self._changed:
                job = self._take()
                while job is None:
                    await self._changed.wait()
                    job = self._take()
                task = asyncio.create_task(self._runner(job.id), name=f"easel-job-{job.id}")
                self._running[job.id] = task
                self._running_jobs[job.id] = job
            started = self._clock()
            again: float | None = None
            try:
                again = await asyncio.shield(task)
            except asyncio.CancelledError:
                me = asyncio.current_task()
                if me is not None and me.cancelling():  # the worker itself is stopping: stop the job too
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                    raise
                # otherwise the job alone was cancelled (/cancel) and its runner has dealt with it
            except Exception:
                log.exception("job %s crashed its runner", job.id)
            finally:
                self._average_s = 0.8 * self._average_s + 0.2 * (self._clock() - started)
                async with self._changed:
                    self._running.pop(job.id, None)
                    self._running_jobs.pop(job.id, None)
                    if again is not None and not self._stopping:
                        self._run_later(job, again)
                    self._changed.notify_all()

    def _run_later(self, job: QueuedJob, delay_s: float) -> None:
        def resubmit() -> None:
            if self._later.pop(job.id, None) is not None and not self._stopping:
                self.submit(job)

        handle = asyncio.get_running_loop().call_later(max(0.0, delay_s), resubmit)
        self._later[job.id] = (job, handle)
