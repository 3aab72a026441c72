"""``SqlHistoryStore``: the ``HistoryStore`` port on SQLAlchemy (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Result,
    Select,
    Table,
    bindparam,
    case,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlalchemy.orm import joinedload

from bot.core.errors import NotFound, StorageError
from bot.core.ids import MAX_ROW_ID
from bot.core.types import GenerationKind, GenerationRecord, GenerationStatus, StoredImage, UsageSummary
from bot.storage.tables import ChatRow, GenerationRow, ImageRow, UsageRow, UserRow

DISPLAY_NAME_MAX = 256
_UNAVAILABLE = "The history database is unavailable right now."
_GENERATIONS = cast(Table, GenerationRow.__table__)
_IMAGES = cast(Table, ImageRow.__table__)
# Hot statements built once: a call only binds values (no construction or cache key per call).
_CHAT_SETTINGS = select(ChatRow.settings).where(ChatRow.id == bindparam("b_chat_id"))
_CREATE_GENERATION = insert(_GENERATIONS).returning(_GENERATIONS.c.id)
_UPDATE_GENERATION = update(_GENERATIONS).where(_GENERATIONS.c.id == bindparam("b_generation_id"))
"""Executed with the generation id and the columns to set (the SET clause comes from their names)."""
_ADD_IMAGES = insert(_IMAGES)


@contextmanager
def _storage_errors(action: str) -> Iterator[None]:
    """Convert SQLAlchemy and driver errors met inside the block to ``StorageError``."""
    try:
        yield
    except (SQLAlchemyError, OSError) as exc:
        raise StorageError(f"Could not {action}: {exc}", user_message=_UNAVAILABLE) from exc


def row_id(value: int) -> bool:
    """Whether ``value`` can be a row's id. Ids come from chats and URLs; beyond ``MAX_ROW_ID``
    PostgreSQL's ``integer`` columns would reject the query itself, so such ids simply name nothing."""
    return 0 < value <= MAX_ROW_ID


def _rowcount(result: Result[Any]) -> int:
    return cast("CursorResult[Any]", result).rowcount


def _stored_image(row: ImageRow) -> StoredImage:
    return StoredImage(
        id=row.id,
        path=Path(row.path),
        mime=row.mime,
        sha256=row.sha256,
        size_bytes=row.size_bytes,
        width=row.width,
        height=row.height,
        seed=row.seed,
    )


def _record(row: GenerationRow) -> GenerationRecord:
    return GenerationRecord(
        id=row.id,
        chat_id=row.chat_id,
        user_id=row.user_id,
        kind=GenerationKind(row.kind),
        status=GenerationStatus(row.status),
        prompt=row.prompt,
        negative=row.negative,
        params=dict(row.params or {}),
        provider=row.provider,
        model=row.model,
        parent_id=row.parent_id,
        error=row.error,
        created_at=row.created_at,
        finished_at=row.finished_at,
        images=tuple(_stored_image(image) for image in row.images),
    )


def last_generation_query(chat_id: int) -> Select[GenerationRow]:
    """The chat's newest done generation with an image: a backward scan of (chat_id, status, id)."""
    has_images = exists().where(ImageRow.generation_id == GenerationRow.id)
    return (
        select(GenerationRow)
        .where(
            GenerationRow.chat_id == chat_id,
            GenerationRow.status == GenerationStatus.DONE.value,
            has_images,
        )
        .order_by(GenerationRow.id.desc())
        .limit(1)
    )


def _reservation(upsert: Any, *, with_quota: bool) -> Any:
    """``INSERT INTO usage ... ON CONFLICT (user_id, day) DO UPDATE SET images = images + n, ...
    [WHERE images + n <= quota] RETURNING images`` with bound parameters."""
    usage = cast(Table, UsageRow.__table__)
    images = bindparam("b_images", type_=usage.c.images.type)
    cost = bindparam("b_cost", type_=usage.c.est_cost.type)
    stmt = upsert(usage).values(
        user_id=bindparam("b_user_id", type_=usage.c.user_id.type),
        day=bindparam("b_day", type_=usage.c.day.type),
        images=images,
        est_cost=cost,
    )
    quota = bindparam("b_quota", type_=usage.c.images.type)
    return stmt.on_conflict_do_update(
        index_elements=[usage.c.user_id, usage.c.day],
        set_={"images": usage.c.images + images, "est_cost": usage.c.est_cost + cost},
        where=(usage.c.images + images <= quota) if with_quota else None,
    ).returning(usage.c.images)


class SqlHistoryStore:
    """Users, chats, generations, images and usage counters in a SQL database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._reservations: dict[bool, Any] = {}
        """The usage reservation statement, with and without a quota, built on first use."""

    def _insert(self) -> Any:
        """The dialect's ``insert`` with ON CONFLICT support, or None for other databases."""
        name = self._engine.dialect.name
        if name == "postgresql":
            return postgresql.insert
        if name == "sqlite":
            return sqlite.insert
        return None

    # ------------------------------------------------------------------------------ users, chats

    async def upsert_user(self, *, platform: str, external_id: str, display_name: str) -> int:
        display_name = display_name[:DISPLAY_NAME_MAX]
        key = (UserRow.platform == platform, UserRow.external_id == external_id)
        with _storage_errors("save the user"):
            async with self._sessions() as session:
                found = (await session.execute(select(UserRow.id, UserRow.display_name).where(*key))).first()
            if found is not None:
                found_id, found_name = found
                if found_name == display_name:
                    return found_id
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
                    return (await session.execute(select(UserRow.id).where(*key))).scalar_one()

    async def upsert_chat(self, *, platform: str, external_id: str) -> int:
        key = (ChatRow.platform == platform, ChatRow.external_id == external_id)
        with _storage_errors("save the chat"):
            async with self._sessions() as session:
                found = (await session.execute(select(ChatRow.id).where(*key))).scalar_one_or_none()
            if found is not None:
                return found
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
                return (await session.execute(select(ChatRow.id).where(*key))).scalar_one()

    async def get_chat_settings(self, *, chat_id: int) -> dict[str, Any]:
        with _storage_errors("read the chat settings"):
            async with self._engine.connect() as conn:
                found = await conn.execute(_CHAT_SETTINGS, {"b_chat_id": chat_id})
                settings = found.scalar_one_or_none()
        if settings is None:
            raise NotFound(f"chat {chat_id} does not exist", user_message="This chat is unknown.")
        return dict(settings)

    async def set_chat_settings(self, *, chat_id: int, settings: Mapping[str, Any]) -> None:
        stmt = update(ChatRow).where(ChatRow.id == chat_id).values(settings=dict(settings))
        with _storage_errors("save the chat settings"):
            async with self._sessions.begin() as session:
                changed = _rowcount(await session.execute(stmt))
        if changed == 0:
            raise NotFound(f"chat {chat_id} does not exist", user_message="This chat is unknown.")

    # ------------------------------------------------------------------------------- generations

    async def create_generation(
        self,
        *,
        chat_id: int,
        user_id: int,
        kind: GenerationKind,
        prompt: str,
        negative: str | None,
        params: Mapping[str, Any],
        parent_id: int | None,
        now: datetime,
    ) -> int:
        values = {
            "chat_id": chat_id,
            "user_id": user_id,
            "kind": GenerationKind(kind).value,
            "status": GenerationStatus.RUNNING.value,
            "prompt": prompt,
            "negative": negative,
            "params": dict(params),
            "parent_id": parent_id,
            "created_at": now,
            "started_at": now,
        }
        with _storage_errors("save the generation"):
            async with self._engine.begin() as conn:
                return int((await conn.execute(_CREATE_GENERATION, values)).scalar_one())

    @staticmethod
    async def _finish(conn: AsyncConnection, generation_id: int, **values: Any) -> None:
        result = await conn.execute(_UPDATE_GENERATION, {"b_generation_id": generation_id, **values})
        if _rowcount(result) == 0:
            raise NotFound(
                f"generation {generation_id} does not exist", user_message="That generation is unknown."
            )

    async def complete_generation(
        self,
        *,
        generation_id: int,
        provider: str,
        model: str | None,
        images: Sequence[StoredImage],
        now: datetime,
        notes: Sequence[str] = (),
    ) -> None:
        with _storage_errors("save the finished generation"):
            async with self._engine.begin() as conn:
                values: dict[str, Any] = {}
                if notes:
                    params = (
                        await conn.execute(
                            select(GenerationRow.params).where(GenerationRow.id == generation_id)
                        )
                    ).scalar_one_or_none()
                    values["params"] = {**(params or {}), "notes": list(notes)}
                await self._finish(
                    conn,
                    generation_id,
                    status=GenerationStatus.DONE.value,
                    provider=provider,
                    model=model,
                    error=None,
                    finished_at=now,
                    **values,
                )
                if images:
                    rows = [
                        {
                            "id": image.id,
                            "generation_id": generation_id,
                            "position": position,
                            "path": str(image.path),
                            "mime": image.mime,
                            "sha256": image.sha256,
                            "size_bytes": image.size_bytes,
                            "width": image.width,
                            "height": image.height,
                            "seed": image.seed,
                            "created_at": now,
                        }
                        for position, image in enumerate(images)
                    ]
                    await conn.execute(_ADD_IMAGES, rows)

    async def fail_generation(
        self, *, generation_id: int, error: str, now: datetime, cancelled: bool = False
    ) -> None:
        status = GenerationStatus.CANCELLED if cancelled else GenerationStatus.FAILED
        with _storage_errors("save the failed generation"):
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
        with _storage_errors("read the generation"):
            async with self._sessions() as session:
                row = (await session.execute(stmt)).unique().scalar_one_or_none()
        return None if row is None else _record(row)

    async def last_generation(self, *, chat_id: int) -> GenerationRecord | None:
        stmt = last_generation_query(chat_id).options(joinedload(GenerationRow.images))
        with _storage_errors("read the last generation"):
            async with self._sessions() as session:
                row = (await session.execute(stmt)).unique().scalar_one_or_none()
        return None if row is None else _record(row)

    async def list_generations(
        self, *, chat_id: int | None = None, limit: int = 10, offset: int = 0
    ) -> list[GenerationRecord]:
        stmt = select(GenerationRow).options(joinedload(GenerationRow.images))
        if chat_id is not None:
            stmt = stmt.where(GenerationRow.chat_id == chat_id)
        stmt = stmt.order_by(GenerationRow.id.desc()).limit(max(0, limit)).offset(max(0, offset))
        with _storage_errors("list the generations"):
            async with self._sessions() as session:
                rows = (await session.execute(stmt)).unique().scalars().all()
        return [_record(row) for row in rows]

    # ------------------------------------------------------------------------------------- usage

    async def add_usage(self, *, user_id: int, day: date, images: int, est_cost: float = 0.0) -> None:
        if images or est_cost:
            await self.reserve_usage(user_id=user_id, day=day, images=images, est_cost=est_cost, quota=None)

    async def reserve_usage(
        self, *, user_id: int, day: date, images: int, est_cost: float, quota: int | None
    ) -> bool:
        upsert = self._insert()
        if upsert is not None:
            return await self._reserve_upsert(upsert, user_id, day, images, est_cost, quota)
        key = (UsageRow.user_id == user_id, UsageRow.day == day)
        conditions = [*key]
        if quota is not None:
            conditions.append(UsageRow.images + images <= quota)
        # One conditional UPDATE: the database serialises concurrent ones on the row, and each
        # re-checks the condition against the committed count, so a quota is never overshot.
        reserve = (
            update(UsageRow)
            .where(*conditions)
            .values(images=UsageRow.images + images, est_cost=UsageRow.est_cost + est_cost)
        )
        with _storage_errors("reserve the usage"):
            await self._ensure_usage_row(user_id, day)
            async with self._sessions.begin() as session:
                return _rowcount(await session.execute(reserve)) == 1

    async def _reserve_upsert(
        self, upsert: Any, user_id: int, day: date, images: int, est_cost: float, quota: int | None
    ) -> bool:
        """The reservation as one INSERT ... ON CONFLICT DO UPDATE ... WHERE: a new day's row starts at
        ``images``; an existing row is added to only while the quota holds. The database takes the row
        lock and re-checks the WHERE against the committed count (PostgreSQL) or runs writers one at a
        time (SQLite), so concurrent reservations never overshoot the quota."""
        if quota is not None and images > quota:
            return False  # not even a fresh day's count of 0 leaves room
        stmt = self._reservations.get(quota is not None)
        if stmt is None:
            stmt = self._reservations[quota is not None] = _reservation(upsert, with_quota=quota is not None)
        params = {
            "b_user_id": user_id,
            "b_day": day,
            "b_images": images,
            "b_cost": est_cost,
            "b_quota": quota,
        }
        with _storage_errors("reserve the usage"):
            async with self._engine.begin() as conn:
                return (await conn.execute(stmt, params)).first() is not None

    async def _ensure_usage_row(self, user_id: int, day: date) -> None:
        insert = self._insert()
        if insert is not None:
            stmt = insert(UsageRow).values(user_id=user_id, day=day, images=0, est_cost=0.0)
            async with self._sessions.begin() as session:
                await session.execute(
                    stmt.on_conflict_do_nothing(index_elements=[UsageRow.user_id, UsageRow.day])
                )
            return
        try:
            async with self._sessions.begin() as session:
                exists_ = (
                    await session.execute(
                        select(UsageRow.images).where(UsageRow.user_id == user_id, UsageRow.day == day)
                    )
                ).first()
                if exists_ is None:
                    session.add(UsageRow(user_id=user_id, day=day, images=0, est_cost=0.0))
        except IntegrityError:
            return  # inserted concurrently: the row exists, which is all we need

    async def usage(self, *, user_id: int, day: date) -> UsageSummary:
        today = func.coalesce(func.sum(case((UsageRow.day == day, UsageRow.images), else_=0)), 0)
        total = func.coalesce(func.sum(UsageRow.images), 0)
        spend_today = func.coalesce(func.sum(case((UsageRow.day == day, UsageRow.est_cost), else_=0.0)), 0.0)
        spend_total = func.coalesce(func.sum(UsageRow.est_cost), 0.0)
        stmt = select(today, total, spend_today, spend_total).where(UsageRow.user_id == user_id)
        with _storage_errors("read the usage"):
            async with self._engine.connect() as conn:
                images_today, images_total, cost_today, cost_total = (await conn.execute(stmt)).one()
        return UsageSummary(
            images_today=int(images_today),
            images_total=int(images_total),
            spend_today=float(cost_today),
            spend_total=float(cost_total),
        )
