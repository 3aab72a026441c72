"""/schedule and /birthday against hostile members: renamed impostors, caps, floods, NUL, six-field
cron. Rights come from user ids and the adapter's admin flag, never from display names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.scheduler.conftest import World


async def test_a_member_renamed_bob_cannot_overwrite_bobs_birthday(world: World) -> None:
    """An impostor named "Bob" setting Bob's name saves his own birthday; Bob's stays as it was."""
    await world.say("/birthday set 14-03", user="bob", name="Bob")
    await world.say("/birthday set 01-01 Bob", user="mallory", name="Bob")
    birthdays = await world.birthdays.for_chat(chat_platform="test", chat_id="g1")
    owners = {(b.person_user, b.day, b.month) for b in birthdays}
    assert owners == {("bob", 14, 3), ("mallory", 1, 1)}


async def test_a_member_renamed_bob_cannot_remove_bobs_birthday(world: World) -> None:
    """``/birthday remove`` and ``/birthday remove Bob`` from an impostor named Bob leave Bob's alone."""
    await world.say("/birthday set 14-03", user="bob", name="Bob")
    assert "no birthday for you" in await world.say("/birthday remove", user="mallory", name="Bob")
    assert "administrators" in await world.say("/birthday remove Bob", user="mallory", name="Bob")
    [left] = await world.birthdays.for_chat(chat_platform="test", chat_id="g1")
    assert left.person_user == "bob"


async def test_a_member_may_remove_their_own_birthday_after_a_rename(world: World) -> None:
    """Bob's own birthday is his by id: he removes it after renaming himself Robert."""
    await world.say("/birthday set 14-03", user="bob", name="Bob")
    assert "Removed Bob's birthday" in await world.say("/birthday remove", user="bob", name="Robert")
    assert await world.birthdays.for_chat(chat_platform="test", chat_id="g1") == []


async def test_two_members_with_one_name_both_keep_a_birthday(world: World) -> None:
    """Two members both called Sam each have their own birthday."""
    await world.say("/birthday set 01-02", user="sam1", name="Sam")
    await world.say("/birthday set 03-04", user="sam2", name="Sam")
    assert len(await world.birthdays.for_chat(chat_platform="test", chat_id="g1")) == 2


async def test_an_admin_may_change_a_members_birthday_by_name(world: World) -> None:
    """An admin setting "Bob" moves Bob's own birthday; it stays Bob's (his id) and is not doubled."""
    await world.say("/birthday set 14-03", user="bob", name="Bob")
    await world.say("/birthday set 15-03 Bob", user="ada", name="Ada", admin=True)
    [moved] = await world.birthdays.for_chat(chat_platform="test", chat_id="g1")
    assert (moved.person_user, moved.day) == ("bob", 15)


@pytest.mark.easel(env={"EASEL__SCHEDULER__MAX_PER_CHAT": "2"})
async def test_schedules_per_chat_are_capped(world: World) -> None:
    """The third /schedule add in a chat with a cap of two is refused and nothing is saved."""
    for hour in (7, 8):
        assert "Scheduled #" in await world.say(f"/schedule add every day at {hour}:00 a fox", admin=True)
    answer = await world.say("/schedule add every day at 09:00 a fox", admin=True)
    assert "the most it may have" in answer and len(await world.store.list_schedules()) == 2


@pytest.mark.easel(env={"EASEL__LIMITS__USER_RATE": "2/minute"})
async def test_schedule_creation_is_rate_limited_like_requests(world: World) -> None:
    """With 2 requests a minute, a third /schedule add within the minute is refused."""
    for hour in (7, 8):
        await world.say(f"/schedule add every day at {hour}:00 a fox", admin=True, user="fast")
    answer = await world.say("/schedule add every day at 09:00 a fox", admin=True, user="fast")
    assert "too fast" in answer and len(await world.store.list_schedules()) == 2


async def test_nul_in_a_schedule_prompt_is_refused(world: World) -> None:
    """A schedule prompt with a NUL character is refused with a message; nothing is saved."""
    answer = await world.say("/schedule add every day at 09:00 a fox\x00 in snow", admin=True)
    assert "NUL" in answer and await world.store.list_schedules() == []


async def test_six_field_cron_is_refused(world: World) -> None:
    """``* * * * * *`` is answered with the five-field form, not read as every minute."""
    answer = await world.say("/schedule add * * * * * * a fox", admin=True)
    assert "five fields" in answer and await world.store.list_schedules() == []


async def test_a_schedule_id_beyond_32_bits_is_not_found(world: World) -> None:
    """``/schedule pause 999999999999`` says there is no such schedule (also on PostgreSQL)."""
    answer = await world.say("/schedule pause 999999999999", admin=True)
    assert "There is no scheduled post #999999999999" in answer


async def test_deleting_a_schedule_gives_its_waiting_jobs_quota_back(world: World) -> None:
    """A post queued but not started when its schedule is removed ends cancelled, its image refunded."""
    schedule_id = await world.add("every day at 09:00")
    await world.easel.queue.stop()  # the job will wait: no worker takes it
    world.clock.current = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    await world.scheduler.step()
    await world.scheduler.flush()
    [run] = await world.runs(schedule_id)
    assert run.job_id is not None
    owner = await world.easel.history.upsert_user(platform="test", external_id="owner", display_name="Owner")
    day = world.clock.now().date()
    assert (await world.easel.history.usage(user_id=owner, day=day)).images_today == 1
    assert "Removed" in await world.say(f"/schedule remove {schedule_id}", chat="c1", admin=True)
    job = await world.easel.jobs.get_job(job_id=run.job_id)
    assert job is not None and job.status == "cancelled"
    assert (await world.easel.history.usage(user_id=owner, day=day)).images_today == 0
