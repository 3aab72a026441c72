"""The one list of image providers, and which of them run: ``generation.provider`` + ``fallbacks``.

:data:`VENDORS` names every provider once: its name as users write it, whether it is a server of the
user's own (``local``) or a keyed cloud, its settings model (``providers.<name>`` is validated by it;
``bot.settings`` builds ``ProvidersSettings`` from this list), the setting it still needs, how many
calls it takes at once, and the module whose ``create(settings, *, client)`` builds it. That module
is imported only when the provider is used; this one and the settings models stay light.

``auto`` prefers local servers (keyless, private), then keyed clouds, each in the order listed, then
the built-in offline renderer. A pinned name fails closed when it is not configured::

    selection = registry.select(settings.generation, settings.providers)
    clients = registry.make_clients(selection, settings.providers, default_timeout_s=120.0)
    providers = registry.build(selection, settings.providers, clients)      # the caller closes clients
    limits = {p.name: registry.concurrency(p.name, settings.providers.get(p.name)) for p in providers}
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from bot.core.errors import ConfigError
from bot.providers.bedrock.settings import BedrockSettings
from bot.providers.builtin.settings import BuiltinSettings
from bot.providers.comfyui.settings import ComfyUISettings
from bot.providers.settings import DiffusionSettings, ProviderSettings, SamplerSettings, SettingsSection

if TYPE_CHECKING:
    import httpx

    from bot.core.ports import Provider, SlotClaims

__all__ = [
    "AUTO_ORDER",
    "BUILTIN",
    "VENDORS",
    "Selection",
    "Vendor",
    "build",
    "client_sections",
    "concurrency",
    "has_client",
    "is_configured",
    "make_clients",
    "missing",
    "names",
    "select",
    "vendor",
]

Kind = Literal["builtin", "local", "cloud"]
BUILTIN = "builtin"


@dataclass(frozen=True)
class Vendor:
    """One provider, as the registry knows it."""

    name: str
    """As users write it (``openai-compatible``); the settings field is ``openai_compatible``."""
    kind: Kind
    settings: type[SettingsSection]
    """The model of ``providers.<name>``: its keys, and nothing else."""
    module: str
    """The module with ``create(settings, *, client)``, imported when the provider is used."""
    needs: tuple[str, ...] = ()
    """Settings of which one must be set before it can run (none: always ready)."""
    concurrency: int = 4
    """Calls at once, per backend URL, unless ``max_concurrency`` says otherwise."""

    @property
    def attribute(self) -> str:
        """The field on ``ProvidersSettings`` (hyphens become underscores)."""
        return self.name.replace("-", "_")

    @property
    def uses_http(self) -> bool:
        """Whether it talks to a server (and so gets an ``httpx`` client made from its settings)."""
        return self.kind != BUILTIN


def _local(name: str, settings: type[SettingsSection], module: str) -> Vendor:
    return Vendor(name, "local", settings, module, needs=("base_url",), concurrency=1)


def _cloud(name: str, settings: type[SettingsSection], module: str, *needs: str) -> Vendor:
    return Vendor(name, "cloud", settings, module, needs=needs or ("api_key",))


VENDORS: tuple[Vendor, ...] = (
    # the offline renderer is CPU-bound Pillow work in threads: more than the cores buys nothing
    Vendor(BUILTIN, "builtin", BuiltinSettings, "bot.providers.builtin.provider", concurrency=2),
    _local("sdwebui", SamplerSettings, "bot.providers.sdwebui"),
    _local("comfyui", ComfyUISettings, "bot.providers.comfyui.provider"),
    _local("ollama", ProviderSettings, "bot.providers.ollama"),
    _cloud("openai", ProviderSettings, "bot.providers.openai"),
    _cloud("openai-responses", ProviderSettings, "bot.providers.openai_responses"),
    _cloud("gemini", ProviderSettings, "bot.providers.gemini.provider"),
    _cloud("imagen", ProviderSettings, "bot.providers.imagen"),
    _cloud("xai", ProviderSettings, "bot.providers.xai"),
    _cloud("minimax", ProviderSettings, "bot.providers.minimax"),
    _cloud("zhipu", ProviderSettings, "bot.providers.zhipu"),
    _cloud("stepfun", ProviderSettings, "bot.providers.stepfun"),
    _cloud("bedrock", BedrockSettings, "bot.providers.bedrock.provider", "region", "api_key"),
    _cloud("flux", ProviderSettings, "bot.providers.flux"),
    _cloud("replicate", ProviderSettings, "bot.providers.replicate"),
    _cloud("stability", DiffusionSettings, "bot.providers.stability"),
    _cloud("openrouter", ProviderSettings, "bot.providers.openrouter"),
    _cloud("aihubmix", ProviderSettings, "bot.providers.aihubmix"),
    _local("openai-compatible", ProviderSettings, "bot.providers.openai_compatible"),
)
"""Every provider, in the order `easel providers` and `easel config show` list them."""
_BY_NAME = {v.name: v for v in VENDORS}
AUTO_ORDER = tuple(v.name for kind in ("local", "cloud") for v in VENDORS if v.kind == kind)
"""What ``auto`` tries, before falling back to the offline renderer."""


class _Providers(Protocol):
    """``bot.settings.ProvidersSettings``, as far as the registry reads it."""

    def get(self, name: str) -> SettingsSection: ...


class _Choice(Protocol):
    """``bot.settings.GenerationSettings``, as far as the registry reads it."""

    @property
    def provider(self) -> str: ...

    @property
    def fallbacks(self) -> Sequence[str]: ...


def names() -> list[str]:
    """Provider names as users write them, in listing order."""
    return [v.name for v in VENDORS]


def vendor(name: str) -> Vendor:
    """The provider called ``name`` (``KeyError`` for a name no provider has)."""
    return _BY_NAME[name]


def has_client(name: str) -> bool:
    """Whether this version of Easel includes a client for the provider."""
    known = _BY_NAME.get(name)
    if known is None:
        return False
    try:
        return importlib.util.find_spec(known.module) is not None
    except ModuleNotFoundError:
        return False


@dataclass(frozen=True)
class Selection:
    chain: tuple[str, ...]
    """Provider names in the order they are tried."""
    skipped: tuple[tuple[str, str], ...] = field(default=())
    """Configured providers that are not used, with the reason."""


def missing(name: str, providers: _Providers) -> str | None:
    """What the provider still needs before it can run, or None when it is configured.

    Local servers are found by URL (a key alone says nothing); clouds need their key; bedrock a region
    (with AWS credentials) or a Bedrock API key.
    """
    needs = vendor(name).needs
    section = providers.get(name)
    if not needs or any(getattr(section, key, None) for key in needs):
        return None
    alternatives = f" (or {', '.join(needs[1:])})" if len(needs) > 1 else ""
    return f"providers.{name}.{needs[0]}{alternatives}"


def is_configured(name: str, providers: _Providers) -> bool:
    return missing(name, providers) is None


def select(generation: _Choice, providers: _Providers) -> Selection:
    """The chain: the pinned provider or the first configured one ``auto`` finds, then the fallbacks."""
    skipped: list[tuple[str, str]] = []
    if generation.provider == "auto":
        primary = BUILTIN
        for name in AUTO_ORDER:
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


def client_sections(selection: Selection, providers: _Providers) -> dict[str, ProviderSettings]:
    """The settings of every provider in the chain that talks HTTP: each gets its own client,
    made from them (``bot.providers._http.client.make_client``), which it is then built on."""
    sections: dict[str, ProviderSettings] = {}
    for name in selection.chain:
        section = providers.get(name)
        if vendor(name).uses_http and isinstance(section, ProviderSettings):
            sections[name] = section
    return sections


def make_clients(
    selection: Selection, providers: _Providers, *, default_timeout_s: float
) -> dict[str, httpx.AsyncClient]:
    """One client per HTTP provider of the chain (:func:`client_sections`), made from its section:
    capped answers, no automatic redirects, its secrets known to the redactor. The caller closes them."""
    from bot.providers._http.client import make_client  # httpx loads only when a client is made

    return {
        name: make_client(section, default_timeout_s=default_timeout_s)
        for name, section in client_sections(selection, providers).items()
    }


def build(
    selection: Selection, providers: _Providers, clients: Mapping[str, httpx.AsyncClient]
) -> list[Provider]:
    """The providers of the chain, each built on the client made for it (see :func:`client_sections`)."""
    built: list[Provider] = []
    for name in selection.chain:
        spec = vendor(name)
        module = importlib.import_module(spec.module)
        client = clients[name] if spec.uses_http else None
        built.append(module.create(providers.get(name), client=client))
    return built


def share_backends(providers: Sequence[Provider], claims: SlotClaims) -> None:
    """Make the backend pools of ``providers`` hold each backend's cap across every replica."""
    from bot.providers._http.backends import BackendPool

    for provider in providers:
        pool = getattr(provider, "pool", None)  # the providers that call servers of the user's own
        if isinstance(pool, BackendPool):
            pool.share(claims)


def concurrency(name: str, section: SettingsSection) -> int:
    """Calls into the provider at once: ``max_concurrency`` (else its default: 1 for a local server,
    4 for a cloud) per backend URL, times the number of URLs; 2 for the offline renderer."""
    spec = vendor(name)
    if not isinstance(section, ProviderSettings):
        return spec.concurrency
    per_backend = section.max_concurrency or spec.concurrency
    backends = len(section.base_url) if isinstance(section.base_url, list) else 1
    return per_backend * max(1, backends)


def _usable(name: str, providers: _Providers, *, key: str) -> str:
    if not has_client(name):
        raise ConfigError(f"{key}: {name!r} is not available in this version of Easel.")
    need = missing(name, providers)
    if need is not None:
        raise ConfigError(f"{key}: {name!r} is selected but {need} is not set.")
    return name
