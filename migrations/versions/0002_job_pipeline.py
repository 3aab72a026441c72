"""Job pipeline: job ownership, targets, quota reservations, deliveries, estimated spend.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("platform", sa.String(32), server_default=sa.text("''"), nullable=False))
        batch.add_column(sa.Column("chat_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("target", sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
        batch.add_column(
            sa.Column("images_reserved", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.add_column(sa.Column("usage_day", sa.Date(), nullable=True))
        batch.add_column(sa.Column("est_cost", sa.Float(), server_default=sa.text("0"), nullable=False))
        batch.add_column(sa.Column("after_job_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("user_message", sa.Text(), nullable=True))
        batch.add_column(sa.Column("notified", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.create_foreign_key("fk_jobs_chat_id_chats", "chats", ["chat_id"], ["id"])
        batch.create_foreign_key("fk_jobs_user_id_users", "users", ["user_id"], ["id"])
        batch.create_index("ix_jobs_status", ["status"])
        batch.create_index("ix_jobs_chat_id_id", ["chat_id", "id"])
    with op.batch_alter_table("usage") as batch:
        batch.add_column(sa.Column("est_cost", sa.Float(), server_default=sa.text("0"), nullable=False))
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("message_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_deliveries_job_id_jobs", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("job_id", "kind", name="uq_deliveries_job_id_kind"),
    )


def downgrade() -> None:
    op.drop_table("deliveries")
    with op.batch_alter_table("usage") as batch:
        batch.drop_column("est_cost")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_chat_id_id")
        batch.drop_index("ix_jobs_status")
        batch.drop_constraint("fk_jobs_user_id_users", type_="foreignkey")
        batch.drop_constraint("fk_jobs_chat_id_chats", type_="foreignkey")
        for column in (
            "notified",
            "user_message",
            "finished_at",
            "started_at",
            "after_job_id",
            "est_cost",
            "usage_day",
            "images_reserved",
            "target",
            "user_id",
            "chat_id",
            "platform",
        ):
            batch.drop_column(column)
