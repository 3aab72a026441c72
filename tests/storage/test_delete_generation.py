"""``HistoryStore.delete_generation`` on SQLite and PostgreSQL: one transaction, children and jobs kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.errors import InvalidInput, NotFound
from bot.core.types import GenerationKind, JobStatus, StoredImage, Target
from bot.storage.job_repo import SqlJobStore
from bot.storage.repos import SqlHistoryStore
from bot.storage.tables import DeliveryRow, ImageRow, JobRow
from tests.storage.conftest import NOW


def _image(name: str) -> StoredImage:
    return StoredImage(
        id=name.ljust(32, "0"),
        path=Path(f"/media/2024-05-17/{name}.png"),
        mime="image/png",
        sha256="ab" * 32,
        size_bytes=123,
        width=64,
        height=48,
        seed=7,
    )


async def _ids(store: SqlHistoryStore) -> tuple[int, int]:
    chat_id = await store.upsert_chat(platform="telegram", external_id="c1")
    user_id = await store.upsert_user(platform="telegram", external_id="u1", display_name="Ada")
    return chat_id, user_id


async def _record(
    store: SqlHistoryStore,
    *,
    images: tuple[StoredImage, ...] = (),
    parent_id: int | None = None,
    job_id: int | None = None,
) -> int:
    chat_id, user_id = await _ids(store)
    generation_id, _ = await store.record_generation(
        chat_id=chat_id, user_id=user_id, kind=GenerationKind.GENERATE, prompt="a cat", negative=None,
        params={}, parent_id=parent_id, started=NOW, now=NOW, provider="builtin", images=images,
        job_id=job_id,
    )  # fmt: skip
    return generation_id


async def _running_job(engine: AsyncEngine, store: SqlHistoryStore) -> int:
    chat_id, user_id = await _ids(store)
    jobs = SqlJobStore(engine)
    created = await jobs.create_job(
        idempotency_key=None, platform="telegram", chat_id=chat_id, user_id=user_id,
        target=Target("telegram", "c1"), payload={}, images_reserved=1, usage_day=None, est_cost=0.0,
        after_job_id=None, now=NOW,
    )  # fmt: skip
    assert created is not None
    assert await jobs.move(job_id=created[0], to=JobStatus.RUNNING, now=NOW) is not None
    return created[0]


async def _count(engine: AsyncEngine, table: type[ImageRow] | type[DeliveryRow]) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_delete_returns_the_images_and_forgets_the_generation(
    engine: AsyncEngine, store: SqlHistoryStore
) -> None:
    """The images come back in order; the generation and its image rows are gone from every read."""
    kept = await _record(store, images=(_image("k"),))
    gone = await _record(store, images=(_image("a"), _image("b")))
    removed = await store.delete_generation(generation_id=gone)
    assert [image.id for image in removed] == [_image("a").id, _image("b").id]
    assert removed[0].path == _image("a").path
    assert await store.get_generation(generation_id=gone) is None
    chat_id, _ = await _ids(store)
    assert [r.id for r in await store.list_generations(chat_id=chat_id)] == [kept]
    assert await _count(engine, ImageRow) == 1


async def test_children_lose_their_parent_link_and_stay(store: SqlHistoryStore) -> None:
    """An edit made from the deleted generation keeps its images, without a parent."""
    parent = await _record(store, images=(_image("p"),))
    child = await _record(store, images=(_image("c"),), parent_id=parent)
    await store.delete_generation(generation_id=parent)
    record = await store.get_generation(generation_id=child)
    assert record is not None and record.parent_id is None and len(record.images) == 1


async def test_a_delivered_jobs_rows_stay_and_its_messages_are_forgotten(
    engine: AsyncEngine, store: SqlHistoryStore
) -> None:
    """The job and its delivery row stay (without the generation); a reply to its message names nothing."""
    jobs = SqlJobStore(engine)
    job_id = await _running_job(engine, store)
    generation_id = await _record(store, images=(_image("d"),), job_id=job_id)
    await jobs.record_delivery(
        job_id=job_id,
        kind="result",
        platform="telegram",
        message_ids=["41"],
        now=NOW,
        shown=("c1", generation_id),
    )
    assert await jobs.generation_shown_in(platform="telegram", chat_id="c1", message_id="41") == generation_id
    await store.delete_generation(generation_id=generation_id)
    job = await jobs.get_job(job_id=job_id)
    assert job is not None and job.status == JobStatus.DONE and job.generation_id is None
    assert await _count(engine, DeliveryRow) == 1
    assert await jobs.generation_shown_in(platform="telegram", chat_id="c1", message_id="41") is None
    assert await jobs.result_messages(generation_id=generation_id) == []


async def test_a_generation_still_being_delivered_is_kept(
    engine: AsyncEngine, store: SqlHistoryStore
) -> None:
    """While its job is ``generated`` (saved, not yet sent) nothing is deleted."""
    job_id = await _running_job(engine, store)
    generation_id = await _record(store, images=(_image("w"),), job_id=job_id)
    with pytest.raises(InvalidInput):
        await store.delete_generation(generation_id=generation_id)
    record = await store.get_generation(generation_id=generation_id)
    assert record is not None and len(record.images) == 1
    async with engine.connect() as conn:
        named = (await conn.execute(select(JobRow.generation_id).where(JobRow.id == job_id))).scalar_one()
    assert named == generation_id


@pytest.mark.parametrize("generation_id", [12345, 2**40])
async def test_an_unknown_generation_is_not_found(store: SqlHistoryStore, generation_id: int) -> None:
    """No such row (or an id no row can have) is ``NotFound``."""
    with pytest.raises(NotFound):
        await store.delete_generation(generation_id=generation_id)


async def test_a_second_delete_is_not_found(store: SqlHistoryStore) -> None:
    """Deleting twice (two admins pressing at once) finds nothing the second time."""
    generation_id = await _record(store, images=(_image("t"),))
    await store.delete_generation(generation_id=generation_id)
    with pytest.raises(NotFound):
        await store.delete_generation(generation_id=generation_id)
