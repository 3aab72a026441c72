"""The chat's ban list on scheduled posts: at creation, and at each run."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.scheduler.conftest import World


async def test_a_schedule_with_a_banned_prompt_is_refused_at_creation(world: World) -> None:
    """ "/schedule add every day at 09:00 a fox" after "/ban add fox" saves nothing."""
    await world.say("/ban add fox", admin=True)
    answer = await world.say("/schedule add every day at 09:00 a fox", admin=True)
    assert "your schedule prompt has a banned word" in answer
    assert await world.store.list_schedules() == []


async def test_a_word_banned_after_the_schedule_was_made_stops_its_posts(world: World) -> None:
    """A schedule made before the ban posts nothing once its prompt is banned."""
    schedule_id = await world.add("every day at 09:00", "a fox")
    chat = await world.easel.history.upsert_chat(platform="test", external_id="c1")
    await world.easel.history.set_chat_settings(chat_id=chat, settings={"ban": ["fox"]})
    replies = await world.at(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert world.images(replies) == []
    [run] = await world.runs(schedule_id)
    assert run.status in ("retrying", "failed") and "banned word" in (run.error or "")
