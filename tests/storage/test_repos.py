"""SqlHistoryStore on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.errors import NotFound, StorageError
from bot.core.ports import HistoryStore
from bot.core.types import GenerationKind, GenerationStatus, StoredImage
from bot.storage.db import make_engine
from bot.storage.generation_rows import last_generation_query
from bot.storage.repos import SqlHistoryStore
from bot.storage.tables import GenerationRow, UserRow
from tests.storage.conftest import NOW


def _image(name: str, *, seed: int | None = 7) -> StoredImage:
    return StoredImage(
        id=name.ljust(32, "0"),
        path=Path(f"/media/2024-05-17/{name}.png"),
        mime="image/png",
        sha256="ab" * 32,
        size_bytes=123,
        width=64,
        height=48,
        seed=seed,
    )


async def _chat_and_user(store: SqlHistoryStore, chat: str = "c1") -> tuple[int, int]:
    chat_id = await store.upsert_chat(platform="telegram", external_id=chat)
    user_id = await store.upsert_user(platform="telegram", external_id="u1", display_name="Ada")
    return chat_id, user_id


async def _record(
    store: SqlHistoryStore,
    chat_id: int,
    user_id: int,
    *,
    prompt: str = "a cat",
    images: Sequence[StoredImage] = (),
    parent_id: int | None = None,
    **outcome: Any,
) -> int:
    generation_id, _ = await store.record_generation(
        chat_id=chat_id,
        user_id=user_id,
        kind=GenerationKind.GENERATE,
        prompt=prompt,
        negative=None,
        params={"aspect": "1:1", "n": 1},
        parent_id=parent_id,
        started=NOW,
        now=NOW,
        provider="builtin",
        images=images,
        **outcome,
    )
    return generation_id


async def _generation(
    store: SqlHistoryStore, chat_id: int, user_id: int, *, prompt: str = "a cat", parent_id: int | None = None
) -> int:
    """A generation left running (by an attempt that died mid-way, or by an older version)."""
    generation_id = await _record(store, chat_id, user_id, prompt=prompt, parent_id=parent_id)
    async with store._engine.begin() as conn:
        await conn.execute(
            update(GenerationRow)
            .where(GenerationRow.id == generation_id)
            .values(status=GenerationStatus.RUNNING.value, provider=None, finished_at=None)
        )
    return generation_id


async def _done(store: SqlHistoryStore, chat_id: int, user_id: int, *, prompt: str = "a cat") -> int:
    return await _record(store, chat_id, user_id, prompt=prompt, images=[_image(prompt)])


def test_store_satisfies_history_port(store: SqlHistoryStore) -> None:
    """SqlHistoryStore type-checks as a HistoryStore."""
    port: HistoryStore = store
    assert port is store


async def test_upsert_user_is_idempotent(store: SqlHistoryStore) -> None:
    """Upserting the same user twice returns the same id."""
    first = await store.upsert_user(platform="telegram", external_id="42", display_name="Ada")
    second = await store.upsert_user(platform="telegram", external_id="42", display_name="Ada")
    other = await store.upsert_user(platform="discord", external_id="42", display_name="Ada")
    assert first == second
    assert other != first


async def test_upsert_user_updates_display_name(store: SqlHistoryStore, engine: AsyncEngine) -> None:
    """A changed display name is saved on the existing row."""
    first = await store.upsert_user(platform="telegram", external_id="42", display_name="Ada")
    second = await store.upsert_user(platform="telegram", external_id="42", display_name="Ada L.")
    async with engine.connect() as conn:
        name = (await conn.execute(select(UserRow.display_name).where(UserRow.id == first))).scalar_one()
    assert (second, name) == (first, "Ada L.")


async def test_concurrent_upsert_user_yields_one_row(store: SqlHistoryStore, engine: AsyncEngine) -> None:
    """Ten concurrent upserts of a new user create exactly one row."""
    ids = await asyncio.gather(
        *(store.upsert_user(platform="telegram", external_id="7", display_name="Bo") for _ in range(10))
    )
    async with engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(UserRow))).scalar_one()
    assert len(set(ids)) == 1
    assert count == 1


async def test_upsert_chat_is_idempotent(store: SqlHistoryStore) -> None:
    """Upserting the same chat twice, even concurrently, returns one id."""
    ids = await asyncio.gather(*(store.upsert_chat(platform="web", external_id="room") for _ in range(5)))
    assert len(set(ids)) == 1


async def test_chat_settings_round_trip(store: SqlHistoryStore) -> None:
    """Chat settings start empty and read back what was set."""
    chat_id = await store.upsert_chat(platform="web", external_id="room")
    assert await store.get_chat_settings(chat_id=chat_id) == {}
    await store.set_chat_settings(chat_id=chat_id, settings={"aspect": "16:9", "n": 2, "nsfw": False})
    assert await store.get_chat_settings(chat_id=chat_id) == {"aspect": "16:9", "n": 2, "nsfw": False}


async def test_chat_settings_of_unknown_chat_is_not_found(store: SqlHistoryStore) -> None:
    """Reading or writing the settings of a chat that does not exist raises NotFound."""
    with pytest.raises(NotFound):
        await store.get_chat_settings(chat_id=999)
    with pytest.raises(NotFound):
        await store.set_chat_settings(chat_id=999, settings={})


async def test_a_running_generation_reads_back(store: SqlHistoryStore) -> None:
    """A generation left running reads back running, with its prompt, params and UTC creation time."""
    chat_id, user_id = await _chat_and_user(store)
    record = await store.get_generation(generation_id=await _generation(store, chat_id, user_id))
    assert record is not None
    assert (record.status, record.kind, record.prompt) == (GenerationStatus.RUNNING, "generate", "a cat")
    assert record.params == {"aspect": "1:1", "n": 1}
    assert record.created_at == NOW
    assert record.created_at.utcoffset() == timedelta(0)
    assert (record.finished_at, record.images) == (None, ())


async def test_a_recorded_generation_returns_images_in_order(store: SqlHistoryStore) -> None:
    """A recorded generation is done and returns its images ordered by position."""
    chat_id, user_id = await _chat_and_user(store)
    images = [_image("zzz", seed=2**40), _image("aaa", seed=None)]
    generation_id, _ = await store.record_generation(
        chat_id=chat_id, user_id=user_id, kind=GenerationKind.GENERATE, prompt="a cat", negative=None,
        params={}, parent_id=None, started=NOW, now=NOW, provider="openai", model="gpt-image-1",
        images=images,
    )  # fmt: skip
    record = await store.get_generation(generation_id=generation_id)
    assert record is not None
    assert record.status is GenerationStatus.DONE
    assert (record.provider, record.model, record.finished_at) == ("openai", "gpt-image-1", NOW)
    assert record.images == tuple(images)
    assert isinstance(record.images[0].path, Path)


async def test_a_recorded_failure_keeps_its_error(store: SqlHistoryStore) -> None:
    """A generation recorded with an error is failed (or cancelled), with the error and no images."""
    chat_id, user_id = await _chat_and_user(store)
    failed = await _record(store, chat_id, user_id, error="provider refused")
    cancelled = await _record(store, chat_id, user_id, error="stop", cancelled=True)
    first = await store.get_generation(generation_id=failed)
    second = await store.get_generation(generation_id=cancelled)
    assert first is not None and second is not None
    assert (first.status, first.error, first.images) == (GenerationStatus.FAILED, "provider refused", ())
    assert second.status is GenerationStatus.CANCELLED


async def test_timestamps_are_stored_as_utc(store: SqlHistoryStore) -> None:
    """A timestamp with another offset reads back as the same instant in UTC."""
    chat_id, user_id = await _chat_and_user(store)
    generation_id = await _generation(store, chat_id, user_id)
    local = NOW.astimezone(timezone(timedelta(hours=5)))
    await store.fail_generation(generation_id=generation_id, error="x", now=local)
    record = await store.get_generation(generation_id=generation_id)
    assert record is not None
    assert record.finished_at == NOW
    assert record.finished_at is not None
    assert record.finished_at.tzinfo is not None
    assert record.finished_at.utcoffset() == timedelta(0)


async def test_fail_generation_records_error(store: SqlHistoryStore) -> None:
    """A failed generation has status failed, the error and a finish time."""
    chat_id, user_id = await _chat_and_user(store)
    generation_id = await _generation(store, chat_id, user_id)
    await store.fail_generation(generation_id=generation_id, error="provider refused", now=NOW)
    record = await store.get_generation(generation_id=generation_id)
    assert record is not None
    assert (record.status, record.error, record.finished_at) == (
        GenerationStatus.FAILED,
        "provider refused",
        NOW,
    )


async def test_fail_generation_cancelled(store: SqlHistoryStore) -> None:
    """fail_generation(cancelled=True) records status cancelled."""
    chat_id, user_id = await _chat_and_user(store)
    generation_id = await _generation(store, chat_id, user_id)
    await store.fail_generation(
        generation_id=generation_id, error="cancelled by user", now=NOW, cancelled=True
    )
    record = await store.get_generation(generation_id=generation_id)
    assert record is not None
    assert record.status is GenerationStatus.CANCELLED


async def test_finishing_unknown_generation_is_not_found(store: SqlHistoryStore) -> None:
    """Failing a generation that does not exist raises NotFound."""
    with pytest.raises(NotFound):
        await store.fail_generation(generation_id=999, error="x", now=NOW)


async def test_get_unknown_generation_is_none(store: SqlHistoryStore) -> None:
    """get_generation returns None for an unknown id."""
    assert await store.get_generation(generation_id=12345) is None


async def test_last_generation_is_newest_done_with_images(store: SqlHistoryStore) -> None:
    """last_generation skips failed, running and image-less generations and other chats."""
    chat_id, user_id = await _chat_and_user(store)
    other_chat, _ = await _chat_and_user(store, chat="c2")
    await _done(store, chat_id, user_id, prompt="old")
    wanted = await _done(store, chat_id, user_id, prompt="wanted")
    failed = await _generation(store, chat_id, user_id, prompt="failed")
    await store.fail_generation(generation_id=failed, error="boom", now=NOW)
    await _generation(store, chat_id, user_id, prompt="running")
    await _record(store, chat_id, user_id, prompt="empty")
    await _done(store, other_chat, user_id, prompt="elsewhere")
    record = await store.last_generation(chat_id=chat_id)
    assert record is not None
    assert (record.id, record.prompt, len(record.images)) == (wanted, "wanted", 1)


async def test_last_generation_of_empty_chat_is_none(store: SqlHistoryStore) -> None:
    """A chat without finished generations has no last generation."""
    chat_id, _ = await _chat_and_user(store)
    assert await store.last_generation(chat_id=chat_id) is None


async def test_last_generation_query_uses_index(engine: AsyncEngine) -> None:
    """The last-generation query is a backward scan of the (chat_id, status, id) index."""
    compiled = last_generation_query(1).compile(
        dialect=engine.dialect, compile_kwargs={"literal_binds": True}
    )
    async with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            rows = await conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        else:  # the tables are empty: make the planner show what it would do with data
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            rows = await conn.execute(text(f"EXPLAIN {compiled}"))
        plan = " ".join(str(row[-1]) for row in rows)
    # PostgreSQL's planner, on empty tables, may as well walk (chat_id, id) backwards and filter status.
    chat_index = "ix_generations_chat_id_status_id" in plan or (
        engine.dialect.name == "postgresql" and "ix_generations_chat_id_id" in plan
    )
    assert chat_index
    assert "TEMP B-TREE" not in plan
    assert "Sort" not in plan


async def test_lineage_round_trips(store: SqlHistoryStore) -> None:
    """An edit's parent_id is stored and read back."""
    chat_id, user_id = await _chat_and_user(store)
    parent = await _done(store, chat_id, user_id)
    child = await _generation(store, chat_id, user_id, prompt="warmer", parent_id=parent)
    record = await store.get_generation(generation_id=child)
    assert record is not None
    assert record.parent_id == parent


async def test_list_generations_newest_first_with_limit_offset(store: SqlHistoryStore) -> None:
    """list_generations pages newest first, per chat or over all chats."""
    chat_id, user_id = await _chat_and_user(store)
    other_chat, _ = await _chat_and_user(store, chat="c2")
    ids = [await _done(store, chat_id, user_id, prompt=f"p{i}") for i in range(5)]
    elsewhere = await _done(store, other_chat, user_id, prompt="elsewhere")
    page = await store.list_generations(chat_id=chat_id, limit=2, offset=1)
    everything = await store.list_generations(limit=10)
    assert [r.id for r in page] == [ids[3], ids[2]]
    assert [r.id for r in everything] == [elsewhere, *reversed(ids)]
    assert all(len(r.images) == 1 for r in everything)


async def test_usage_counts_today_and_total(store: SqlHistoryStore) -> None:
    """usage() reports the given day's images and the all-time total."""
    _, user_id = await _chat_and_user(store)
    today = date(2024, 5, 17)
    await store.add_usage(user_id=user_id, day=today - timedelta(days=1), images=3)
    await store.add_usage(user_id=user_id, day=today, images=2)
    await store.add_usage(user_id=user_id, day=today, images=1)
    summary = await store.usage(user_id=user_id, day=today)
    assert (summary.images_today, summary.images_total) == (3, 6)


async def test_usage_of_new_user_is_zero(store: SqlHistoryStore) -> None:
    """A user with no usage rows has zero today and in total."""
    _, user_id = await _chat_and_user(store)
    summary = await store.usage(user_id=user_id, day=date(2024, 5, 17))
    assert (summary.images_today, summary.images_total) == (0, 0)


async def test_concurrent_add_usage_sums_correctly(store: SqlHistoryStore) -> None:
    """Twenty concurrent increments of one counter add up to twenty."""
    _, user_id = await _chat_and_user(store)
    day = date(2024, 5, 17)
    await asyncio.gather(*(store.add_usage(user_id=user_id, day=day, images=1) for _ in range(20)))
    assert (await store.usage(user_id=user_id, day=day)).images_today == 20


async def test_database_errors_become_storage_error(store: SqlHistoryStore) -> None:
    """A driver error (here a foreign-key violation) surfaces as StorageError."""
    with pytest.raises(StorageError) as info:
        await _record(store, chat_id=999, user_id=999)
    assert info.value.__cause__ is not None


async def test_unreachable_database_is_storage_error() -> None:
    """Store calls against an unreachable database raise StorageError."""
    engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nope")
    try:
        with pytest.raises(StorageError):
            await SqlHistoryStore(engine).upsert_chat(platform="web", external_id="x")
    finally:
        await engine.dispose()


class _PortableStore(SqlHistoryStore):
    """The store as it behaves on a database without ON CONFLICT (insert, then handle the conflict)."""

    def _insert(self) -> None:
        return None


async def test_portable_upserts_are_race_safe(engine: AsyncEngine) -> None:
    """Without ON CONFLICT, concurrent user and chat upserts still yield one row each and rename."""
    store = _PortableStore(engine)
    users = await asyncio.gather(
        *(store.upsert_user(platform="web", external_id="7", display_name=f"Bo{i % 2}") for i in range(10))
    )
    chats = await asyncio.gather(*(store.upsert_chat(platform="web", external_id="room") for _ in range(10)))
    renamed = await store.upsert_user(platform="web", external_id="7", display_name="Bo!")
    async with engine.connect() as conn:
        name = (await conn.execute(select(UserRow.display_name))).scalar_one()
    assert (len(set(users)), len(set(chats)), renamed, name) == (1, 1, users[0], "Bo!")


async def test_portable_add_usage_sums_correctly(engine: AsyncEngine) -> None:
    """Without ON CONFLICT, twenty concurrent increments still add up to twenty."""
    store = _PortableStore(engine)
    _, user_id = await _chat_and_user(store)
    day = date(2024, 5, 17)
    await asyncio.gather(*(store.add_usage(user_id=user_id, day=day, images=1) for _ in range(20)))
    assert (await store.usage(user_id=user_id, day=day)).images_today == 20


async def test_upsert_identity_makes_or_finds_the_user_and_the_chat(store: SqlHistoryStore) -> None:
    """One call makes a new user and chat; the next finds them (with the chat's settings) and keeps
    the user's new display name."""
    first = await store.upsert_identity(
        platform="telegram", user_external_id="u9", display_name="Ada", chat_external_id="c9"
    )
    await store.set_chat_settings(chat_id=first[1], settings={"aspect": "16:9"})
    again = await store.upsert_identity(
        platform="telegram", user_external_id="u9", display_name="Ada L.", chat_external_id="c9"
    )
    assert first[2] == {} and again == (first[0], first[1], {"aspect": "16:9"})
    assert await store.upsert_user(platform="telegram", external_id="u9", display_name="Ada L.") == first[0]
    assert await store.upsert_chat(platform="telegram", external_id="c9") == first[1]
