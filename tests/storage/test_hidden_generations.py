"""Hidden generations (``/hide``) in the SQL stores, on SQLite and PostgreSQL: kept, but left out of
the history, the gallery and "the last image" unless asked for."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.errors import InvalidInput, NotFound
from bot.core.types import GenerationKind, StoredImage
from bot.storage import migrate
from bot.storage.db import make_engine
from bot.storage.gallery_repo import GalleryRepo
from bot.storage.repos import SqlHistoryStore
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


async def _done(store: SqlHistoryStore, name: str, *, parent_id: int | None = None) -> int:
    chat_id = await store.upsert_chat(platform="telegram", external_id="c1")
    user_id = await store.upsert_user(platform="telegram", external_id="u1", display_name="Ada")
    generation_id, _ = await store.record_generation(
        chat_id=chat_id, user_id=user_id, kind=GenerationKind.GENERATE, prompt=name, negative=None,
        params={}, parent_id=parent_id, started=NOW, now=NOW, provider="builtin", images=[_image(name)],
    )  # fmt: skip
    return generation_id


async def test_a_new_generation_is_not_hidden(store: SqlHistoryStore) -> None:
    """A recorded generation reads back with hidden False."""
    record = await store.get_generation(generation_id=await _done(store, "fox"))
    assert record is not None and record.hidden is False and record.hidden_by_admin is False


async def test_hiding_keeps_the_generation_and_its_images(store: SqlHistoryStore) -> None:
    """After set_hidden(True) the generation is still there, hidden, with its images."""
    generation_id = await _done(store, "fox")
    await store.set_hidden(generation_id=generation_id, hidden=True)
    record = await store.get_generation(generation_id=generation_id)
    assert record is not None and record.hidden and len(record.images) == 1


async def test_a_hidden_generation_is_never_the_last_one(store: SqlHistoryStore) -> None:
    """last_generation skips a hidden newest generation and finds the one before it."""
    older = await _done(store, "older")
    newest = await _done(store, "newest")
    await store.set_hidden(generation_id=newest, hidden=True)
    chat_id = await store.upsert_chat(platform="telegram", external_id="c1")
    last = await store.last_generation(chat_id=chat_id)
    assert last is not None and last.id == older


async def test_the_history_leaves_hidden_ones_out_unless_asked(store: SqlHistoryStore) -> None:
    """list_generations omits hidden generations; include_hidden=True lists them."""
    shown = await _done(store, "shown")
    hidden = await _done(store, "hidden")
    await store.set_hidden(generation_id=hidden, hidden=True)
    chat_id = await store.upsert_chat(platform="telegram", external_id="c1")
    assert [r.id for r in await store.list_generations(chat_id=chat_id)] == [shown]
    everything = await store.list_generations(chat_id=chat_id, include_hidden=True)
    assert [r.id for r in everything] == [hidden, shown]


async def test_unhiding_brings_it_back(store: SqlHistoryStore) -> None:
    """set_hidden(False) makes it the last generation again."""
    generation_id = await _done(store, "fox")
    await store.set_hidden(generation_id=generation_id, hidden=True)
    await store.set_hidden(generation_id=generation_id, hidden=False)
    chat_id = await store.upsert_chat(platform="telegram", external_id="c1")
    last = await store.last_generation(chat_id=chat_id)
    assert last is not None and last.id == generation_id and not last.hidden


@pytest.mark.parametrize("generation_id", [999, 0, -1, 2**40])
async def test_hiding_what_does_not_exist_is_not_found(store: SqlHistoryStore, generation_id: int) -> None:
    """set_hidden on a missing (or impossible) id raises NotFound."""
    with pytest.raises(NotFound):
        await store.set_hidden(generation_id=generation_id, hidden=True)


@pytest.mark.parametrize("hidden", [True, False])
@pytest.mark.parametrize("by_admin", [True, False])
async def test_any_change_of_what_does_not_exist_is_not_found(
    store: SqlHistoryStore, hidden: bool, by_admin: bool
) -> None:
    """set_hidden on a missing id raises NotFound, by an admin or not, hiding or not."""
    with pytest.raises(NotFound):
        await store.set_hidden(generation_id=999, hidden=hidden, by_admin=by_admin)


async def test_an_admins_hide_is_recorded(store: SqlHistoryStore) -> None:
    """set_hidden(True, by_admin=True) reads back hidden and hidden_by_admin."""
    generation_id = await _done(store, "fox")
    await store.set_hidden(generation_id=generation_id, hidden=True, by_admin=True)
    record = await store.get_generation(generation_id=generation_id)
    assert record is not None and record.hidden and record.hidden_by_admin


async def test_a_requesters_hide_keeps_an_admins_mark(store: SqlHistoryStore) -> None:
    """A hide not by an admin after an admin's leaves hidden_by_admin set."""
    generation_id = await _done(store, "fox")
    await store.set_hidden(generation_id=generation_id, hidden=True, by_admin=True)
    await store.set_hidden(generation_id=generation_id, hidden=True)
    record = await store.get_generation(generation_id=generation_id)
    assert record is not None and record.hidden_by_admin


async def test_a_requesters_unhide_of_an_admins_hide_is_refused(store: SqlHistoryStore) -> None:
    """An unhide not by an admin of an admin-hidden generation raises InvalidInput; it stays hidden."""
    generation_id = await _done(store, "fox")
    await store.set_hidden(generation_id=generation_id, hidden=True, by_admin=True)
    with pytest.raises(InvalidInput):
        await store.set_hidden(generation_id=generation_id, hidden=False)
    record = await store.get_generation(generation_id=generation_id)
    assert record is not None and record.hidden and record.hidden_by_admin


async def test_an_admins_unhide_clears_the_mark(store: SqlHistoryStore) -> None:
    """An admin's unhide shows it again with hidden_by_admin cleared."""
    generation_id = await _done(store, "fox")
    await store.set_hidden(generation_id=generation_id, hidden=True, by_admin=True)
    await store.set_hidden(generation_id=generation_id, hidden=False, by_admin=True)
    record = await store.get_generation(generation_id=generation_id)
    assert record is not None and not record.hidden and not record.hidden_by_admin


async def test_a_requesters_own_hide_is_theirs_to_undo(store: SqlHistoryStore) -> None:
    """A hide and an unhide, both not by an admin, leave it shown and unmarked."""
    generation_id = await _done(store, "fox")
    await store.set_hidden(generation_id=generation_id, hidden=True)
    await store.set_hidden(generation_id=generation_id, hidden=False)
    record = await store.get_generation(generation_id=generation_id)
    assert record is not None and not record.hidden and not record.hidden_by_admin


async def test_the_gallery_leaves_hidden_ones_out_unless_asked(
    store: SqlHistoryStore, engine: AsyncEngine
) -> None:
    """browse omits hidden generations; include_hidden=True shows them, marked hidden."""
    shown = await _done(store, "shown")
    hidden = await _done(store, "hidden")
    await store.set_hidden(generation_id=hidden, hidden=True)
    gallery = GalleryRepo(engine)
    assert [item.id for item in await gallery.browse()] == [shown]
    items = await gallery.browse(include_hidden=True)
    assert [(item.id, item.hidden) for item in items] == [(hidden, True), (shown, False)]


async def test_lineage_marks_a_hidden_child(store: SqlHistoryStore, engine: AsyncEngine) -> None:
    """lineage still lists a hidden child, with hidden True."""
    parent = await _done(store, "parent")
    child = await _done(store, "child", parent_id=parent)
    await store.set_hidden(generation_id=child, hidden=True)
    lineage = await GalleryRepo(engine).lineage(parent)
    assert lineage is not None and [(c.id, c.hidden) for c in lineage.children] == [(child, True)]


async def test_the_migration_marks_existing_generations_shown(db_url: str) -> None:
    """A generation written before 0008 reads as not hidden, not by an admin, after upgrading (server
    defaults false)."""
    await migrate.upgrade(db_url, "0007")
    engine = make_engine(db_url)
    try:
        store = SqlHistoryStore(engine)
        chat_id = await store.upsert_chat(platform="telegram", external_id="c1")
        user_id = await store.upsert_user(platform="telegram", external_id="u1", display_name="Ada")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO generations (chat_id, user_id, kind, status, prompt, params, created_at)"
                    " VALUES (:chat, :user, 'generate', 'done', 'old', '{}', :now)"
                ),
                {"chat": chat_id, "user": user_id, "now": NOW},
            )
        await migrate.upgrade(db_url)
        chat_records = await store.list_generations(chat_id=chat_id)
        assert [(r.prompt, r.hidden, r.hidden_by_admin) for r in chat_records] == [("old", False, False)]
    finally:
        await engine.dispose()
