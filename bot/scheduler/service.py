"""``SchedulerService``: fires scheduled posts and birthday cards on time, exactly once.

Why our own loop rather than APScheduler's scheduler and job store: the database is the source of
truth and must stay so across processes (``easel schedule add`` writes while the bot runs) and
restarts, exactly-once needs a claim in the *same* transaction that advances the schedule, and tests
must drive time through an injected clock and sleeper. APScheduler's job stores keep their own copy
of every job (pickled) and its executors run on the wall clock; reconciling two sources of truth is
where duplicates and lost runs come from. So APScheduler is used for what it is best at, the triggers
(cron and interval fire times, DST-correct: :mod:`bot.scheduler.triggers`), and this module keeps:

- a heap of (next fire time, schedule id) loaded from one indexed query at start (100,000 schedules in
  well under 3 s, since each row stores its ``next_fire_at``);
- one loop that sleeps until the earliest fire time (or a change, or the next poll), then claims every
  due fire time in one transaction and submits the jobs (1,000 due in the same minute go out together);
- catch-up: a schedule whose fire time passed while the bot was down runs once at start if the latest
  missed fire time is within ``scheduler.misfire_grace`` (several missed runs coalesce into that one),
  else the misses are recorded as ``missed`` and logged;
- a poll every few seconds for changes made by other processes (the CLI) and "run now" requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.errors import EaselError
from bot.core.ports import Clock
from bot.core.schedules.ports import Claim, RunRecord, RunStatus, ScheduleRecord, ScheduleStore, Triggers
from bot.scheduler.runs import RunExecutor

log = logging.getLogger(__name__)

Sleeper = Callable[[float], Awaitable[None]]
POLL_S = 5.0
CHANGE_SLACK = timedelta(minutes=10)
"""Changes are re-read this far back, so rows written by a process with a slightly late clock count."""


@dataclass(order=True, frozen=True, slots=True)
class _Entry:
    when: datetime
    schedule_id: int
    run: RunRecord | None = field(default=None, compare=False)
    """Set for a retry of this run; None for the schedule's regular fire time."""


class SchedulerService:
    def __init__(
        self,
        *,
        store: ScheduleStore,
        executor: RunExecutor,
        triggers: Triggers,
        clock: Clock,
        misfire_grace: timedelta = timedelta(hours=6),
        sleeper: Sleeper = asyncio.sleep,
        poll_s: float = POLL_S,
        on_stop: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._executor = executor
        self._triggers = triggers
        self._clock = clock
        self._grace = misfire_grace
        self._sleep = sleeper
        self._poll_s = poll_s
        self._on_stop = on_stop
        self._heap: list[_Entry] = []
        self._expected: dict[int, datetime] = {}
        self._dirty: set[int] = set()
        self._wake = asyncio.Event()
        self._watermark: datetime | None = None
        self._next_poll: datetime | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------------------------ lifecycle

    async def start(self, *, run_loop: bool = True) -> None:
        """Load every enabled schedule and the runs a previous process left open, then start the loop
        (without ``run_loop`` the caller drives :meth:`step`: tests)."""
        if self._tasks:
            return
        now = self._clock.now()
        self._watermark = now - CHANGE_SLACK
        for schedule_id, when in await self._store.fire_index():
            self._expected[schedule_id] = when
            self._heap.append(_Entry(when, schedule_id))
        heapq.heapify(self._heap)
        self._tasks = [
            asyncio.create_task(self._executor.watch_forever(), name="easel-scheduler-watch"),
            asyncio.create_task(self._executor.submit_forever(), name="easel-scheduler-submit"),
        ]
        for run in await self._store.open_runs():
            if run.status == RunStatus.RETRYING:
                self.retry_at(run, run.next_attempt_at or now)
            elif run.status == RunStatus.SUBMITTED and run.job_id is not None:
                self._executor.watch(run, run.job_id)
            else:  # claimed before a crash, never submitted (or submitted, unrecorded: the key finds it)
                self._executor.submit(run)
        if run_loop:
            self._tasks.append(asyncio.create_task(self._loop(), name="easel-scheduler"))
        log.info("scheduler: %d schedule(s) loaded", len(self._expected))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._on_stop is not None:
            await self._on_stop()

    def is_running(self) -> bool:
        """For /healthz: the loop is alive."""
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    async def flush(self) -> None:
        """Until every due run found so far has its job queued."""
        await self._executor.flush()

    async def settle(self) -> None:
        """Until every submitted run has its outcome recorded."""
        await self._executor.settle()

    # --------------------------------------------------------------------- ScheduleEvents (chat)

    def changed(self, schedule_id: int) -> None:
        self._dirty.add(schedule_id)
        self._wake.set()

    async def removed(self, schedule_id: int, job_ids: Sequence[int]) -> None:
        self._expected.pop(schedule_id, None)
        await self._executor.submitter.cancel_jobs(job_ids)

    def run_now(self, run: RunRecord) -> None:
        self._wake.set()  # the requested row is taken by the next step

    def retry_at(self, run: RunRecord, when: datetime) -> None:
        heapq.heappush(self._heap, _Entry(when, run.schedule_id, run))
        self._wake.set()

    # ----------------------------------------------------------------------------------------- loop

    async def _loop(self) -> None:
        while True:
            try:
                await self.step()
            except Exception:  # a database hiccup must not stop scheduling for good
                log.exception("scheduler step failed; retrying in %.0f s", self._poll_s)
                await self._sleep(self._poll_s)
                continue
            await self._doze()

    async def _doze(self) -> None:
        now = self._clock.now()
        delay = self._poll_s
        if self._heap:
            delay = min(delay, (self._heap[0].when - now).total_seconds())
        if self._wake.is_set():
            self._wake.clear()
            return
        waker = asyncio.create_task(self._wake.wait())
        sleeper = asyncio.ensure_future(self._sleep(max(0.0, delay)))
        try:
            await asyncio.wait({waker, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waker.cancel()
            sleeper.cancel()
            self._wake.clear()

    async def step(self) -> None:
        """Do everything due now: reload changed schedules, fire due ones, retry, take "run now"s."""
        now = self._clock.now()
        if self._next_poll is None or now >= self._next_poll or self._dirty:
            await self._poll(now)
        fires: list[_Entry] = []
        retries: list[_Entry] = []
        while self._heap and self._heap[0].when <= now:
            entry = heapq.heappop(self._heap)
            if entry.run is not None:
                retries.append(entry)
            elif self._expected.get(entry.schedule_id) == entry.when:
                fires.append(entry)
        if fires:
            await self._fire(fires, now)
        for entry in retries:
            assert entry.run is not None
            run = await self._store.get_run(entry.run.id)
            if run is not None and run.status == RunStatus.RETRYING:
                self._executor.submit(run)
        for run in await self._store.take_requested(now=now):
            self._executor.submit(run)

    async def _poll(self, now: datetime) -> None:
        dirty, self._dirty = self._dirty, set()
        changed = await self._store.changed_since(self._watermark)
        changed += await self._store.get_many(dirty - {c.id for c in changed})
        for schedule in changed:
            self._track(schedule)
            if self._watermark is None or schedule.updated_at - CHANGE_SLACK > self._watermark:
                self._watermark = schedule.updated_at - CHANGE_SLACK
        self._next_poll = now + timedelta(seconds=self._poll_s)

    def _track(self, schedule: ScheduleRecord) -> None:
        when = schedule.next_fire_at if schedule.enabled else None
        if when is None:
            self._expected.pop(schedule.id, None)
        elif self._expected.get(schedule.id) != when:
            self._expected[schedule.id] = when
            heapq.heappush(self._heap, _Entry(when, schedule.id))

    async def _fire(self, entries: list[_Entry], now: datetime) -> None:
        schedules = {s.id: s for s in await self._store.get_many({e.schedule_id for e in entries})}
        claims: list[Claim] = []
        for entry in entries:
            self._expected.pop(entry.schedule_id, None)
            schedule = schedules.get(entry.schedule_id)
            if schedule is None or not schedule.enabled or schedule.next_fire_at != entry.when:
                if schedule is not None:
                    self._track(schedule)
                continue
            claims.append(self._claim_for(schedule, entry.when, now))
        try:
            runs = await self._store.claim(claims, now=now)
        except EaselError:  # the database is down: keep them due, the loop retries after a pause
            for claim in claims:
                self._expected[claim.schedule_id] = claim.expected_next or claim.fire_time
                heapq.heappush(self._heap, _Entry(self._expected[claim.schedule_id], claim.schedule_id))
            raise
        for claim in claims:
            if claim.next_fire_at is not None:
                self._expected[claim.schedule_id] = claim.next_fire_at
                heapq.heappush(self._heap, _Entry(claim.next_fire_at, claim.schedule_id))
        for run in runs:
            if run.status == RunStatus.CLAIMED:
                self._executor.submit(run, schedules.get(run.schedule_id))

    def _claim_for(self, schedule: ScheduleRecord, due: datetime, now: datetime) -> Claim:
        """The one run to make for a due schedule: the latest fire time not after now (missed ones
        coalesce into it), or, when even that is older than the grace, a ``missed`` record."""

        def after(when: datetime) -> datetime | None:
            return self._triggers.next_after(schedule.spec, schedule.tz, when, anchor=schedule.created_at)

        start: datetime | None = due
        if now - due > self._grace:
            start = after(now - self._grace)
            if start is None or start > now:
                log.warning(
                    "schedule %s: run due %s is older than the misfire grace (%s); skipped",
                    schedule.id, due.isoformat(), self._grace,
                )  # fmt: skip
                return Claim(schedule.id, due, start, due, status=RunStatus.MISSED)
        assert start is not None
        latest, upcoming, skipped = start, after(start), 0
        while upcoming is not None and upcoming <= now:
            latest, upcoming, skipped = upcoming, after(upcoming), skipped + 1
        if latest != due:
            log.info(
                "schedule %s: missed runs since %s coalesced into %s",
                schedule.id,
                due.isoformat(),
                latest.isoformat(),
            )
        return Claim(schedule.id, latest, upcoming, due)
