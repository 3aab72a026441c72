"""The durable job pipeline: fairness, limits and quotas, idempotency, cancellation, recovery."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, update

from bot.app import open_easel
from bot.core.errors import StorageError
from bot.core.jobs.pacing import ProgressThrottle
from bot.core.messages import Incoming
from bot.core.ports import Provider
from bot.core.types import Done, Failed, JobStatus, Progress, Queued, Started
from bot.storage.tables import DeliveryRow, JobRow
from tests.core.conftest import Harness, easel_settings
from tests.fakes.platform import RecordingPlatform
from tests.fakes.scripted import ScriptedProvider


def gated() -> Sequence[Provider]:
    return [ScriptedProvider("gated", gate=asyncio.Event())]


def gate_of(harness: Harness) -> asyncio.Event:
    provider = harness.providers[0]
    assert isinstance(provider, ScriptedProvider) and provider.gate is not None
    return provider.gate


# ------------------------------------------------------------------------------------------ fairness


@pytest.mark.easel(env={"EASEL__GENERATION__WORKERS": "1"}, providers=gated)
async def test_one_users_batch_does_not_starve_another(harness: Harness) -> None:
    """A submits 10 jobs, then B submits 1: B's job finishes among the first two."""
    service = harness.easel.service
    a_jobs = [await service.handle(harness.message(f"/imagine a{i}", user="A", chat="A")) for i in range(10)]
    b_job = await service.handle(harness.message("/imagine b", user="B", chat="B"))
    gate_of(harness).set()
    await harness.easel.queue.drain()
    finished = [job_id for job_id, event in harness.platform.events if isinstance(event, Done)]
    assert len(finished) == 11 and set(finished) == {*a_jobs, b_job}
    assert b_job in finished[:2]


@pytest.mark.easel(env={"EASEL__GENERATION__WORKERS": "1"}, providers=gated)
async def test_queued_position_is_reported(harness: Harness) -> None:
    """Queued jobs are told their place; a newcomer goes ahead of a user already being served."""
    service = harness.easel.service
    await service.handle(harness.message("/imagine a0", user="A"))
    await harness.platform.wait_for_event(Started, 1)  # a0 is being made: the others wait
    second = await service.handle(harness.message("/imagine a1", user="A"))
    third = await service.handle(harness.message("/imagine b0", user="B"))
    assert second is not None and third is not None
    positions = {
        job_id: event.position for job_id, event in harness.platform.events if isinstance(event, Queued)
    }
    assert positions[second] == 1 and positions[third] == 1
    assert await harness.easel.queue.position(second) == 2
    gate_of(harness).set()


# ---------------------------------------------------------------------------------- limits, quotas


@pytest.mark.easel(env={"EASEL__LIMITS__DAILY_IMAGES_PER_USER": "5"})
async def test_quota_race_accepts_exactly_the_quota(harness: Harness) -> None:
    """20 concurrent requests against a quota of 5: exactly 5 are queued, 15 told when to retry."""
    service = harness.easel.service
    messages = [harness.message(f"/imagine fox {i}", message_id=str(i)) for i in range(20)]
    job_ids = await asyncio.gather(*(service.handle(message) for message in messages))
    accepted = [job_id for job_id in job_ids if job_id is not None]
    refusals = [reply for reply in harness.platform.replies if reply.is_error]
    assert len(accepted) == 5 and len(refusals) == 15
    assert all("quota resets in about" in reply.text for reply in refusals)
    await harness.easel.queue.drain()
    usage = await harness.easel.history.usage(user_id=await harness.user_id(), day=harness.clock.now().date())
    assert usage.images_today == 5


@pytest.mark.easel(env={"EASEL__LIMITS__USER_RATE": "2/minute"})
async def test_rate_limit_says_when_to_retry(harness: Harness) -> None:
    """The third request within a minute is refused with a wait time."""
    await harness.say("/imagine one")
    await harness.say("/imagine two")
    reply = await harness.last("/imagine three")
    assert reply.is_error and "Try again in about" in reply.text


@pytest.mark.easel(env={"EASEL__LIMITS__USER_RATE": "1/minute", "EASEL__LIMITS__ADMINS": '["test:boss"]'})
async def test_admins_are_exempt_from_rates(harness: Harness) -> None:
    """A configured admin is not rate limited."""
    await harness.say("/imagine one", user="boss")
    reply = await harness.last("/imagine two", user="boss")
    assert not reply.is_error


@pytest.mark.easel(env={"EASEL__LIMITS__MAX_QUEUE": "1", "EASEL__GENERATION__WORKERS": "1"}, providers=gated)
async def test_full_queue_answers_busy(harness: Harness) -> None:
    """Beyond max_queue waiting jobs a request is told to come back later."""
    service = harness.easel.service
    await service.handle(harness.message("/imagine running", user="A"))
    await harness.platform.wait_for_event(Started, 1)
    await service.handle(harness.message("/imagine waiting", user="B"))
    reply = await harness.last("/imagine one too many", user="C")
    gate_of(harness).set()
    assert reply.is_error and "busy" in reply.text and "try again in about" in reply.text


@pytest.mark.easel(
    env={"EASEL__LIMITS__PRICES": '{"builtin": 0.5}', "EASEL__LIMITS__CONFIRM_OVER": "0.4"},
)
async def test_costly_request_waits_for_confirmation(harness: Harness) -> None:
    """A request over confirm_over is held until /confirm, and its spend shows in /status."""
    held = await harness.last("/imagine an expensive fox")
    assert "cost about $0.50" in held.text and not held.images
    done = await harness.last("/confirm")
    assert done.images
    status = (await harness.last("/status")).text
    assert "Estimated spend: $0.50 today" in status


async def test_confirm_without_pending_request_explains(harness: Harness) -> None:
    """/confirm with nothing held back says so."""
    reply = await harness.last("/confirm")
    assert reply.is_error and "nothing waiting" in reply.text


# ------------------------------------------------------------------------------- idempotency, cancel


async def test_same_update_twice_creates_one_job(harness: Harness) -> None:
    """A platform update delivered twice (same chat and message id) makes one job and one image."""
    first = await harness.easel.service.handle(harness.message("/imagine a fox", message_id="42"))
    second = await harness.easel.service.handle(harness.message("/imagine a fox", message_id="42"))
    await harness.easel.queue.drain()
    assert first == second
    results = [reply for reply in harness.platform.replies if reply.images]
    assert len(results) == 1


@pytest.mark.easel(env={"EASEL__GENERATION__WORKERS": "1"}, providers=gated)
async def test_cancel_removes_queued_jobs_and_refunds_quota(harness: Harness) -> None:
    """/cancel drops the user's waiting jobs, marks them cancelled and gives the images back."""
    service = harness.easel.service
    running = await service.handle(harness.message("/imagine first"))
    waiting = await service.handle(harness.message("/imagine second --n 3"))
    assert running is not None and waiting is not None
    await harness.platform.wait_for_event(Started, running)
    reply = await harness.last("/cancel")
    await harness.easel.queue.drain()
    job = await harness.easel.jobs.get_job(job_id=waiting)
    usage = await harness.easel.history.usage(user_id=await harness.user_id(), day=harness.clock.now().date())
    assert "Cancelled 2" in reply.text
    assert job is not None and job.status == JobStatus.CANCELLED
    assert usage.images_today == 0


@pytest.mark.easel(env={"EASEL__GENERATION__WORKERS": "1"}, providers=gated)
async def test_cancelled_queued_job_gets_a_failed_event(harness: Harness) -> None:
    """A waiting job dropped by /cancel emits Failed, so its platform takes its "Queued" status down."""
    service = harness.easel.service
    running = await service.handle(harness.message("/imagine first"))
    waiting = await service.handle(harness.message("/imagine second"))
    assert running is not None and waiting is not None
    await harness.platform.wait_for_event(Started, running)
    await harness.last("/cancel")
    events = [event for job_id, event in harness.platform.events if job_id == waiting]
    assert isinstance(events[-1], Failed) and events[-1].reason == "Cancelled."


# ---------------------------------------------------------------------------------------- recovery


async def test_a_send_failing_for_now_is_retried_in_the_running_process(harness: Harness) -> None:
    """A transient send failure is retried after a backoff, from the saved files, without a restart."""
    harness.platform.fail_sends = 1
    job_id = await harness.easel.service.handle(harness.message("/imagine a harbour"))
    assert job_id is not None
    await harness.easel.queue.wait_for(job_id)  # includes the retry's backoff
    job = await harness.easel.jobs.get_job(job_id=job_id)
    assert job is not None and job.status == JobStatus.DONE
    assert len([r for r in harness.platform.replies if r.images]) == 1
    assert len(await harness.easel.history.list_generations()) == 1


async def test_undelivered_images_are_delivered_without_generating_again(harness: Harness) -> None:
    """A job left ``generated`` by a previous process is delivered from the files at the next start."""
    job_id = await harness.easel.service.handle(harness.message("/imagine a harbour"))
    assert job_id is not None
    await harness.easel.queue.wait_for(job_id)
    sent = len(harness.platform.sent)
    async with harness.easel.engine.begin() as conn:  # as if the process had died before the record
        await conn.execute(update(JobRow).where(JobRow.id == job_id).values(status=JobStatus.GENERATED.value))
        await conn.execute(delete(DeliveryRow).where(DeliveryRow.job_id == job_id))
    assert await harness.easel.intake.recover({"test"}) == 1
    await harness.easel.queue.drain()
    job = await harness.easel.jobs.get_job(job_id=job_id)
    assert job is not None and job.status == JobStatus.DONE
    assert len(harness.platform.sent) == sent + 1
    assert len(await harness.easel.history.list_generations()) == 1


async def test_a_failed_delivery_record_is_retried_not_resent(harness: Harness) -> None:
    """When writing the delivery record fails once, it is written again; the photo is sent once."""
    jobs = harness.easel.jobs
    record = jobs.record_delivery
    failures = [StorageError("database is locked")]

    async def flaky(**kwargs: Any) -> None:
        if failures:
            raise failures.pop()
        await record(**kwargs)

    jobs.record_delivery = flaky  # type: ignore[method-assign]
    job_id = await harness.easel.service.handle(harness.message("/imagine a harbour"))
    assert job_id is not None
    await harness.easel.queue.wait_for(job_id)
    job = await jobs.get_job(job_id=job_id)
    assert job is not None and job.status == JobStatus.DONE and not failures
    assert len([r for r in harness.platform.replies if r.images]) == 1


async def test_a_storage_error_while_generating_runs_the_job_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "database is locked" while saving the generation: the job runs again and is delivered, the
    user is never told it failed."""
    monkeypatch.setattr("bot.core.jobs.runner.STORAGE_RETRY_S", 0.01)
    history = harness.easel.history
    record = history.record_generation
    failures = [StorageError("database is locked")]

    async def flaky(**kwargs: Any) -> tuple[int, bool]:
        if failures and kwargs.get("job_id") is not None:
            raise failures.pop()
        return await record(**kwargs)

    history.record_generation = flaky  # type: ignore[method-assign]
    job_id = await harness.easel.service.handle(harness.message("/imagine a harbour"))
    assert job_id is not None
    await harness.easel.queue.wait_for(job_id)
    job = await harness.easel.jobs.get_job(job_id=job_id)
    assert job is not None and job.status == JobStatus.DONE and not failures
    assert [r for r in harness.platform.replies if r.images] and not any(
        isinstance(event, Failed) for _, event in harness.platform.events
    )


async def interrupted_job(settings: Any, platform: RecordingPlatform) -> int:
    """Start a job on a provider that never answers, then stop Easel with the job mid-generation."""
    stuck = ScriptedProvider("p", gate=asyncio.Event())
    async with open_easel(settings, platforms={"test": platform}, providers_override=[stuck]) as easel:
        job_id = await easel.service.handle(platform_message("/imagine a lighthouse"))
        assert job_id is not None
        await platform.wait_for_event(Started, job_id)
    return job_id


async def test_interrupted_job_resumes_after_restart(db_url: str, tmp_path: Path) -> None:
    """A job running when Easel stopped is resumed at the next start and delivered, attempt 2."""
    settings = easel_settings(db_url, tmp_path / "media")
    platform = RecordingPlatform()
    job_id = await interrupted_job(settings, platform)
    async with open_easel(
        settings, platforms={"test": platform}, providers_override=[ScriptedProvider("p")]
    ) as easel:
        await easel.queue.wait_for(job_id)
        job = await easel.jobs.get_job(job_id=job_id)
    assert job is not None and job.status == JobStatus.DONE and job.attempts == 2
    assert len([reply for reply in platform.replies if reply.images]) == 1


async def test_job_past_attempt_limit_fails_with_message(db_url: str, tmp_path: Path) -> None:
    """A job interrupted more often than max_job_attempts is failed and the user is told."""
    settings = easel_settings(db_url, tmp_path / "media", {"EASEL__GENERATION__MAX_JOB_ATTEMPTS": "1"})
    platform = RecordingPlatform()
    job_id = await interrupted_job(settings, platform)
    async with open_easel(
        settings, platforms={"test": platform}, providers_override=[ScriptedProvider("p")]
    ) as easel:
        await easel.queue.wait_for(job_id)
        job = await easel.jobs.get_job(job_id=job_id)
    assert job is not None and job.status == JobStatus.FAILED and job.notified
    assert "given up" in platform.replies[-1].text


async def test_jobs_for_platforms_not_running_are_kept(db_url: str, tmp_path: Path) -> None:
    """A job for a platform that is not running now is left open, not dropped."""
    settings = easel_settings(db_url, tmp_path / "media")
    platform = RecordingPlatform()
    job_id = await interrupted_job(settings, platform)
    async with open_easel(settings, platforms={}, providers_override=[ScriptedProvider("p")]) as easel:
        assert await easel.intake.recover(set()) == 0
        job = await easel.jobs.get_job(job_id=job_id)
    assert job is not None and job.status == JobStatus.RUNNING


def platform_message(text: str) -> Incoming:
    return Incoming(platform="test", chat_id="c1", user_id="u1", display_name="u1", text=text)


# ------------------------------------------------------------------------------------------- units


def test_progress_updates_are_throttled_to_one_per_interval() -> None:
    """Progress passes at most once per 2 s per job; other events always pass."""
    now = [0.0]
    throttle = ProgressThrottle(2.0, clock=lambda: now[0])
    assert throttle.allow(1, Progress(0.1))
    now[0] = 1.0
    assert not throttle.allow(1, Progress(0.2))
    assert throttle.allow(2, Progress(0.2))
    assert throttle.allow(1, Started("p"))
    now[0] = 2.5
    assert throttle.allow(1, Progress(0.3))
    assert throttle.allow(1, Failed("x"))


@pytest.mark.easel(env={"EASEL__LIMITS__DAILY_IMAGES_PER_USER": "5"})
async def test_reroll_counts_its_sources_image_count_against_the_quota(harness: Harness) -> None:
    """A reroll of a 3-image request needs room for 3 images, so it cannot overshoot the quota."""
    await harness.say("/imagine a fox --n 3")
    reply = await harness.last("/reroll")
    usage = await harness.easel.history.usage(user_id=await harness.user_id(), day=harness.clock.now().date())
    assert reply.is_error and "quota" in reply.text
    assert usage.images_today == 3


@pytest.mark.easel(env={"EASEL__GENERATION__WORKERS": "1"}, providers=gated)
async def test_a_job_cancelled_from_elsewhere_says_so_in_its_chats_language(harness: Harness) -> None:
    """A waiting job of a German chat cancelled outside any request (a schedule removed from the
    terminal) gets its Failed status in German."""
    service = harness.easel.service
    await harness.say("/settings language de", is_admin=True)
    running = await service.handle(harness.message("/imagine first"))
    waiting = await service.handle(harness.message("/imagine second"))
    assert running is not None and waiting is not None
    await harness.platform.wait_for_event(Started, running)
    await harness.easel.intake.cancel_jobs([waiting])
    events = [event for job_id, event in harness.platform.events if job_id == waiting]
    assert isinstance(events[-1], Failed) and events[-1].reason == "Abgebrochen."
    gate_of(harness).set()
