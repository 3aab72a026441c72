"""The provider contract, life cycle: settings it cannot run without, cancellation, health, closing."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.errors import Misconfigured, Refused
from bot.core.types import ImageRequest
from bot.providers import registry
from bot.settings import ProvidersSettings
from tests.fakes.providers.harness import Progress, dead_url
from tests.providers.contract.adapter import Adapter, Fake, tasks_made_by_bot
from tests.providers.contract.conftest import Make
from tests.providers.contract.vendors import every, having, http


@pytest.mark.parametrize("vendor", http())
async def test_without_the_setting_it_needs_it_is_misconfigured(
    vendor: Adapter, fake: Fake, make: Make
) -> None:
    """The registry names the setting still missing, and building the provider without it is
    Misconfigured naming that setting."""
    needs = registry.vendor(vendor.name).needs
    unset = dict.fromkeys(needs)
    missing = registry.missing(vendor.name, ProvidersSettings(**{vendor.name: vendor.settings(fake) | unset}))
    assert missing is not None and missing.startswith(f"providers.{vendor.name}.{needs[0]}")
    with pytest.raises(Misconfigured, match=rf"providers\.{vendor.name}\.{needs[0]}"):
        await make(**unset)


@pytest.mark.parametrize("vendor", having("hang"))
async def test_cancelling_generate_leaves_nothing_running(vendor: Adapter, fake: Fake, make: Make) -> None:
    """generate() cancelled mid-request ends at once: no task of the provider's is left running and no
    response is left open."""
    assert vendor.hang is not None and vendor.started is not None
    built = await make()
    vendor.hang(fake)
    with tasks_made_by_bot() as helpers:
        request = ImageRequest("a lighthouse")
        task = asyncio.create_task(built.provider.generate(request, on_progress=Progress()))
        for _ in range(2000):
            if vendor.started(fake, built.tracker):
                break
            await asyncio.sleep(0.002)
        else:
            raise AssertionError("the request never reached the fake")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 3.0)
        for _ in range(50):  # a cancelled helper may need a few loop turns to finish
            if all(helper.done() for helper in helpers):
                break
            await asyncio.sleep(0.01)
    assert [helper for helper in helpers if not helper.done()] == []
    assert built.tracker.in_flight == 0 and built.tracker.open == 0


@pytest.mark.parametrize("vendor", every())
async def test_check_is_ok_against_the_fake(vendor: Adapter, make: Make) -> None:
    """check() against a working service is ok and says what it saw."""
    health = await (await make()).provider.check()
    assert health.ok and (vendor.healthy or "") in health.detail


@pytest.mark.parametrize("vendor", http())
async def test_check_is_not_ok_when_nothing_listens(vendor: Adapter, make: Make) -> None:
    """check() against a closed port is not ok and says why (it does not raise)."""
    health = await (await make(base_url=dead_url(vendor.dead_path))).provider.check()
    assert not health.ok and vendor.down in health.detail


@pytest.mark.parametrize("vendor", http())
async def test_aclose_leaves_the_apps_client_open(vendor: Adapter, make: Make) -> None:
    """The client belongs to the app: after the provider's aclose() it still works."""
    built = await make()
    await built.provider.aclose()
    assert built.clients and not any(client.is_closed for client in built.clients)


@pytest.mark.parametrize("vendor", having("wrong_key", "check_sees_key"))
async def test_check_is_not_ok_with_a_rejected_key(
    vendor: Adapter, fake: Fake, make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """check() with a key (login, signature) the service rejects is not ok, and shows no secret."""
    assert vendor.wrong_key is not None
    health = await (await make(**vendor.wrong_key(fake, monkeypatch))).provider.check()
    assert not health.ok and vendor.rejection in health.detail
    assert "987654321" not in health.detail and "wrong-login" not in health.detail


@pytest.mark.parametrize("vendor", having("backend_list"))
async def test_a_dead_backend_in_a_base_url_list_is_skipped(vendor: Adapter, fake: Fake, make: Make) -> None:
    """base_url as a list with a dead server first: the same call is made on the live one, and
    check() is ok, naming each backend's state."""
    dead = dead_url(vendor.dead_path)
    provider = (await make(base_url=[dead, fake.base_url])).provider
    [image] = await provider.generate(ImageRequest("a lighthouse"), on_progress=Progress())
    assert image.data == fake.served[-1]
    health = await provider.check()
    assert health.ok and dead in health.detail and "connection refused" in health.detail


@pytest.mark.parametrize("vendor", having("backend_list"))
async def test_check_is_not_ok_when_no_backend_answers(vendor: Adapter, make: Make) -> None:
    """Every backend of the list down: check() is not ok."""
    urls = [dead_url(vendor.dead_path), dead_url(vendor.dead_path)]
    assert not (await (await make(base_url=urls)).provider.check()).ok


@pytest.mark.parametrize("vendor", having("backend_list", "refusals"))
async def test_a_refusal_is_not_tried_on_another_backend(vendor: Adapter, fake: Fake, make: Make) -> None:
    """A refusal from one server of the list is the answer: the other server is not asked."""
    _, refuse = next(iter(vendor.refusals.values()))
    async with vendor.start() as second:
        refuse(fake)
        refuse(second)
        provider = (await make(base_url=[fake.base_url, second.base_url])).provider
        with pytest.raises(Refused):
            await provider.generate(ImageRequest("a lighthouse"), on_progress=Progress())
        assert len(fake.requests) + len(second.requests) == 1
