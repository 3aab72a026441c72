"""Performance indexes: a chat's history page in id order, and a generation's images in position order.

``list_generations(chat_id=...)`` orders a chat's generations by id: without ``(chat_id, id)`` SQLite
sorted every generation of the chat for each page (22 ms at 120,000 generations in one chat). Loading
a generation's images ordered by position sorted them in a temporary B-tree; ``(generation_id,
position)`` replaces ``(generation_id)`` (its prefix serves every lookup the old one did).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 14:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_generations_chat_id_id", "generations", ["chat_id", "id"])
    op.create_index("ix_images_generation_id_position", "images", ["generation_id", "position"])
    op.drop_index("ix_images_generation_id", table_name="images")


def downgrade() -> None:
    op.create_index("ix_images_generation_id", "images", ["generation_id"])
    op.drop_index("ix_images_generation_id_position", table_name="images")
    op.drop_index("ix_generations_chat_id_id", table_name="generations")
