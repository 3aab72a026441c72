"""What every SQL store shares: driver errors as ``StorageError``, which ids can name a row, row counts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.exc import SQLAlchemyError

from bot.core.errors import StorageError
from bot.core.ids import MAX_ROW_ID

__all__ = ["row_id", "rowcount", "storage_errors"]
UNAVAILABLE = "The history database is unavailable right now."


@contextmanager
def storage_errors(action: str) -> Iterator[None]:
    """Convert SQLAlchemy and driver errors met inside the block to ``StorageError``."""
    try:
        yield
    except (SQLAlchemyError, OSError) as exc:
        raise StorageError(f"Could not {action}: {exc}", user_message=UNAVAILABLE) from exc


def row_id(value: int) -> bool:
    """Whether ``value`` can be a row's id. Ids come from chats and URLs; beyond ``MAX_ROW_ID``
    PostgreSQL's ``integer`` columns would reject the query itself, so such ids simply name nothing."""
    return 0 < value <= MAX_ROW_ID


def rowcount(result: Result[Any]) -> int:
    return cast("CursorResult[Any]", result).rowcount
