"""``providers.builtin``: the offline renderer's only knob."""

from __future__ import annotations

from pydantic import Field

from bot.providers.settings import SettingsSection

__all__ = ["BuiltinSettings"]


class BuiltinSettings(SettingsSection):
    """The offline renderer."""

    long_side: int = Field(default=1024, ge=64, le=2048)
    """Pixels on the image's long side."""
