"""A scheduled post's failure notices in its chat's language (``/settings language``): the notice and
the provider's reason, mapped while the job ran, are German; English without a chat language."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from bot.core.ports import ProgressCallback
from bot.core.types import Image, ImageRequest
from bot.providers._http.errors import raise_for_response
from tests.fakes.clock import FixedClock
from tests.scheduler.conftest import START, PictureProvider, World, open_world


class PolicyRefusingPictures(PictureProvider):
    """Refuses every request as an HTTP API's content-policy 400, mapped while the job runs."""

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        answer = httpx.Response(400, json={"error": {"code": "content_policy_violation", "message": "no"}})
        raise_for_response(answer, provider=self.name)
        return []


async def _first_notice(world: World) -> str:
    """The scheduler's notice about the first (failed) run; the job's own failure reply comes first."""
    await world.add("every day at 09:00")
    replies = await world.at(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    return [r.text for r in replies if r.is_error][-1]


async def test_a_failed_post_is_reported_in_the_chats_german(db_url: str, tmp_path: Path) -> None:
    """Chat c1 set to German: "will try again" and the provider's refusal come in German."""
    clock = FixedClock(START)
    async with open_world(
        db_url, tmp_path / "media", clock=clock, provider=PolicyRefusingPictures()
    ) as world:
        await world.say("/settings language de", chat="c1", user="u1", admin=True)
        notice = await _first_notice(world)
    assert notice == (
        "Der geplante Post #1 ist fehlgeschlagen (Der Bilddienst hat diesen Prompt abgelehnt "
        "(Inhaltsrichtlinie).); ich versuche es in etwa 1 min noch einmal."
    )


async def test_without_a_chat_language_the_notice_is_english(db_url: str, tmp_path: Path) -> None:
    """No /settings language: the same failure is reported in English."""
    clock = FixedClock(START)
    async with open_world(
        db_url, tmp_path / "media", clock=clock, provider=PolicyRefusingPictures()
    ) as world:
        notice = await _first_notice(world)
    assert notice == (
        "Scheduled post #1 failed (The image service refused this prompt (content policy).); "
        "I'll try again in about 1 min."
    )
