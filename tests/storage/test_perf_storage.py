"""Storage paths made cheaper for speed keep their meaning: the one-statement usage reservation, the
history indexes of migration 0004, and generations read with their images in one query."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from sqlalchemy import event, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.types import GenerationKind, StoredImage
from bot.storage import migrate
from bot.storage.db import make_engine
from bot.storage.repos import SqlHistoryStore
from tests.storage.conftest import NOW

DAY = date(2024, 5, 17)


async def _user(store: SqlHistoryStore) -> int:
    return await store.upsert_user(platform="telegram", external_id="u1", display_name="Ada")


async def _done_generation(store: SqlHistoryStore, chat_id: int, user_id: int, images: int) -> int:
    stored = [
        StoredImage(
            f"{images:016x}{i:016x}", Path(f"/m/{images}-{i}.png"), "image/png", "0" * 64, 10, 8, 8, i
        )
        for i in range(images)
    ]
    generation_id, _ = await store.record_generation(
        chat_id=chat_id, user_id=user_id, kind=GenerationKind.GENERATE, prompt="a cat", negative=None,
        params={"n": images}, parent_id=None, started=NOW, now=NOW, provider="p", images=stored,
    )  # fmt: skip
    return generation_id


async def test_reservation_within_quota_is_counted(store: SqlHistoryStore) -> None:
    """Reservations are granted and counted while they fit the quota."""
    user_id = await _user(store)
    assert await store.reserve_usage(user_id=user_id, day=DAY, images=2, est_cost=0.5, quota=3)
    assert await store.reserve_usage(user_id=user_id, day=DAY, images=1, est_cost=0.25, quota=3)
    usage = await store.usage(user_id=user_id, day=DAY)
    assert (usage.images_today, usage.spend_today) == (3, 0.75)


async def test_reservation_over_quota_is_refused_and_not_counted(store: SqlHistoryStore) -> None:
    """A reservation that would pass the quota is refused and leaves the count as it was."""
    user_id = await _user(store)
    assert await store.reserve_usage(user_id=user_id, day=DAY, images=2, est_cost=0.0, quota=3)
    assert not await store.reserve_usage(user_id=user_id, day=DAY, images=2, est_cost=1.0, quota=3)
    usage = await store.usage(user_id=user_id, day=DAY)
    assert (usage.images_today, usage.spend_today) == (2, 0.0)


async def test_first_reservation_larger_than_quota_is_refused(store: SqlHistoryStore) -> None:
    """A day's first reservation above the quota is refused and records nothing."""
    user_id = await _user(store)
    assert not await store.reserve_usage(user_id=user_id, day=DAY, images=5, est_cost=0.0, quota=4)
    assert (await store.usage(user_id=user_id, day=DAY)).images_total == 0


async def test_concurrent_reservations_never_overshoot(store: SqlHistoryStore) -> None:
    """Twenty concurrent one-image reservations against a quota of five: exactly five are granted."""
    user_id = await _user(store)
    granted = await asyncio.gather(
        *(store.reserve_usage(user_id=user_id, day=DAY, images=1, est_cost=0.0, quota=5) for _ in range(20))
    )
    assert sum(granted) == 5
    assert (await store.usage(user_id=user_id, day=DAY)).images_today == 5


async def test_refund_lowers_the_count(store: SqlHistoryStore) -> None:
    """A negative reservation without a quota (a refund) takes images and spend back."""
    user_id = await _user(store)
    await store.reserve_usage(user_id=user_id, day=DAY, images=3, est_cost=0.3, quota=None)
    await store.add_usage(user_id=user_id, day=DAY, images=-2, est_cost=-0.2)
    usage = await store.usage(user_id=user_id, day=DAY)
    assert usage.images_today == 1 and abs(usage.spend_today - 0.1) < 1e-9


async def test_history_reads_take_one_query_each(store: SqlHistoryStore, engine: AsyncEngine) -> None:
    """The last generation and a history page come with their images, ordered, in one SELECT each."""
    chat_id = await store.upsert_chat(platform="telegram", external_id="c1")
    user_id = await _user(store)
    first = await _done_generation(store, chat_id, user_id, images=3)
    second = await _done_generation(store, chat_id, user_id, images=2)
    selects: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        selects.extend([statement] if statement.lstrip().upper().startswith("SELECT") else [])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        last = await store.last_generation(chat_id=chat_id)
        page = await store.list_generations(chat_id=chat_id, limit=10)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(selects) == 2
    assert last is not None and last.id == second and [i.seed for i in last.images] == [0, 1]
    assert [r.id for r in page] == [second, first]
    assert [[i.seed for i in r.images] for r in page] == [[0, 1], [0, 1, 2]]


async def test_history_page_uses_the_chat_id_index(engine: AsyncEngine) -> None:
    """A chat's history page walks (chat_id, id) instead of sorting the chat's generations."""
    sql = "SELECT id FROM generations WHERE chat_id = 1 ORDER BY id DESC LIMIT 10 OFFSET 20"
    async with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in await conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        else:  # the tables are empty: make the planner show what it would do with data
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(str(row[0]) for row in await conn.execute(text(f"EXPLAIN {sql}")))
    assert "ix_generations_chat_id_id" in plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan


async def _indexes(url: str, table: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda sync: inspect(sync).get_indexes(table))
    finally:
        await engine.dispose()
    return {str(index["name"]) for index in found}


async def test_migration_0004_down_and_up(db_url: str) -> None:
    """Downgrading 0004 restores the old images index; upgrading brings the performance indexes back."""
    await migrate.upgrade(db_url)
    await migrate.downgrade(db_url, "0003")
    assert "ix_generations_chat_id_id" not in await _indexes(db_url, "generations")
    assert "ix_images_generation_id" in await _indexes(db_url, "images")
    await migrate.upgrade(db_url)
    assert "ix_generations_chat_id_id" in await _indexes(db_url, "generations")
    assert await _indexes(db_url, "images") >= {"ix_images_generation_id_position"}
