"""Generation rows <-> Easel's records: the image rows a generation writes, a stored image and a
generation record read back, and the query for a chat's last (not hidden) generation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, exists, select

from bot.core.types import GenerationKind, GenerationRecord, GenerationStatus, StoredImage
from bot.storage.tables import GenerationRow, ImageRow


def image_rows(generation_id: int, images: Sequence[StoredImage], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": image.id,
            "generation_id": generation_id,
            "position": position,
            "path": str(image.path),
            "mime": image.mime,
            "sha256": image.sha256,
            "size_bytes": image.size_bytes,
            "width": image.width,
            "height": image.height,
            "seed": image.seed,
            "created_at": now,
        }
        for position, image in enumerate(images)
    ]


def stored_image(row: ImageRow) -> StoredImage:
    return StoredImage(
        id=row.id,
        path=Path(row.path),
        mime=row.mime,
        sha256=row.sha256,
        size_bytes=row.size_bytes,
        width=row.width,
        height=row.height,
        seed=row.seed,
    )


def record(row: GenerationRow) -> GenerationRecord:
    return GenerationRecord(
        id=row.id,
        chat_id=row.chat_id,
        user_id=row.user_id,
        kind=GenerationKind(row.kind),
        status=GenerationStatus(row.status),
        prompt=row.prompt,
        negative=row.negative,
        params=dict(row.params or {}),
        provider=row.provider,
        model=row.model,
        parent_id=row.parent_id,
        error=row.error,
        created_at=row.created_at,
        finished_at=row.finished_at,
        images=tuple(stored_image(image) for image in row.images),
        hidden=row.hidden,
        hidden_by_admin=row.hidden_by_admin,
    )


def last_generation_query(chat_id: int) -> Select[GenerationRow]:
    """The chat's newest done generation with an image, not hidden: a backward scan of (chat_id,
    status, id)."""
    has_images = exists().where(ImageRow.generation_id == GenerationRow.id)
    return (
        select(GenerationRow)
        .where(
            GenerationRow.chat_id == chat_id,
            GenerationRow.status == GenerationStatus.DONE.value,
            GenerationRow.hidden.is_(False),
            has_images,
        )
        .order_by(GenerationRow.id.desc())
        .limit(1)
    )
