"""``SqlBirthdayStore``: birthdays per chat (the ``BirthdayStore`` port). Each birthday owns the
schedule that posts its card; deleting that schedule deletes the birthday (ON DELETE CASCADE)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.core.schedules.ports import BirthdayRecord
from bot.storage.common import storage_errors as _storage_errors
from bot.storage.tables import BirthdayRow, ScheduleRow


def _birthday(row: BirthdayRow) -> BirthdayRecord:
    return BirthdayRecord(
        id=row.id,
        schedule_id=row.schedule_id,
        chat_platform=row.chat_platform,
        chat_id=row.chat_id,
        person_user=row.person_user,
        name=row.name,
        day=row.day,
        month=row.month,
        year=row.year,
        tz=row.tz,
    )


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())[:128]


class SqlBirthdayStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def set(
        self,
        *,
        chat_platform: str,
        chat_id: str,
        person_user: str | None,
        name: str,
        day: int,
        month: int,
        year: int | None,
        tz: str,
        schedule_id: int,
        now: datetime,
        replace_id: int | None = None,
    ) -> tuple[int, list[int]]:
        key = (BirthdayRow.chat_platform == chat_platform, BirthdayRow.chat_id == chat_id)
        same = (
            BirthdayRow.person_user == person_user
            if person_user is not None
            else (BirthdayRow.person_user.is_(None) & (BirthdayRow.name_key == name_key(name)))
        )
        if replace_id is not None:
            same = same | (BirthdayRow.id == replace_id)
        with _storage_errors("save the birthday"):
            async with self._sessions.begin() as session:
                old = list((await session.execute(select(BirthdayRow).where(*key, same))).scalars())
                replaced = [row.schedule_id for row in old]
                if old:  # their card schedules go, and the birthday rows with them (cascade)
                    await session.execute(delete(BirthdayRow).where(BirthdayRow.id.in_([r.id for r in old])))
                    await session.execute(delete(ScheduleRow).where(ScheduleRow.id.in_(replaced)))
                row = BirthdayRow(
                    schedule_id=schedule_id,
                    chat_platform=chat_platform,
                    chat_id=chat_id,
                    person_user=person_user,
                    name=name[:128],
                    name_key=name_key(name),
                    day=day,
                    month=month,
                    year=year,
                    tz=tz,
                    created_at=now,
                )
                session.add(row)
                await session.flush()
                return row.id, replaced

    async def for_chat(self, *, chat_platform: str, chat_id: str) -> list[BirthdayRecord]:
        query = (
            select(BirthdayRow)
            .where(BirthdayRow.chat_platform == chat_platform, BirthdayRow.chat_id == chat_id)
            .order_by(BirthdayRow.month, BirthdayRow.day, BirthdayRow.name_key)
        )
        with _storage_errors("list the birthdays"):
            async with self._sessions() as session:
                return [_birthday(row) for row in (await session.execute(query)).scalars()]

    async def by_schedule(self, schedule_id: int) -> BirthdayRecord | None:
        with _storage_errors("read the birthday"):
            async with self._sessions() as session:
                row = (
                    await session.execute(select(BirthdayRow).where(BirthdayRow.schedule_id == schedule_id))
                ).scalar_one_or_none()
                return _birthday(row) if row is not None else None

    async def own(self, *, chat_platform: str, chat_id: str, person_user: str) -> BirthdayRecord | None:
        query = select(BirthdayRow).where(
            BirthdayRow.chat_platform == chat_platform,
            BirthdayRow.chat_id == chat_id,
            BirthdayRow.person_user == person_user,
        )
        with _storage_errors("read the birthday"):
            async with self._sessions() as session:
                row = (await session.execute(query)).scalar_one_or_none()
                return _birthday(row) if row is not None else None

    async def named(self, *, chat_platform: str, chat_id: str, name: str) -> list[BirthdayRecord]:
        query = (
            select(BirthdayRow)
            .where(
                BirthdayRow.chat_platform == chat_platform,
                BirthdayRow.chat_id == chat_id,
                BirthdayRow.name_key == name_key(name),
            )
            .order_by(BirthdayRow.id)
        )
        with _storage_errors("read the birthdays"):
            async with self._sessions() as session:
                return [_birthday(row) for row in (await session.execute(query)).scalars()]
