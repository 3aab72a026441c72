"""Which replicas share a backend's concurrency slots: those pointed at the same addresses."""

from __future__ import annotations

from bot.providers.settings import ProviderSettings
from bot.wiring import backend_slot_name


def test_replicas_pointed_at_one_server_share_its_slots() -> None:
    """Two configurations naming the same URL get one slot name."""
    one = ProviderSettings(base_url="http://gpu-1:7860")
    other = ProviderSettings(base_url=["http://gpu-1:7860"])
    assert backend_slot_name("sdwebui", one) == backend_slot_name("sdwebui", other)


def test_replicas_pointed_at_different_servers_do_not_share_slots() -> None:
    """A different URL gives a different slot name, so two GPUs are not limited as one."""
    one = backend_slot_name("sdwebui", ProviderSettings(base_url="http://gpu-1:7860"))
    other = backend_slot_name("sdwebui", ProviderSettings(base_url="http://gpu-2:7860"))
    assert one != other


def test_the_order_of_a_backend_pool_does_not_matter() -> None:
    """A pool listed in another order is the same pool."""
    urls = ["http://gpu-1:7860", "http://gpu-2:7860"]
    forward = backend_slot_name("comfyui", ProviderSettings(base_url=urls))
    backward = backend_slot_name("comfyui", ProviderSettings(base_url=list(reversed(urls))))
    assert forward == backward


def test_a_slot_name_never_carries_credentials_from_the_url() -> None:
    """Credentials in a base URL are hashed away, never written into Redis keys."""
    name = backend_slot_name("sdwebui", ProviderSettings(base_url="http://admin:hunter2@gpu-1:7860"))
    assert "hunter2" not in name and "admin" not in name and "gpu-1" not in name


def test_a_provider_without_a_section_is_keyed_by_its_name() -> None:
    """A provider with no address (a cloud, an injected fake) shares slots by name."""
    assert backend_slot_name("openai", ProviderSettings()) == "openai"
    assert backend_slot_name("scripted", None) == "scripted"
