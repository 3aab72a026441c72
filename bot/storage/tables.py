"""SQLAlchemy models of Easel's history. ``migrations/`` creates exactly this schema."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always stores UTC and always returns UTC-aware values.

    SQLite keeps no offset, so values are converted to UTC before they are written and tagged as UTC
    when read. Naive values are taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime]


class ChatRow(Base):
    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    created_at: Mapped[datetime]


class GenerationRow(Base):
    __tablename__ = "generations"
    __table_args__ = (
        Index("ix_generations_chat_id_status_id", "chat_id", "status", "id"),
        Index("ix_generations_chat_id_id", "chat_id", "id"),
        Index("ix_generations_parent_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    prompt: Mapped[str] = mapped_column(Text)
    negative: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]]
    provider: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(128))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("generations.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Left out of the history, the gallery and "the last image" (``/hide``); kept with its files."""
    hidden_by_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Hidden by a chat admin or the operator: only an admin may show it again (and its requester no
    longer sees it). Always False on a shown one."""

    images: Mapped[list[ImageRow]] = relationship(
        order_by="ImageRow.position", lazy="raise", passive_deletes=True
    )


class ImageRow(Base):
    __tablename__ = "images"
    __table_args__ = (Index("ix_images_generation_id_position", "generation_id", "position"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("generations.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    mime: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class JobRow(Base):
    """The durable job queue: one row per accepted request, the source of truth after a restart."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status", "status"),
        Index("ix_jobs_chat_id_id", "chat_id", "id"),
        Index("ix_jobs_user_id_started_at", "user_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[int | None] = mapped_column(ForeignKey("generations.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    payload: Mapped[dict[str, Any]]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deadline_at: Mapped[datetime | None]
    platform: Mapped[str] = mapped_column(String(32), default="", server_default=text("''"))
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    target: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    images_reserved: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    usage_day: Mapped[date | None] = mapped_column(Date)
    est_cost: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))
    after_job_id: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    user_message: Mapped[str | None] = mapped_column(Text)
    notified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    """The replica working on the job; another may take it over once ``lease_expires_at`` passed."""
    lease_expires_at: Mapped[datetime | None]


class DeliveryRow(Base):
    """What was sent to a platform for a job; its presence means "do not send again"."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("job_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(32))
    message_ids: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class ShownMessageRow(Base):
    """A platform message that shows a generation's result: a reply to it names that generation."""

    __tablename__ = "shown_messages"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(64))
    generation_id: Mapped[int] = mapped_column(ForeignKey("generations.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))


class UsageRow(Base):
    __tablename__ = "usage"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    images: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    est_cost: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))


class ScheduleRow(Base):
    """A scheduled post (or a birthday's yearly card): the source of truth the scheduler loads."""

    __tablename__ = "schedules"
    __table_args__ = (
        Index("ix_schedules_enabled_next_fire_at", "enabled", "next_fire_at"),
        Index("ix_schedules_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="post", server_default=text("'post'"))
    target: Mapped[dict[str, Any]]
    when_text: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict[str, Any]]
    tz: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(128))
    aspect: Mapped[str | None] = mapped_column(String(16))
    owner_platform: Mapped[str] = mapped_column(String(32))
    owner_user: Mapped[str] = mapped_column(String(128))
    owner_name: Mapped[str] = mapped_column(String(256), default="", server_default=text("''"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    counter: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_fire_at: Mapped[datetime | None]
    last_fire_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ScheduleRunRow(Base):
    """One fire time of a schedule, claimed (unique) before its job is submitted: exactly once."""

    __tablename__ = "schedule_runs"
    __table_args__ = (
        UniqueConstraint("schedule_id", "fire_time"),
        Index("ix_schedule_runs_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    fire_time: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    job_id: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class BirthdayRow(Base):
    """A person's birthday in a chat; its yearly card is the schedule ``schedule_id``."""

    __tablename__ = "birthdays"
    __table_args__ = (
        Index("ux_birthdays_person", "chat_platform", "chat_id", "person_user", unique=True),
        Index(
            "ux_birthdays_named",
            "chat_platform",
            "chat_id",
            "name_key",
            unique=True,
            sqlite_where=text("person_user IS NULL"),
            postgresql_where=text("person_user IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), unique=True)
    chat_platform: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    person_user: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    name_key: Mapped[str] = mapped_column(String(128))
    day: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    year: Mapped[int | None] = mapped_column(Integer)
    tz: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
