"""Which providers run, in which order: ``generation.provider`` (a name or ``auto``) + ``fallbacks``.

``auto`` prefers local servers (keyless, private), then keyed clouds in a fixed order, then the
built-in offline renderer. A pinned name fails closed when it is not configured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.errors import ConfigError
from bot.core.ports import Provider
from bot.providers.builtin import BuiltinProvider
from bot.providers.openai_compatible import OpenAICompatibleProvider
from bot.settings import GenerationSettings, ProviderSettings, ProvidersSettings

LOCAL_ORDER = ("sdwebui", "comfyui", "openai-compatible")
CLOUD_ORDER = (
    "openai",
    "openai-responses",
    "gemini",
    "xai",
    "bedrock",
    "flux",
    "replicate",
    "stability",
    "openrouter",
)

Factory = Callable[[ProvidersSettings, GenerationSettings], Provider]
"""Builds one provider from its settings section; ``generation`` supplies shared defaults."""

FACTORIES: dict[str, Factory] = {
    "builtin": lambda providers, generation: BuiltinProvider(long_side=providers.builtin.long_side),
    "openai-compatible": lambda providers, generation: OpenAICompatibleProvider(
        providers.openai_compatible, default_timeout_s=generation.attempt_timeout_s
    ),
}


@dataclass(frozen=True)
class Selection:
    chain: tuple[str, ...]
    """Provider names in the order they are tried."""
    skipped: tuple[tuple[str, str], ...] = field(default=())
    """Configured providers that are not used, with the reason."""


def is_configured(name: str, providers: ProvidersSettings) -> bool:
    if name == "builtin":
        return True
    section = providers.get(name)
    if not isinstance(section, ProviderSettings):
        return False
    if name in LOCAL_ORDER:  # local servers are found by URL; a key alone says nothing
        return bool(section.base_url)
    return section.configured


def select(generation: GenerationSettings, providers: ProvidersSettings) -> Selection:
    skipped: list[tuple[str, str]] = []
    if generation.provider == "auto":
        primary = "builtin"
        for name in (*LOCAL_ORDER, *CLOUD_ORDER):
            if not is_configured(name, providers):
                continue
            if name not in FACTORIES:
                skipped.append((name, "configured, but this version of Easel has no client for it yet"))
                continue
            primary = name
            break
    else:
        primary = _usable(generation.provider, providers, key="generation.provider")
    chain = [primary]
    for name in generation.fallbacks:
        usable = _usable(name, providers, key="generation.fallbacks")
        if usable not in chain:
            chain.append(usable)
    return Selection(chain=tuple(chain), skipped=tuple(skipped))


def build(
    selection: Selection, providers: ProvidersSettings, generation: GenerationSettings
) -> list[Provider]:
    return [FACTORIES[name](providers, generation) for name in selection.chain]


def _usable(name: str, providers: ProvidersSettings, *, key: str) -> str:
    if name not in FACTORIES:
        available = ", ".join(sorted(FACTORIES))
        raise ConfigError(
            f"{key}: {name!r} is not available in this version of Easel (available: {available})."
        )
    if not is_configured(name, providers):
        raise ConfigError(f"{key}: {name!r} is selected but providers.{name} has no base_url or api_key.")
    return name
