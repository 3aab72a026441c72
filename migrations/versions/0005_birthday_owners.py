"""Birthdays belong to a user id, not a display name.

A member's own birthday is unique per (chat, person_user): renaming oneself "Bob" no longer reaches
Bob's row. Birthdays an admin sets for someone by name (no user id) stay unique per (chat, name).
Two members with the same display name may now both have a birthday.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAMED = "person_user IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("birthdays") as batch:
        batch.drop_constraint("uq_birthdays_chat_platform_chat_id_name_key", type_="unique")
    op.create_index(
        "ux_birthdays_person", "birthdays", ["chat_platform", "chat_id", "person_user"], unique=True
    )
    op.create_index(
        "ux_birthdays_named",
        "birthdays",
        ["chat_platform", "chat_id", "name_key"],
        unique=True,
        sqlite_where=sa.text(_NAMED),
        postgresql_where=sa.text(_NAMED),
    )


def downgrade() -> None:
    op.drop_index("ux_birthdays_named", table_name="birthdays")
    op.drop_index("ux_birthdays_person", table_name="birthdays")
    # Same-named members would collide with the old constraint: keep the oldest row of each name.
    op.execute(
        "DELETE FROM birthdays WHERE id NOT IN "
        "(SELECT MIN(id) FROM birthdays GROUP BY chat_platform, chat_id, name_key)"
    )
    with op.batch_alter_table("birthdays") as batch:
        batch.create_unique_constraint(
            "uq_birthdays_chat_platform_chat_id_name_key", ["chat_platform", "chat_id", "name_key"]
        )
