"""``providers.builtin``: the offline renderer's knobs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.providers.settings import SettingsSection

__all__ = ["BuiltinSettings", "Format"]

Format = Literal["png", "jpeg", "webp"]
"""How the offline renderer encodes its images (see ``bot.providers.builtin.encoding``)."""


class BuiltinSettings(SettingsSection):
    """The offline renderer."""

    long_side: int = Field(default=1024, ge=64, le=2048)
    """Pixels on the image's long side."""
    format: Format = "png"
    """How its images are encoded: ``png`` (lossless, ~70 ms for 1024²), ``jpeg`` (quality 90, ~4 ms;
    Telegram re-encodes photos as JPEG anyway) or ``webp`` (quality 90, ~20 ms, the smallest files).
    An edit that keeps transparency is PNG when ``jpeg`` is asked for."""
