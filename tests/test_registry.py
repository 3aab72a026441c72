"""Provider selection: auto order, pinned names that fail closed, fallbacks."""

from __future__ import annotations

import pytest

from bot.core.errors import ConfigError
from bot.providers import registry
from bot.settings import load_settings


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
