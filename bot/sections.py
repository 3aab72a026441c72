"""The base of every settings section: unknown keys are refused (a typo is caught at start), and a
hyphenated alias (``openai-compatible``) and the field name both work. Adapters and providers declare
their own sections on it; ``bot.settings`` assembles them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["SettingsSection"]


class SettingsSection(BaseModel):
    """A settings section: unknown keys are refused; hyphenated aliases and field names both work."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)
