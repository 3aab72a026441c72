"""Scheduler: scheduled posts, their runs (unique per fire time) and birthdays.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), server_default=sa.text("'post'"), nullable=False),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("when_text", sa.String(200), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("provider", sa.String(64), nullable=True),
        sa.Column("model", sa.String(128), nullable=True),
        sa.Column("aspect", sa.String(16), nullable=True),
        sa.Column("owner_platform", sa.String(32), nullable=False),
        sa.Column("owner_user", sa.String(128), nullable=False),
        sa.Column("owner_name", sa.String(256), server_default=sa.text("''"), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("counter", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _timestamp("next_fire_at", nullable=True),
        _timestamp("last_fire_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_schedules"),
    )
    op.create_index("ix_schedules_enabled_next_fire_at", "schedules", ["enabled", "next_fire_at"])
    op.create_index("ix_schedules_updated_at", "schedules", ["updated_at"])
    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        _timestamp("fire_time"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _timestamp("next_attempt_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_runs"),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name="fk_schedule_runs_schedule_id_schedules",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("schedule_id", "fire_time", name="uq_schedule_runs_schedule_id_fire_time"),
    )
    op.create_index("ix_schedule_runs_status", "schedule_runs", ["status"])
    op.create_table(
        "birthdays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("chat_platform", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.String(128), nullable=False),
        sa.Column("person_user", sa.String(128), nullable=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("name_key", sa.String(128), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("tz", sa.String(64), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_birthdays"),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["schedules.id"], name="fk_birthdays_schedule_id_schedules", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("schedule_id", name="uq_birthdays_schedule_id"),
        sa.UniqueConstraint(
            "chat_platform", "chat_id", "name_key", name="uq_birthdays_chat_platform_chat_id_name_key"
        ),
    )


def downgrade() -> None:
    op.drop_table("birthdays")
    op.drop_index("ix_schedule_runs_status", table_name="schedule_runs")
    op.drop_table("schedule_runs")
    op.drop_index("ix_schedules_updated_at", table_name="schedules")
    op.drop_index("ix_schedules_enabled_next_fire_at", table_name="schedules")
    op.drop_table("schedules")
