"""Which providers run, in which order: ``generation.provider`` (a name or ``auto``) + ``fallbacks``.

``auto`` prefers local servers (keyless, private), then keyed clouds in a fixed order, then the
built-in offline renderer. A pinned name fails closed when it is not configured.

Each provider lives in ``bot/providers/<name>.py`` (hyphens become underscores) and exposes
``create(settings: ProviderSettings, *, client: httpx.AsyncClient) -> Provider``; modules are imported
only when their provider is used.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core.errors import ConfigError
from bot.core.ports import Provider
from bot.providers.builtin import BuiltinProvider
from bot.settings import GenerationSettings, ProviderSettings, ProvidersSettings

if TYPE_CHECKING:
    import httpx

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
BUILTIN = "builtin"


def module_name(name: str) -> str:
    return f"bot.providers.{name.replace('-', '_')}"


def has_client(name: str) -> bool:
    """Whether this version of Easel includes a client for the provider."""
    if name == BUILTIN:
        return True
    try:
        return importlib.util.find_spec(module_name(name)) is not None
    except ModuleNotFoundError:
        return False


@dataclass(frozen=True)
class Selection:
    chain: tuple[str, ...]
    """Provider names in the order they are tried."""
    skipped: tuple[tuple[str, str], ...] = field(default=())
    """Configured providers that are not used, with the reason."""


def missing(name: str, providers: ProvidersSettings) -> str | None:
    """What the provider still needs before it can run, or None when it is configured."""
    if name == BUILTIN:
        return None
    section = providers.get(name)
    assert isinstance(section, ProviderSettings)
    if name in LOCAL_ORDER:  # local servers are found by URL; a key alone says nothing
        return None if section.base_url else f"providers.{name}.base_url"
    if name == "bedrock":
        return None if section.api_key or section.region else "providers.bedrock.region (or api_key)"
    return None if section.api_key else f"providers.{name}.api_key"


def is_configured(name: str, providers: ProvidersSettings) -> bool:
    return missing(name, providers) is None


def select(generation: GenerationSettings, providers: ProvidersSettings) -> Selection:
    skipped: list[tuple[str, str]] = []
    if generation.provider == "auto":
        primary = BUILTIN
        for name in (*LOCAL_ORDER, *CLOUD_ORDER):
            if not is_configured(name, providers):
                continue
            if not has_client(name):
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
    selection: Selection, providers: ProvidersSettings, clients: Mapping[str, httpx.AsyncClient]
) -> list[Provider]:
    """The providers of the chain; every one but builtin gets the client made for it in app.py."""
    built: list[Provider] = []
    for name in selection.chain:
        if name == BUILTIN:
            built.append(BuiltinProvider(long_side=providers.builtin.long_side))
            continue
        section = providers.get(name)
        assert isinstance(section, ProviderSettings)
        module = importlib.import_module(module_name(name))
        built.append(module.create(section, client=clients[name]))
    return built


def _usable(name: str, providers: ProvidersSettings, *, key: str) -> str:
    if not has_client(name):
        raise ConfigError(f"{key}: {name!r} is not available in this version of Easel.")
    need = missing(name, providers)
    if need is not None:
        raise ConfigError(f"{key}: {name!r} is selected but {need} is not set.")
    return name
