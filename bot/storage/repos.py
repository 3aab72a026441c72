"""``SqlHistoryStore``: the ``HistoryStore`` port on SQLAlchemy (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Table,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlalchemy.orm import joinedload

from bot.core.errors import InvalidInput, NotFound
from bot.core.types import GenerationKind, GenerationRecord, GenerationStatus, JobStatus, StoredImage
from bot.storage.common import row_id, rowcount, storage_errors
from bot.storage.generation_rows import image_rows, last_generation_query, record, stored_image
from bot.storage.job_repo import move_statement
from bot.storage.tables import ChatRow, GenerationRow, ImageRow, JobRow, ShownMessageRow, UserRow
from bot.storage.usage_repo import UsageQueries

DISPLAY_NAME_MAX = 256
_GENERATIONS = cast(Table, GenerationRow.__table__)
_IMAGES = cast(Table, ImageRow.__table__)
# Hot statements built once: a call only binds values (no construction or cache key per call).
_CHAT_SETTINGS = select(ChatRow.settings).where(ChatRow.id == bindparam("b_chat_id"))
_CREATE_GENERATION = insert(_GENERATIONS).returning(_GENERATIONS.c.id)
_JOBS = cast(Table, JobRow.__table__)
_NAME_JOBS_GENERATION = update(_JOBS).where(_JOBS.c.id == bindparam("b_job_id"))
_UPDATE_GENERATION = update(_GENERATIONS).where(_GENERATIONS.c.id == bindparam("b_generation_id"))
"""Executed with the generation id and the columns to set (the SET clause comes from their names)."""
_ADD_IMAGES = insert(_IMAGES)


class SqlHistoryStore(UsageQueries):
    """Users, chats, generations, images and usage counters in a SQL database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    # ------------------------------------------------------------------------------ users, chats

    async def upsert_user(self, *, platform: str, external_id: str, display_name: str) -> int:
        display_name = display_name[:DISPLAY_NAME_MAX]
        key = (UserRow.platform == platform, UserRow.external_id == external_id)
        with storage_errors("save the user"):
            async with self._sessions() as session:
                found = (await session.execute(select(UserRow.id, UserRow.display_name).where(*key))).first()
            if found is not None:
                found_id, found_name = found
                if found_name == display_name:
                    return int(found_id)
            insert = self._insert()
            values = {
                "platform": platform,
                "external_id": external_id,
                "display_name": display_name,
                "created_at": datetime.now(UTC),
            }
            if insert is not None:
                stmt = insert(UserRow).values(**values)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[UserRow.platform, UserRow.external_id],
                    set_={"display_name": stmt.excluded.display_name},
                ).returning(UserRow.id)
                async with self._sessions.begin() as session:
                    return cast(int, (await session.execute(stmt)).scalar_one())
            try:
                async with self._sessions.begin() as session:
                    row = UserRow(**values)
                    session.add(row)
                    await session.flush()
                    return row.id
            except IntegrityError:  # someone else inserted it first: update theirs
                async with self._sessions.begin() as session:
                    await session.execute(update(UserRow).where(*key).values(display_name=display_name))
                    return int((await session.execute(select(UserRow.id).where(*key))).scalar_one())

    async def upsert_chat(self, *, platform: str, external_id: str) -> int:
        key = (ChatRow.platform == platform, ChatRow.external_id == external_id)
        with storage_errors("save the chat"):
            async with self._sessions() as session:
                found = (await session.execute(select(ChatRow.id).where(*key))).scalar_one_or_none()
            if found is not None:
                return int(found)
            values = {"platform": platform, "external_id": external_id, "created_at": datetime.now(UTC)}
            insert = self._insert()
            try:
                async with self._sessions.begin() as session:
                    if insert is not None:
                        stmt = insert(ChatRow).values(settings={}, **values).on_conflict_do_nothing()
                        await session.execute(stmt)
                    else:
                        session.add(ChatRow(settings={}, **values))
            except IntegrityError:
                pass  # inserted concurrently: select it below
            async with self._sessions() as session:
                return int((await session.execute(select(ChatRow.id).where(*key))).scalar_one())

    async def upsert_identity(
        self, *, platform: str, user_external_id: str, display_name: str, chat_external_id: str
    ) -> tuple[int, int, dict[str, Any]]:
        insert = self._insert()
        if insert is None:  # a database without ON CONFLICT: the two upserts one after the other
            user_id = await self.upsert_user(
                platform=platform, external_id=user_external_id, display_name=display_name
            )
            chat_id = await self.upsert_chat(platform=platform, external_id=chat_external_id)
            return user_id, chat_id, await self.get_chat_settings(chat_id=chat_id)
        now = datetime.now(UTC)
        user = insert(UserRow).values(
            platform=platform,
            external_id=user_external_id,
            display_name=display_name[:DISPLAY_NAME_MAX],
            created_at=now,
        )
        user = user.on_conflict_do_update(
            index_elements=[UserRow.platform, UserRow.external_id],
            set_={"display_name": user.excluded.display_name},
        ).returning(UserRow.id)
        chat = insert(ChatRow).values(
            platform=platform, external_id=chat_external_id, settings={}, created_at=now
        )
        chat = chat.on_conflict_do_update(  # a no-op update, so that RETURNING gives the existing row
            index_elements=[ChatRow.platform, ChatRow.external_id],
            set_={"platform": chat.excluded.platform},
        ).returning(ChatRow.id, ChatRow.settings)
        with storage_errors("save the user and the chat"):
            async with self._engine.begin() as conn:
                user_id = int((await conn.execute(user)).scalar_one())
                chat_id, settings = (await conn.execute(chat)).one()
        return user_id, int(chat_id), dict(settings or {})

    async def get_chat_settings(self, *, chat_id: int) -> dict[str, Any]:
        with storage_errors("read the chat settings"):
            async with self._engine.connect() as conn:
                found = await conn.execute(_CHAT_SETTINGS, {"b_chat_id": chat_id})
                settings = found.scalar_one_or_none()
        if settings is None:
            raise NotFound(f"chat {chat_id} does not exist", user_message="This chat is unknown.")
        return dict(settings)

    async def set_chat_settings(self, *, chat_id: int, settings: Mapping[str, Any]) -> None:
        stmt = update(ChatRow).where(ChatRow.id == chat_id).values(settings=dict(settings))
        with storage_errors("save the chat settings"):
            async with self._sessions.begin() as session:
                changed = rowcount(await session.execute(stmt))
        if changed == 0:
            raise NotFound(f"chat {chat_id} does not exist", user_message="This chat is unknown.")

    # ------------------------------------------------------------------------------- generations

    async def record_generation(
        self,
        *,
        chat_id: int,
        user_id: int,
        kind: GenerationKind,
        prompt: str,
        negative: str | None,
        params: Mapping[str, Any],
        parent_id: int | None,
        started: datetime,
        now: datetime,
        provider: str | None = None,
        model: str | None = None,
        images: Sequence[StoredImage] = (),
        error: str | None = None,
        cancelled: bool = False,
        job_id: int | None = None,
        owner: str | None = None,
    ) -> tuple[int, bool]:
        status = GenerationStatus.DONE
        if error is not None:
            status = GenerationStatus.CANCELLED if cancelled else GenerationStatus.FAILED
        values = {
            "chat_id": chat_id,
            "user_id": user_id,
            "kind": GenerationKind(kind).value,
            "status": status.value,
            "prompt": prompt,
            "negative": negative,
            "params": dict(params),
            "parent_id": parent_id,
            "provider": provider,
            "model": model,
            "error": error,
            "created_at": started,
            "started_at": started,
            "finished_at": now,
        }
        moved = False
        with storage_errors("save the generation"):
            async with self._engine.begin() as conn:
                generation_id = int((await conn.execute(_CREATE_GENERATION, values)).scalar_one())
                if images:
                    await conn.execute(_ADD_IMAGES, image_rows(generation_id, images, now))
                if job_id is not None and status == GenerationStatus.DONE:
                    stmt, move = move_statement(
                        JobStatus.GENERATED, job_id=job_id, now=now, owner=owner, generation_id=generation_id
                    )
                    moved = (await conn.execute(stmt, move)).one_or_none() is not None
                elif job_id is not None:  # the failure notice names the failed generation
                    await conn.execute(
                        _NAME_JOBS_GENERATION, {"b_job_id": job_id, "generation_id": generation_id}
                    )
        return generation_id, moved

    @staticmethod
    async def _finish(conn: AsyncConnection, generation_id: int, **values: Any) -> None:
        result = await conn.execute(_UPDATE_GENERATION, {"b_generation_id": generation_id, **values})
        if rowcount(result) == 0:
            raise NotFound(
                f"generation {generation_id} does not exist", user_message="That generation is unknown."
            )

    async def fail_generation(
        self, *, generation_id: int, error: str, now: datetime, cancelled: bool = False
    ) -> None:
        status = GenerationStatus.CANCELLED if cancelled else GenerationStatus.FAILED
        with storage_errors("save the failed generation"):
            async with self._engine.begin() as conn:
                await self._finish(conn, generation_id, status=status.value, error=error, finished_at=now)

    # Generations are read with their images in one round trip (a join; with LIMIT, SQLAlchemy joins
    # the images to the limited subquery), not a second SELECT ... IN as selectinload would.

    async def get_generation(self, *, generation_id: int) -> GenerationRecord | None:
        if not row_id(generation_id):
            return None
        stmt = (
            select(GenerationRow)
            .options(joinedload(GenerationRow.images))
            .where(GenerationRow.id == generation_id)
        )
        with storage_errors("read the generation"):
            async with self._sessions() as session:
                row = (await session.execute(stmt)).unique().scalar_one_or_none()
        return None if row is None else record(row)

    async def last_generation(self, *, chat_id: int) -> GenerationRecord | None:
        stmt = last_generation_query(chat_id).options(joinedload(GenerationRow.images))
        with storage_errors("read the last generation"):
            async with self._sessions() as session:
                row = (await session.execute(stmt)).unique().scalar_one_or_none()
        return None if row is None else record(row)

    async def list_generations(
        self, *, chat_id: int | None = None, limit: int = 10, offset: int = 0, include_hidden: bool = False
    ) -> list[GenerationRecord]:
        stmt = select(GenerationRow).options(joinedload(GenerationRow.images))
        if chat_id is not None:
            stmt = stmt.where(GenerationRow.chat_id == chat_id)
        if not include_hidden:
            stmt = stmt.where(GenerationRow.hidden.is_(False))
        stmt = stmt.order_by(GenerationRow.id.desc()).limit(max(0, limit)).offset(max(0, offset))
        with storage_errors("list the generations"):
            async with self._sessions() as session:
                rows = (await session.execute(stmt)).unique().scalars().all()
        return [record(row) for row in rows]

    async def set_hidden(self, *, generation_id: int, hidden: bool, by_admin: bool = False) -> None:
        """Hide the generation (or show it again), in one statement: an admin's hide marks it
        ``hidden_by_admin``, which a hide by its requester leaves as it is and only an admin's unhide
        clears. ``NotFound`` when there is no such generation; ``InvalidInput`` for a requester's
        unhide of one an admin hid."""
        stmt = update(GenerationRow).where(GenerationRow.id == generation_id)
        if hidden:
            stmt = stmt.values(hidden=True, **({"hidden_by_admin": True} if by_admin else {}))
        else:
            stmt = stmt.values(hidden=False, hidden_by_admin=False)
            if not by_admin:
                stmt = stmt.where(GenerationRow.hidden_by_admin.is_(False))
        if not row_id(generation_id):
            raise NotFound(f"generation {generation_id} does not exist")
        found = select(GenerationRow.id).where(GenerationRow.id == generation_id)
        with storage_errors("hide the generation"):
            async with self._engine.begin() as conn:
                changed = rowcount(await conn.execute(stmt))
                there = changed or (await conn.execute(found)).first() is not None
        if not there:
            raise NotFound(f"generation {generation_id} does not exist")
        if not changed:
            raise InvalidInput(f"generation {generation_id} was hidden by an admin")

    async def delete_generation(self, *, generation_id: int) -> list[StoredImage]:
        """Remove the generation and its image rows in one transaction and return its images (their
        files are the ``ArtifactStore``'s to remove). Generations made from it lose their parent link,
        jobs that named it keep their row without it, the messages that showed it are forgotten.
        ``NotFound`` when there is no such generation; ``InvalidInput`` while a job is still delivering
        it (deleting then would leave a job owed a delivery of nothing)."""
        if not row_id(generation_id):
            raise NotFound(f"generation {generation_id} does not exist")
        delivering = select(JobRow.id).where(
            JobRow.generation_id == generation_id, JobRow.status == JobStatus.GENERATED.value
        )
        images = select(ImageRow).where(ImageRow.generation_id == generation_id).order_by(ImageRow.position)
        with storage_errors("delete the generation"):
            async with self._sessions.begin() as session:
                found = await session.execute(
                    select(GenerationRow.id).where(GenerationRow.id == generation_id).with_for_update()
                )
                if found.scalar_one_or_none() is None:
                    raise NotFound(f"generation {generation_id} does not exist")
                if (await session.execute(delivering.limit(1))).first() is not None:
                    raise InvalidInput(f"generation {generation_id} is still being delivered")
                stored = [stored_image(row) for row in (await session.execute(images)).scalars()]
                # explicit, not left to the foreign keys' ON DELETE: the same on any database
                await session.execute(
                    update(GenerationRow)
                    .where(GenerationRow.parent_id == generation_id)
                    .values(parent_id=None)
                )
                await session.execute(
                    update(JobRow).where(JobRow.generation_id == generation_id).values(generation_id=None)
                )
                await session.execute(
                    delete(ShownMessageRow).where(ShownMessageRow.generation_id == generation_id)
                )
                await session.execute(delete(ImageRow).where(ImageRow.generation_id == generation_id))
                await session.execute(delete(GenerationRow).where(GenerationRow.id == generation_id))
        return stored
