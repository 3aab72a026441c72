"""A whole Easel (real database, queue, workers, recording platform) with its scheduler, driven by a
fixed clock: tests move the clock and call ``step()``; nothing waits for real minutes."""

from __future__ import annotations

import functools
import io
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage
from sqlalchemy import insert

from bot.app import Easel, open_easel
from bot.core.messages import Incoming
from bot.core.ports import ProgressCallback
from bot.core.schedules.commands import add_schedule
from bot.core.schedules.ports import NewSchedule, Overrides, RunRecord, ScheduleKind
from bot.core.schedules.spec import parse_when
from bot.core.types import Capabilities, Image, ImageRequest, ProviderHealth, Reply, Target
from bot.scheduler.service import SchedulerService
from bot.scheduler.triggers import ApschedulerTriggers
from bot.settings import load_settings
from bot.storage.birthday_repo import SqlBirthdayStore
from bot.storage.db import make_engine
from bot.storage.schedule_repo import SqlScheduleStore
from bot.storage.tables import ScheduleRow
from tests.fakes.clock import FixedClock
from tests.fakes.platform import RecordingPlatform

TARGET = Target("test", "c1")
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@functools.cache
def _picture() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (256, 256), (40, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


class PictureProvider:
    """Solid-colour 256x256 PNGs, instantly; fails with the scripted errors first."""

    name = "pictures"
    capabilities = Capabilities(max_n=4, seed=True)

    def __init__(self, errors: Iterable[Exception] = ()) -> None:
        self.errors = list(errors)
        self.requests: list[ImageRequest] = []

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        self.requests.append(request)
        if self.errors:
            raise self.errors.pop(0)
        return [Image(_picture(), "image/png", 256, 256, seed=request.seed, provider=self.name)]

    async def check(self) -> ProviderHealth:
        return ProviderHealth(ok=True)

    async def aclose(self) -> None:
        return None


@dataclass
class World:
    easel: Easel
    platform: RecordingPlatform
    clock: FixedClock
    provider: PictureProvider
    scheduler: SchedulerService
    store: SqlScheduleStore
    birthdays: SqlBirthdayStore
    triggers: ApschedulerTriggers = field(default_factory=ApschedulerTriggers)

    async def add(
        self, when: str, prompt: str = "a lighthouse", *, tz: str = "UTC", target: Target = TARGET
    ) -> int:
        parsed = parse_when(when, whole=True)
        new = NewSchedule(target, when, parsed.spec, tz, prompt, "test", "owner", "Owner", Overrides())
        schedule_id, _ = await add_schedule(self.store, self.triggers, new, now=self.clock.now())
        self.scheduler.changed(schedule_id)
        return schedule_id

    async def at(self, when: datetime) -> list[Reply]:
        """Move the clock to ``when``, run the scheduler's step, wait for the jobs and their outcomes."""
        before = len(self.platform.sent)
        self.clock.current = when
        await self.scheduler.step()
        await self.scheduler.flush()
        await self.easel.queue.drain()
        await self.scheduler.settle()
        return self.platform.replies[before:]

    def images(self, replies: list[Reply]) -> list[Reply]:
        return [r for r in replies if r.images]

    async def runs(self, schedule_id: int) -> list[RunRecord]:
        return await self.store.runs_of(schedule_id)

    def message(
        self, text: str, *, user: str = "u1", chat: str = "g1", admin: bool = False, **kw: Any
    ) -> Incoming:
        return Incoming("test", chat, user, text, display_name=kw.pop("name", user), is_admin=admin, **kw)

    async def say(self, text: str, **kw: Any) -> str:
        before = len(self.platform.sent)
        await self.easel.service.handle(self.message(text, **kw))
        return "\n".join(r.text for r in self.platform.replies[before:])


async def bulk_add(
    world: World, count: int, *, next_fire_at: datetime, cron: str = "0 9 * * *", age: timedelta = timedelta()
) -> None:
    """``count`` daily schedules made ``age`` ago, each posting to its own chat, in one statement."""
    now = world.clock.now() - age
    rows = [
        {
            "kind": "post",
            "target": Target("test", f"chat{index}").to_json(),
            "when_text": cron,
            "spec": {"kind": "cron", "cron": cron},
            "tz": "UTC",
            "prompt": "post {n}",
            "owner_platform": "test",
            "owner_user": "owner",
            "owner_name": "Owner",
            "enabled": True,
            "counter": 0,
            "failures": 0,
            "next_fire_at": next_fire_at,
            "created_at": now,
            "updated_at": now,
        }
        for index in range(count)
    ]
    engine = make_engine(world.easel.settings.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(ScheduleRow), rows)
    finally:
        await engine.dispose()


def settings_for(db_url: str, media: Path, env: dict[str, str] | None = None) -> Any:
    base = {
        "EASEL__DATABASE_URL": db_url,
        "EASEL__MEDIA_DIR": str(media),
        "EASEL__LIMITS__USER_RATE": "100000/minute",
        "EASEL__LIMITS__CHAT_RATE": "100000/minute",
        "EASEL__LIMITS__GLOBAL_RATE": "100000/minute",
        "EASEL__LIMITS__MAX_QUEUE": "5000",
        "EASEL__SCHEDULER__RETRY_BACKOFF": "60",
    }
    return load_settings(None, environ=base | (env or {}))


@asynccontextmanager
async def open_world(
    db_url: str,
    media: Path,
    *,
    clock: FixedClock,
    provider: PictureProvider | None = None,
    env: dict[str, str] | None = None,
    platform: RecordingPlatform | None = None,
) -> AsyncIterator[World]:
    """Easel + scheduler (started, loop not running: tests call ``step()`` through ``World.at``)."""
    provider = provider or PictureProvider()
    platform = platform or RecordingPlatform()
    settings = settings_for(db_url, media, env)
    async with open_easel(
        settings, platforms={"test": platform}, clock=clock, providers_override=[provider]
    ) as easel:
        scheduler = easel.scheduler
        engine = make_engine(settings.database_url)
        try:
            await scheduler.start(run_loop=False)
            yield World(
                easel,
                platform,
                clock,
                provider,
                scheduler,
                SqlScheduleStore(engine),
                SqlBirthdayStore(engine),
            )
        finally:
            await scheduler.stop()
            await engine.dispose()


@pytest.fixture
async def world(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[World]:
    marker = request.node.get_closest_marker("easel")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    clock = FixedClock(options.get("start", START))
    provider = PictureProvider(options.get("errors", ()))
    async with open_world(
        db_url, tmp_path / "media", clock=clock, provider=provider, env=options.get("env")
    ) as w:
        yield w


__all__ = [
    "START",
    "TARGET",
    "PictureProvider",
    "ScheduleKind",
    "World",
    "bulk_add",
    "open_world",
    "settings_for",
]
