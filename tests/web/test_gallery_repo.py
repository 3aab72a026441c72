"""The gallery's queries on SQLite and PostgreSQL: filters, paging, lineage, facets, recent errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import Easel, open_easel
from bot.core.errors import Refused
from bot.core.messages import Incoming
from bot.storage.db import make_engine
from bot.storage.gallery_repo import GalleryRepo
from tests.core.conftest import easel_settings
from tests.fakes.platform import RecordingPlatform
from tests.fakes.scripted import ScriptedProvider


@dataclass
class World:
    easel: Easel
    gallery: GalleryRepo

    async def make(self, text: str, *, chat: str = "c1", user: str = "u1") -> int | None:
        """Send ``text``; return the generation its job made (None if it failed)."""
        message = Incoming(platform="test", chat_id=chat, user_id=user, display_name=user, text=text)
        job_id = await self.easel.service.handle(message)
        assert job_id is not None
        await self.easel.queue.wait_for(job_id)
        job = await self.easel.jobs.get_job(job_id=job_id)
        assert job is not None
        return job.generation_id if job.status == "done" else None


@pytest.fixture
async def world(db_url: str, tmp_path: Path) -> AsyncIterator[World]:
    settings = easel_settings(db_url, tmp_path / "media")
    async with open_easel(settings, platforms={"test": RecordingPlatform()}) as easel:
        gallery = GalleryRepo(make_engine(db_url))
        try:
            yield World(easel, gallery)
        finally:
            await gallery.engine.dispose()


async def test_browse_filters_and_pages_newest_first(world: World) -> None:
    """By chat, by user, and backwards from an id."""
    a = await world.make("a fox", chat="c1", user="ann")
    b = await world.make("a hen", chat="c2", user="bob")
    c = await world.make("a cow", chat="c1", user="bob")
    assert [i.id for i in await world.gallery.browse()] == [c, b, a]
    c1 = (await world.gallery.browse())[0].chat_id
    assert [i.id for i in await world.gallery.browse(chat_id=c1)] == [c, a]
    bob = (await world.gallery.browse())[0].user_id
    assert [i.id for i in await world.gallery.browse(user_id=bob)] == [c, b]
    assert [i.id for i in await world.gallery.browse(before_id=c, limit=1)] == [b]
    assert [i.id for i in await world.gallery.browse(provider="builtin")] == [c, b, a]
    assert await world.gallery.browse(provider="openai") == []


async def test_lineage_links_parent_and_children(world: World) -> None:
    """An edit and a variation of one picture are its children; each names it as parent."""
    original = await world.make("a fox")
    warmer = await world.make(f"/edit #{original} make it warmer")
    varied = await world.make(f"/vary #{original}")
    lineage = await world.gallery.lineage(original or 0)
    assert lineage is not None and lineage.parent is None
    assert [child.id for child in lineage.children] == [warmer, varied]
    child = await world.gallery.lineage(warmer or 0)
    assert child is not None and child.parent is not None and child.parent.id == original
    assert child.item.kind == "edit" and child.item.images[0].width > 0
    assert await world.gallery.lineage(99_999) is None


async def test_facets_and_recent_errors(world: World) -> None:
    """Filter choices list what exists; a failed job appears among the recent errors."""
    await world.make("a fox", chat="c9", user="zed")
    facets = await world.gallery.facets()
    assert facets.providers == ("builtin",)
    assert "test:c9" in [label for _, label in facets.chats]
    assert any(label.startswith("zed") for _, label in facets.users)
    await world.gallery.ping()
    assert await world.gallery.recent_errors() == []


async def test_a_failed_job_is_a_recent_error(db_url: str, tmp_path: Path) -> None:
    """A provider refusal leaves a failed job whose error the status page lists."""
    settings = easel_settings(db_url, tmp_path / "media")
    refusing = ScriptedProvider("scripted", errors=[Refused("policy says no", provider="scripted")])
    async with open_easel(
        settings, platforms={"test": RecordingPlatform()}, providers_override=[refusing]
    ) as easel:
        world = World(easel, GalleryRepo(make_engine(db_url)))
        try:
            assert await world.make("a fox") is None
            errors = await world.gallery.recent_errors()
            assert len(errors) == 1 and "policy says no" in errors[0].error and errors[0].platform == "test"
        finally:
            await world.gallery.engine.dispose()
