"""Hidden generations: ``/hide #12`` keeps a generation and its files but leaves it out of the history,
the gallery and "the last image" (``/unhide #12`` brings it back). ``hidden_by_admin``: a chat admin
(or the operator) hid it, so only an admin may show it again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(
            sa.Column("hidden_by_admin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.drop_column("hidden_by_admin")
        batch.drop_column("hidden")
