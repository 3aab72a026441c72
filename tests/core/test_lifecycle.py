"""A job's moves: only those ``bot.core.jobs.lifecycle`` allows happen, whoever asks."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.types import JobStatus, Target
from bot.storage.job_repo import SqlJobStore
from tests.core.conftest import Harness

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def new_job(jobs: SqlJobStore, harness: Harness) -> int:
    chat, user = await harness.chat_id(), await harness.user_id()
    job_id, _ = await jobs.create_job(
        idempotency_key=None, platform="test", chat_id=chat, user_id=user, target=Target("test", "c1"),
        payload={}, images_reserved=1, usage_day=NOW.date(), est_cost=0.0, after_job_id=None, now=NOW,
    )  # fmt: skip
    return job_id


async def test_a_cancelled_job_is_never_started(harness: Harness) -> None:
    """A job cancelled while waiting cannot be moved to running (a worker that took it does nothing)."""
    jobs = harness.easel.jobs
    job_id = await new_job(jobs, harness)
    assert await jobs.move(job_id=job_id, to=JobStatus.CANCELLED, now=NOW) is not None
    assert await jobs.move(job_id=job_id, to=JobStatus.RUNNING, now=NOW, attempt=True) is None
    job = await jobs.get_job(job_id=job_id)
    assert job is not None and job.status == JobStatus.CANCELLED and job.attempts == 0


async def test_a_done_job_cannot_fail_or_be_cancelled(harness: Harness) -> None:
    """Once done, a job stays done: neither a late failure nor a cancel moves it."""
    jobs = harness.easel.jobs
    job_id = await new_job(jobs, harness)
    for step in (JobStatus.RUNNING, JobStatus.GENERATED, JobStatus.DONE):
        assert await jobs.move(job_id=job_id, to=step, now=NOW) is not None
    assert await jobs.move(job_id=job_id, to=JobStatus.FAILED, now=NOW, error="late") is None
    assert await jobs.move(job_id=job_id, to=JobStatus.CANCELLED, now=NOW) is None
    job = await jobs.get_job(job_id=job_id)
    assert job is not None and job.status == JobStatus.DONE and job.error is None


async def test_a_queued_job_cannot_skip_to_generated(harness: Harness) -> None:
    """Images are saved only by a running job: queued → generated is refused."""
    jobs = harness.easel.jobs
    job_id = await new_job(jobs, harness)
    assert await jobs.move(job_id=job_id, to=JobStatus.GENERATED, now=NOW) is None


async def test_a_reply_to_a_delivered_message_names_its_generation(harness: Harness) -> None:
    """ "make it warmer" replying to the message that showed image #1 edits #1, found from the deliveries."""
    first = await harness.last("/imagine a red fox")
    await harness.last("/imagine a blue bird")
    shown = f"m{next(i for i, s in enumerate(harness.platform.sent, 1) if s.reply is first)}"
    edit = await harness.last("make it warmer", reply_to_message_id=shown)
    assert edit.generation_id is not None
    record = await harness.easel.history.get_generation(generation_id=edit.generation_id)
    assert record is not None and record.parent_id == first.generation_id
