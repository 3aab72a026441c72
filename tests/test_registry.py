"""Provider selection: auto order, pinned names that fail closed, fallbacks."""

from __future__ import annotations

import pytest

from bot.core.errors import ConfigError
from bot.providers import registry
from bot.settings import ProvidersSettings, load_settings


def test_auto_with_nothing_configured_is_builtin() -> None:
    """No provider configured: the offline renderer is used."""
    settings = load_settings(None, environ={})
    assert registry.select(settings.generation, settings.providers).chain == ("builtin",)


def test_auto_reports_configured_providers_it_cannot_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """A configured provider whose module is missing is listed as skipped, not silently dropped."""
    monkeypatch.setattr(registry, "has_client", lambda name: name != "sdwebui")
    settings = load_settings(None, environ={"EASEL__PROVIDERS__SDWEBUI__BASE_URL": "http://127.0.0.1:7860"})
    selection = registry.select(settings.generation, settings.providers)
    assert selection.chain == ("builtin",)
    assert [name for name, _ in selection.skipped] == ["sdwebui"]


def test_pinned_unconfigured_provider_fails_closed() -> None:
    """generation.provider naming a provider that cannot run is an error at start."""
    settings = load_settings(None, environ={"EASEL__GENERATION__PROVIDER": "openai"})
    with pytest.raises(ConfigError, match=r"generation\.provider"):
        registry.select(settings.generation, settings.providers)


def test_fallbacks_follow_the_primary_without_duplicates() -> None:
    """Fallbacks are appended in order, skipping the primary."""
    settings = load_settings(None, environ={"EASEL__GENERATION__FALLBACKS": '["builtin"]'})
    assert registry.select(settings.generation, settings.providers).chain == ("builtin",)


def test_build_makes_the_selected_providers() -> None:
    """build() returns provider objects in chain order."""
    settings = load_settings(None, environ={})
    providers = registry.build(
        registry.select(settings.generation, settings.providers), settings.providers, {}
    )
    assert [p.name for p in providers] == ["builtin"]


def test_auto_prefers_a_configured_local_server() -> None:
    """auto picks openai-compatible when its base_url is set."""
    settings = load_settings(
        None, environ={"EASEL__PROVIDERS__OPENAI_COMPATIBLE__BASE_URL": "http://127.0.0.1:9/v1"}
    )
    assert registry.select(settings.generation, settings.providers).chain == ("openai-compatible",)


def test_local_server_with_only_a_key_is_not_configured() -> None:
    """A key without a URL does not make a local server usable."""
    settings = load_settings(None, environ={"EASEL__PROVIDERS__OPENAI_COMPATIBLE__API_KEY": "k"})
    assert not registry.is_configured("openai-compatible", settings.providers)


@pytest.mark.parametrize("name", [v.name for v in registry.VENDORS if v.needs])
def test_auto_picks_a_provider_configured_alone(name: str) -> None:
    """Each provider, given only the setting it needs (from the environment), is what auto picks."""
    vendor = registry.vendor(name)
    value = {"base_url": "http://127.0.0.1:9/v1", "api_key": "key-0123456789", "region": "us-east-1"}
    env = {f"EASEL__PROVIDERS__{vendor.attribute.upper()}__{vendor.needs[0].upper()}": value[vendor.needs[0]]}
    settings = load_settings(None, environ=env)
    assert registry.select(settings.generation, settings.providers).chain == (name,)


def test_auto_order_is_local_servers_then_clouds() -> None:
    """auto tries the local servers in listing order, then the clouds in listing order."""
    assert registry.AUTO_ORDER == (
        "sdwebui",
        "comfyui",
        "ollama",
        "openai-compatible",
        "openai",
        "openai-responses",
        "gemini",
        "imagen",
        "xai",
        "minimax",
        "zhipu",
        "stepfun",
        "bedrock",
        "flux",
        "replicate",
        "stability",
        "openrouter",
        "aihubmix",
    )


def test_settings_list_the_registrys_providers_in_its_order() -> None:
    """ProvidersSettings has one section per registered provider, named as users write them."""
    assert ProvidersSettings.names() == registry.names()
    assert registry.names()[0] == "builtin" and "openai-compatible" in registry.names()


def test_every_provider_module_is_found() -> None:
    """has_client sees every listed provider's module, and nothing for a name no provider has."""
    assert all(registry.has_client(name) for name in registry.names())
    assert not registry.has_client("dalle9")


def test_missing_names_what_each_kind_needs() -> None:
    """Local servers need base_url, clouds api_key, bedrock a region or a key, builtin nothing."""
    providers = load_settings(None, environ={}).providers
    assert registry.missing("sdwebui", providers) == "providers.sdwebui.base_url"
    assert registry.missing("openai", providers) == "providers.openai.api_key"
    assert registry.missing("bedrock", providers) == "providers.bedrock.region (or api_key)"
    assert registry.missing("builtin", providers) is None


@pytest.mark.parametrize(
    ("name", "fields", "expected"),
    [
        ("builtin", {}, 2),
        ("sdwebui", {"base_url": "http://a"}, 1),
        ("sdwebui", {"base_url": ["http://a", "http://b"]}, 2),
        ("comfyui", {"base_url": ["http://a", "http://b"], "max_concurrency": 3}, 6),
        ("openai", {"api_key": "k"}, 4),
        ("openai", {"api_key": "k", "max_concurrency": 2}, 2),
        ("gemini", {"api_key": "k", "base_url": ["http://a", "http://b"]}, 8),
    ],
)
def test_concurrency_per_provider(name: str, fields: dict[str, object], expected: int) -> None:
    """builtin 2; local servers 1 and clouds 4 per backend URL unless max_concurrency says otherwise."""
    section = ProvidersSettings(**{name: fields}).get(name)
    assert registry.concurrency(name, section) == expected


def test_client_sections_are_the_chains_http_providers() -> None:
    """Every provider of the chain but the offline renderer gets a client made from its section."""
    env = {
        "EASEL__GENERATION__PROVIDER": "openai",
        "EASEL__GENERATION__FALLBACKS": '["builtin", "sdwebui"]',
        "EASEL__PROVIDERS__OPENAI__API_KEY": "k",
        "EASEL__PROVIDERS__SDWEBUI__BASE_URL": "http://127.0.0.1:7860",
    }
    settings = load_settings(None, environ=env)
    selection = registry.select(settings.generation, settings.providers)
    sections = registry.client_sections(selection, settings.providers)
    assert selection.chain == ("openai", "builtin", "sdwebui") and list(sections) == ["openai", "sdwebui"]
    assert sections["sdwebui"] is settings.providers.get("sdwebui")


async def test_make_clients_makes_one_per_http_provider() -> None:
    """make_clients gives every HTTP provider of the chain its own client, timed by its section."""
    env = {
        "EASEL__GENERATION__PROVIDER": "openai",
        "EASEL__GENERATION__FALLBACKS": '["builtin"]',
        "EASEL__PROVIDERS__OPENAI__API_KEY": "k",
        "EASEL__PROVIDERS__OPENAI__TIMEOUT_S": "7",
    }
    settings = load_settings(None, environ=env)
    selection = registry.select(settings.generation, settings.providers)
    clients = registry.make_clients(selection, settings.providers, default_timeout_s=120.0)
    try:
        assert list(clients) == ["openai"] and clients["openai"].timeout.read == 7.0
    finally:
        for client in clients.values():
            await client.aclose()
