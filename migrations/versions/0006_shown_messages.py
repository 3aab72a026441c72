"""Which platform message shows which generation, so a reply to it is found without reading captions.

Rows are written with each result's delivery record; existing result deliveries are copied in.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    shown = op.create_table(
        "shown_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shown_messages"),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name="fk_shown_messages_generation_id_generations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_shown_messages_job_id_jobs", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "platform", "chat_id", "message_id", name="uq_shown_messages_platform_chat_id_message_id"
        ),
    )
    rows = op.get_bind().execute(
        sa.text(
            "SELECT d.job_id, d.platform, d.message_ids, j.target, j.generation_id FROM deliveries d "
            "JOIN jobs j ON j.id = d.job_id WHERE d.kind = 'result' AND j.generation_id IS NOT NULL"
        )
    )
    seen: set[tuple[str, str, str]] = set()
    copied: list[dict[str, Any]] = []
    for job_id, platform, message_ids, target, generation_id in rows:
        chat = str((_json(target) or {}).get("chat_id") or "")
        for message_id in (_json(message_ids) or {}).get("ids", []):
            key = (platform, chat, str(message_id))
            if chat and key not in seen:
                seen.add(key)
                copied.append(
                    {"platform": platform, "chat_id": chat, "message_id": str(message_id),
                     "generation_id": generation_id, "job_id": job_id}
                )  # fmt: skip
    if copied:
        op.bulk_insert(shown, copied)


def downgrade() -> None:
    op.drop_table("shown_messages")
