"""Read-only queries behind the web gallery and status page: history newest first with filters,
one generation with its parent and children, the filter choices, recent errors and a database ping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Select, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.core.errors import StorageError
from bot.core.gallery import Facets, GalleryImage, GalleryItem, Lineage, RecentError
from bot.core.ids import MAX_ROW_ID
from bot.core.types import GenerationStatus
from bot.storage.common import row_id
from bot.storage.db import check_connection
from bot.storage.tables import ChatRow, GenerationRow, JobRow, UserRow

MAX_PAGE = 100


@contextmanager
def _storage_errors(action: str) -> Iterator[None]:
    try:
        yield
    except (SQLAlchemyError, OSError) as exc:
        raise StorageError(
            f"Could not {action}: {exc}", user_message="The history database is unavailable right now."
        ) from exc


class GalleryRepo:
    """Implements :class:`bot.core.gallery.GalleryStore`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def ping(self) -> None:
        """``SELECT 1``; raises ``StorageError`` when the database cannot be reached."""
        await check_connection(self.engine)

    def _items(self) -> Select[GenerationRow, str, str, str]:
        return (
            select(GenerationRow, ChatRow.platform, ChatRow.external_id, UserRow.display_name)
            .join(ChatRow, ChatRow.id == GenerationRow.chat_id)
            .join(UserRow, UserRow.id == GenerationRow.user_id)
            .options(selectinload(GenerationRow.images))
        )

    async def _fetch(self, stmt: Select[GenerationRow, str, str, str]) -> list[GalleryItem]:
        with _storage_errors("read the gallery"):
            async with self._sessions() as session:
                rows = (await session.execute(stmt)).all()
        return [_item(row, f"{platform}:{external}", name) for row, platform, external, name in rows]

    async def browse(
        self,
        *,
        chat_id: int | None = None,
        user_id: int | None = None,
        provider: str | None = None,
        before_id: int | None = None,
        limit: int = 30,
        include_hidden: bool = False,
    ) -> list[GalleryItem]:
        """Finished generations with images, newest first; ``before_id`` pages further back; hidden ones
        only with ``include_hidden``."""
        stmt = self._items().where(
            GenerationRow.status == GenerationStatus.DONE.value, GenerationRow.images.any()
        )
        if not include_hidden:
            stmt = stmt.where(GenerationRow.hidden.is_(False))
        if any(key is not None and not row_id(key) for key in (chat_id, user_id)):
            return []  # no chat or user has such an id
        if chat_id is not None:
            stmt = stmt.where(GenerationRow.chat_id == chat_id)
        if user_id is not None:
            stmt = stmt.where(GenerationRow.user_id == user_id)
        if provider:
            stmt = stmt.where(GenerationRow.provider == provider)
        if before_id is not None:
            stmt = stmt.where(GenerationRow.id < min(before_id, MAX_ROW_ID))
        stmt = stmt.order_by(GenerationRow.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
        return await self._fetch(stmt)

    async def lineage(self, generation_id: int) -> Lineage | None:
        """The generation, the one it was made from and those made from it (oldest first)."""
        if not row_id(generation_id):
            return None
        found = await self._fetch(self._items().where(GenerationRow.id == generation_id))
        if not found:
            return None
        item = found[0]
        parent = None
        if item.parent_id is not None:
            parents = await self._fetch(self._items().where(GenerationRow.id == item.parent_id))
            parent = parents[0] if parents else None
        children = await self._fetch(
            self._items().where(GenerationRow.parent_id == generation_id).order_by(GenerationRow.id)
        )
        return Lineage(item, parent, tuple(children))

    async def facets(self) -> Facets:
        with _storage_errors("read the gallery filters"):
            async with self._sessions() as session:
                chats = (
                    await session.execute(
                        select(ChatRow.id, ChatRow.platform, ChatRow.external_id).order_by(ChatRow.id)
                    )
                ).all()
                users = (
                    await session.execute(
                        select(UserRow.id, UserRow.platform, UserRow.display_name).order_by(UserRow.id)
                    )
                ).all()
                providers = (
                    await session.execute(
                        select(GenerationRow.provider)
                        .where(GenerationRow.provider.is_not(None))
                        .group_by(GenerationRow.provider)
                        .order_by(GenerationRow.provider)
                    )
                ).scalars()
                provider_names = tuple(str(p) for p in providers)
        return Facets(
            chats=tuple((c.id, f"{c.platform}:{c.external_id}") for c in chats),
            users=tuple((u.id, f"{u.display_name or u.id} ({u.platform})") for u in users),
            providers=provider_names,
        )

    async def recent_errors(self, *, limit: int = 10) -> list[RecentError]:
        """The newest failed jobs with their technical error."""
        stmt = (
            select(JobRow.id, JobRow.updated_at, JobRow.platform, JobRow.error)
            .where(JobRow.status == "failed", JobRow.error.is_not(None))
            .order_by(JobRow.id.desc())
            .limit(limit)
        )
        with _storage_errors("read the recent errors"):
            async with self._sessions() as session:
                rows = (await session.execute(stmt)).all()
        return [RecentError(r.id, r.updated_at, r.platform, str(r.error)) for r in rows]

    async def count_generations(self) -> int:
        with _storage_errors("count the generations"):
            async with self._sessions() as session:
                return int((await session.execute(select(func.count(GenerationRow.id)))).scalar_one())


def _item(row: GenerationRow, chat: str, user: str) -> GalleryItem:
    return GalleryItem(
        id=row.id,
        kind=row.kind,
        status=row.status,
        prompt=row.prompt,
        negative=row.negative,
        params=dict(row.params or {}),
        provider=row.provider,
        model=row.model,
        parent_id=row.parent_id,
        error=row.error,
        created_at=row.created_at,
        chat=chat,
        chat_id=row.chat_id,
        user=user,
        user_id=row.user_id,
        images=tuple(
            GalleryImage(index=i, width=img.width, height=img.height, mime=img.mime, seed=img.seed)
            for i, img in enumerate(row.images)
        ),
        hidden=row.hidden,
    )
