"""A whole Easel (real database, files, queue and workers) around a recording platform.

Tests shape it with ``@pytest.mark.easel(env={...}, providers=lambda: [...])``: ``env`` holds
``EASEL__`` settings, ``providers`` a factory of in-process providers (default: the offline renderer).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import Easel, open_easel
from bot.core.messages import Incoming
from bot.core.ports import Provider
from bot.core.types import Reply
from bot.settings import load_settings
from tests.fakes.clock import FixedClock
from tests.fakes.platform import RecordingPlatform

ProviderFactory = Callable[[], Sequence[Provider]]


@dataclass
class Harness:
    easel: Easel
    platform: RecordingPlatform
    clock: FixedClock
    media: Path
    providers: Sequence[Provider]

    def message(self, text: str, *, chat: str = "c1", user: str = "u1", **extra: Any) -> Incoming:
        extra.setdefault("display_name", user)
        return Incoming(platform="test", chat_id=chat, user_id=user, text=text, **extra)

    async def say(self, text: str, *, chat: str = "c1", user: str = "u1", **extra: Any) -> list[Reply]:
        """Send a message, wait for the job it queued (if any), return the replies it caused."""
        before = len(self.platform.sent)
        job_id = await self.easel.service.handle(self.message(text, chat=chat, user=user, **extra))
        if job_id is not None:
            await self.easel.queue.wait_for(job_id)
        return self.platform.replies[before:]

    async def last(self, text: str, **kwargs: Any) -> Reply:
        replies = await self.say(text, **kwargs)
        assert replies, f"no reply to {text!r}"
        return replies[-1]

    async def user_id(self, user: str = "u1") -> int:
        return await self.easel.history.upsert_user(platform="test", external_id=user, display_name=user)

    async def chat_id(self, chat: str = "c1") -> int:
        return await self.easel.history.upsert_chat(platform="test", external_id=chat)


def easel_settings(db_url: str, media: Path, env: dict[str, str] | None = None) -> Any:
    base = {
        "EASEL__DATABASE_URL": db_url,
        "EASEL__MEDIA_DIR": str(media),
        "EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "96",
        "EASEL__LIMITS__USER_RATE": "1000/minute",
        "EASEL__LIMITS__CHAT_RATE": "1000/minute",
        "EASEL__LIMITS__GLOBAL_RATE": "1000/minute",
        "EASEL__GENERATION__MAX_PROMPT_CHARS": "200",
    }
    return load_settings(None, environ=base | (env or {}))


@pytest.fixture
async def harness(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    marker = request.node.get_closest_marker("easel")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    factory: ProviderFactory | None = options.get("providers")
    providers = list(factory()) if factory else None
    platform = RecordingPlatform()
    clock = FixedClock()
    settings = easel_settings(db_url, tmp_path / "media", options.get("env"))
    async with open_easel(
        settings, platforms={"test": platform}, clock=clock, providers_override=providers
    ) as easel:
        yield Harness(easel, platform, clock, tmp_path / "media", providers or easel.providers)
