"""The workers of one replica over the durable job table: claim, run, renew, let go.

The database row is the truth (``JobStore``), and the database is the queue: every replica's workers
claim jobs from it with a lease (``JobStore.claim``), in the same fair order (the user served least
recently first), skipping a job that waits for an earlier open job of its chat ("make it warmer" sent
while the image it edits is still being made). While a job runs its lease is renewed every third of
``lease_s``; a replica that dies stops renewing, and once its leases expire another replica takes
its jobs over. A lease this replica lost (taken over after a stall) stops the job here: every write
of a job is made under its lease, so a stale worker cannot change it any more.

- ``workers`` jobs run at once here; beyond ``max_queue`` waiting jobs (over all replicas), new
  requests are refused;
- a run may ask to be run again later (its runner returns a delay): the job keeps its lease and runs
  again here after the delay (a result the platform could not take yet);
- ``wake()`` after a job was queued (here, or on another replica through the bus) claims at once;
  otherwise the queue looks every ``poll_s``;
- ``stop(grace_s=...)`` takes no new job, lets running ones finish within the grace, interrupts the
  rest and lets go of every lease, so another replica (or the next start) resumes them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.core.jobs import lifecycle
from bot.core.ports import NO_METRICS, Clock, JobStore, Metrics
from bot.core.types import JobRecord, JobStatus
from bot.core.waiting import wait_event

log = logging.getLogger(__name__)

Runner = Callable[[int, JobRecord | None], Coroutine[Any, Any, float | None]]
"""Runs a job one step further; returns None when done with it, or seconds after which to run it again.
The record is the job as its claim just left it (started, when it is to be generated), or None when
the job is run again after a delay (the runner reads it)."""
USER_CANCEL = "easel: cancelled by the user"
"""The message of the ``CancelledError`` a job sees when /cancel stopped it (not a shutdown)."""
LEASE_S = 30.0
POLL_S = 2.0
WAIT_POLL_S = 0.05
COUNT_TTL_S = 1.0
"""How old the queue's figures (waiting, working) may be: counting is one query over the open jobs."""


@dataclass(frozen=True, slots=True)
class QueuedJob:
    """A job as the queue sees it (kept for callers that name one)."""

    id: int
    user_id: int
    chat_id: int
    after_job_id: int | None = None


class JobQueue:
    def __init__(
        self,
        *,
        runner: Runner,
        jobs: JobStore,
        owner: str,
        platforms: Collection[str],
        clock: Clock,
        workers: int,
        max_queue: int,
        lease_s: float = LEASE_S,
        poll_s: float = POLL_S,
        typical_job_s: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        self._runner = runner
        self._jobs = jobs
        self.owner = owner
        self._platforms = sorted(platforms)
        self._clock = clock
        self._workers = workers
        self._max_queue = max_queue
        self._lease_s = lease_s
        self._poll_s = poll_s
        self._monotonic = monotonic
        self._average_s = typical_job_s
        self._running: dict[int, asyncio.Task[float | None]] = {}
        self._later: dict[int, asyncio.TimerHandle] = {}
        """Jobs this replica holds and runs again after a delay (a delivery to retry)."""
        self._ready: list[int] = []
        """Held jobs whose delay is over: they run before anything new is claimed."""
        self._wake = asyncio.Event()
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._claiming = False
        self._news = 1
        """Counts wake-ups (a job queued or freed, a poll): a claim is made only when there is news
        since the last claim that found nothing more, so a drained queue costs no empty claims."""
        self._news_claimed = 0
        self._waiting = 0
        self._working = 0
        self._counted_at = -COUNT_TTL_S - 1.0
        (metrics or NO_METRICS).watch_queue(lambda: self._waiting, lambda: self._working)

    # ------------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if not self._tasks and self._platforms:
            self._stopping = False
            self._tasks = [
                asyncio.create_task(self._dispatch(), name=f"easel-dispatch-{self.owner}"),
                asyncio.create_task(self._heartbeat(), name=f"easel-leases-{self.owner}"),
            ]

    async def stop(self, *, grace_s: float = 0.0) -> None:
        """Take no new job, give running ones ``grace_s`` to finish, interrupt the rest, let go of every
        lease this replica holds (the jobs stay as the database has them: resumed elsewhere or later)."""
        if self._stopping and not self._tasks:
            return
        self._stopping = True
        self._wake.set()
        for handle in self._later.values():
            handle.cancel()
        running = [task for task in self._running.values() if not task.done()]
        if running and grace_s > 0:
            log.info("waiting up to %.0f s for %d running job(s)", grace_s, len(running))
            _, late = await asyncio.wait(running, timeout=grace_s)
            if late:
                log.warning("%d job(s) still running after %.0f s; interrupted", len(late), grace_s)
        held = [*self._running, *self._later, *self._ready]  # (a finished run leaves _running)
        tasks = [*self._running.values(), *self._tasks]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks, self._running, self._later, self._ready = [], {}, {}, []
        for job_id in held:
            with contextlib.suppress(Exception):
                await self._jobs.release(owner=self.owner, job_id=job_id)
        await self._notify()

    # -------------------------------------------------------------------------------------- intake

    def wake(self) -> None:
        """A job was queued (or freed): claim now rather than at the next poll."""
        self._news += 1
        self._wake.set()

    @property
    def waiting(self) -> int:
        """Jobs waiting over every replica, as last counted (every poll)."""
        return self._waiting

    @property
    def working(self) -> int:
        """Jobs being worked on over every replica, as last counted."""
        return self._working

    async def is_full(self) -> bool:
        """Whether ``max_queue`` jobs wait already, over every replica (counted again when the last
        count is older than ``COUNT_TTL_S``; this replica's own submissions since are counted in)."""
        if self._monotonic() - self._counted_at > COUNT_TTL_S:
            await self.counts()
        return self._waiting >= self._max_queue

    def queued(self) -> None:
        """A job was just queued here: counted, and claimed at once when a worker is free."""
        self._waiting += 1
        self.wake()

    def wait_estimate_s(self) -> float:
        """Roughly how long until a new job would start, from recent job durations."""
        ahead = self._waiting + self._working
        return max(1.0, ahead / max(1, self._workers) * self._average_s)

    async def position(self, job_id: int) -> int:
        """1-based place of a waiting job in the claim order over every replica (1 when it runs, or
        when it is all that waits and a worker here is free: no query then)."""
        if self._waiting <= 1 and len(self._running) < self._workers and not self._stopping:
            return 1
        return await self._jobs.position(job_id=job_id, now=self._clock.now()) or 1

    async def counts(self) -> tuple[int, int]:
        """(waiting, being worked on), over every replica (refreshed for the metrics, too)."""
        self._waiting, self._working = await self._jobs.queue_counts(now=self._clock.now())
        self._counted_at = self._monotonic()
        return self._waiting, self._working

    # ------------------------------------------------------------------------------------- control

    def running_here(self) -> list[int]:
        return list(self._running)

    def cancel_running(self, job_id: int) -> bool:
        """Stop the job if it runs here (/cancel); False when it does not."""
        task = self._running.get(job_id)
        if task is None or task.done():
            return False
        task.cancel(USER_CANCEL)
        return True

    async def wait_for(self, job_id: int) -> None:
        """Until the job is finished, or no longer this replica's to do (held elsewhere, or for a
        platform this replica does not serve)."""
        while True:
            if job_id not in self._running and job_id not in self._later and job_id not in self._ready:
                job = await self._jobs.get_job(job_id=job_id)
                if not self._tasks or job is None or job.platform not in self._platforms:
                    return  # nobody works here, or not for this replica
                if _finished(job.status, job.notified) or job.lease_owner not in (None, self.owner):
                    return
                self.wake()
            await self._pause()

    async def drain(self) -> None:
        """Until nothing this replica could do is left (nothing running here, nothing claimable)."""
        while True:
            if not self._running and not self._later and not self._ready and not self._claiming:
                if not self._tasks or not await self._jobs.has_work(
                    platforms=self._platforms, now=self._clock.now()
                ):
                    return
                self.wake()
            await self._pause()

    async def _pause(self) -> None:
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), WAIT_POLL_S)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------------------------- workers

    async def _dispatch(self) -> None:
        while not self._stopping:
            try:
                await self._fill()
                if self._monotonic() - self._counted_at > COUNT_TTL_S:
                    await self.counts()
            except Exception:  # a database hiccup must not stop the workers for good
                log.exception("claiming jobs failed; trying again in %.0f s", self._poll_s)
            self._wake.clear()
            if not await wait_event(self._wake, self._poll_s):
                self._news += 1  # a lease may have expired, another replica may have queued work

    async def _fill(self) -> None:
        while not self._stopping and len(self._running) < self._workers:
            if self._ready:
                self._start(self._ready.pop(0), None)
                continue
            if self._news == self._news_claimed:
                return  # the last claim saw nothing more, and nothing was queued or freed since
            news = self._news
            self._claiming = True  # a job claimed is in no list until the claim returns
            try:
                job, more = await self._jobs.claim_next(
                    owner=self.owner, platforms=self._platforms, now=self._clock.now(), lease_s=self._lease_s
                )
            finally:
                self._claiming = False
            if not more:
                self._news_claimed = news  # wake-ups during the claim still count
            if job is None:
                return
            self._waiting = max(0, self._waiting - 1)  # (counted again every COUNT_TTL_S)
            self._start(job.id, job)

    def _start(self, job_id: int, claimed: JobRecord | None) -> None:
        task = asyncio.create_task(self._runner(job_id, claimed), name=f"easel-job-{job_id}")
        self._running[job_id] = task
        started = self._monotonic()
        task.add_done_callback(lambda done: asyncio.ensure_future(self._finished(job_id, done, started)))

    async def _finished(self, job_id: int, task: asyncio.Task[float | None], started: float) -> None:
        self._running.pop(job_id, None)
        self._average_s = 0.8 * self._average_s + 0.2 * (self._monotonic() - started)
        again: float | None = None
        ended = False  # the runner is done with it: its last move let go of the lease
        if task.cancelled():
            pass  # shutting down, or /cancel (which the runner dealt with), or the lease was lost
        elif (error := task.exception()) is not None:
            log.error("job %s crashed its runner", job_id, exc_info=error)
        else:
            again = task.result()
            ended = again is None
        if again is not None and not self._stopping:
            self._later[job_id] = asyncio.get_running_loop().call_later(max(0.0, again), self._due, job_id)
        elif not self._stopping and not ended:
            with contextlib.suppress(Exception):  # a job left open (not ended): another may take it
                await self._jobs.release(owner=self.owner, job_id=job_id)
            self._news += 1  # claimable again
        self._wake.set()  # a worker is free: it claims if there is news since the last empty claim
        await self._notify()

    def _due(self, job_id: int) -> None:
        if self._later.pop(job_id, None) is not None and not self._stopping:
            self._ready.append(job_id)
            self._wake.set()

    async def _heartbeat(self) -> None:
        """Renew this replica's leases; a job whose lease was taken over is stopped here."""
        while not self._stopping:
            await asyncio.sleep(self._lease_s / 3)
            held_here = [*self._running, *self._later, *self._ready]
            try:
                kept = await self._jobs.renew(
                    owner=self.owner, job_ids=held_here, now=self._clock.now(), lease_s=self._lease_s
                )
            except Exception:
                log.exception("renewing the leases failed")
                continue
            for job_id in set(held_here) - kept:
                if not await self._taken_over(job_id):
                    continue  # it ended (its last move let go of the lease) while renewing
                log.warning("job %s: lease taken over by another replica; stopping it here", job_id)
                task = self._running.get(job_id)
                if task is not None:
                    task.cancel()
                handle = self._later.pop(job_id, None)
                if handle is not None:
                    handle.cancel()
                if job_id in self._ready:
                    self._ready.remove(job_id)

    async def _taken_over(self, job_id: int) -> bool:
        """Whether another replica holds the job now (not: it ended, or this one let go of it)."""
        try:
            job = await self._jobs.get_job(job_id=job_id)
        except Exception:
            log.exception("reading job %s after its lease was not renewed failed", job_id)
            return False  # not known to be lost: its next write, fenced by the lease, will tell
        return job is not None and job.lease_owner not in (None, self.owner)


def _finished(status: JobStatus, notified: bool) -> bool:
    """Nothing is owed any more: done, or failed/cancelled and told."""
    return status == JobStatus.DONE or (status in lifecycle.FINAL and notified)
