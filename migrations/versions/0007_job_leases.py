"""Leased jobs: a worker (any replica) claims a job for a while and renews its lease as it works.

``lease_owner`` is the replica that holds the job, ``lease_expires_at`` when another may take it over
(its worker died). ``(user_id, started_at)`` serves the claim's fairness order (the user served least
recently goes first, across replicas).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(80), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_jobs_user_id_started_at", "jobs", ["user_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_user_id_started_at", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
