"""Building the scheduler around a running Easel (``bot.app.serve`` calls :func:`build_scheduler`)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.core.clock import SystemClock
from bot.core.ports import Clock, Platform
from bot.core.schedules.commands import ScheduleCommands, SchedulePolicy
from bot.scheduler.runs import RunExecutor, RunPolicy
from bot.scheduler.service import POLL_S, SchedulerService, Sleeper
from bot.scheduler.triggers import ApschedulerTriggers
from bot.storage.birthday_repo import SqlBirthdayStore
from bot.storage.schedule_repo import SqlScheduleStore

if TYPE_CHECKING:
    from bot.app import Easel


def build_scheduler(
    easel: Easel,
    *,
    platforms: Mapping[str, Platform],
    clock: Clock | None = None,
    sleeper: Sleeper = asyncio.sleep,
    poll_s: float = POLL_S,
) -> SchedulerService:
    """The scheduler for ``easel``, with ``/schedule`` and ``/birthday`` attached to its service.
    ``start()`` it after the platforms can send; ``stop()`` it before they shut down."""
    settings = easel.settings.scheduler
    clock = clock or SystemClock()
    store = SqlScheduleStore(easel.engine)
    birthdays = SqlBirthdayStore(easel.engine)
    triggers = ApschedulerTriggers()
    scheduler: SchedulerService
    executor = RunExecutor(
        store=store,
        birthdays=birthdays,
        history=easel.history,
        submitter=easel.service,
        queue=easel.queue,
        jobs=easel.jobs,
        platforms=platforms,
        clock=clock,
        policy=RunPolicy(max_failures=settings.max_failures, retry_backoff_s=settings.retry_backoff),
        on_retry=lambda run, when: scheduler.retry_at(run, when),
    )
    scheduler = SchedulerService(
        store=store,
        executor=executor,
        triggers=triggers,
        clock=clock,
        misfire_grace=timedelta(seconds=settings.misfire_grace),
        sleeper=sleeper,
        poll_s=poll_s,
    )
    easel.service.scheduling = ScheduleCommands(
        store=store,
        birthdays=birthdays,
        history=easel.history,
        triggers=triggers,
        clock=clock,
        events=scheduler,
        policy=SchedulePolicy(
            timezone=settings.timezone,
            birthday_hour=settings.birthday_hour,
            max_per_chat=settings.max_per_chat,
        ),
    )
    return scheduler
