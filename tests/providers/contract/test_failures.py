"""The provider contract, failures: each way a vendor fails becomes the one error the chain expects."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.errors import Misconfigured, ProviderError, ProviderTimeout, RateLimited, Refused, Unavailable
from bot.core.types import ImageRequest
from bot.providers._http.errors import REFUSED_TEXT, TIMEOUT_TEXT, UNAVAILABLE_TEXT, busy_text
from tests.fakes.providers.harness import Progress, dead_url
from tests.providers.contract.adapter import Adapter, Fake
from tests.providers.contract.conftest import Make
from tests.providers.contract.vendors import having, http, refusals


async def fails(make: Make, expected: type[ProviderError], **overrides: Any) -> ProviderError:
    """Generate one image, which must fail with ``expected``; the error names the provider and has a
    user message of its own (never the operator's text)."""
    provider = (await make(**overrides)).provider
    with pytest.raises(expected) as info:
        await provider.generate(ImageRequest("a lighthouse"), on_progress=Progress())
    error = info.value
    assert error.provider == provider.name
    assert error.user_message and error.user_message != str(error)
    return error


@pytest.mark.parametrize(("vendor", "way"), refusals())
async def test_a_refusal_is_refused(vendor: Adapter, way: str, fake: Fake, make: Make) -> None:
    """Each way the vendor refuses a prompt (an error status, or inside an HTTP 200) → Refused: the
    operator's message names the reason, the user gets the content-policy text (or the vendor's own)."""
    says, refuse = vendor.refusals[way]
    refuse(fake)
    error = await fails(make, Refused)
    assert says in str(error)
    if way in vendor.own_refusal_text:
        assert "refused this prompt" in error.user_message
    else:
        assert error.user_message == REFUSED_TEXT


@pytest.mark.parametrize("vendor", having("rate_limit"))
async def test_a_rate_limit_says_when_to_retry(vendor: Adapter, fake: Fake, make: Make) -> None:
    """429 (or the vendor's throttling) saying 7 s → RateLimited(retry_after=7), telling the user."""
    assert vendor.rate_limit is not None
    vendor.rate_limit(fake, 7)
    error = await fails(make, RateLimited)
    assert isinstance(error, RateLimited) and error.retry_after == 7.0
    assert "HTTP 429" in str(error) and error.user_message == busy_text(7.0)


@pytest.mark.parametrize("status", [500, 503])
@pytest.mark.parametrize("vendor", having("outage"))
async def test_a_server_error_is_unavailable(vendor: Adapter, status: int, fake: Fake, make: Make) -> None:
    """500 and 503 with the vendor's own error body → Unavailable, saying which status it was."""
    assert vendor.outage is not None
    vendor.outage(fake, status)
    error = await fails(make, Unavailable)
    assert f"HTTP {status}" in str(error) and error.user_message == UNAVAILABLE_TEXT


@pytest.mark.parametrize("vendor", having("malformed"))
async def test_an_answer_that_is_not_json_is_unavailable(vendor: Adapter, fake: Fake, make: Make) -> None:
    """An HTTP 200 whose body is not JSON (a broken proxy in between) → Unavailable."""
    assert vendor.malformed is not None
    vendor.malformed(fake)
    error = await fails(make, Unavailable)
    assert "not JSON" in str(error) and error.user_message == UNAVAILABLE_TEXT


@pytest.mark.parametrize("vendor", having("hang"))
async def test_a_server_slower_than_timeout_s_is_a_timeout(vendor: Adapter, fake: Fake, make: Make) -> None:
    """No answer within providers.<name>.timeout_s → ProviderTimeout."""
    assert vendor.hang is not None
    vendor.hang(fake)
    error = await fails(make, ProviderTimeout, timeout_s=0.2)
    assert error.user_message == TIMEOUT_TEXT


@pytest.mark.parametrize("vendor", having("wrong_key"))
async def test_a_rejected_key_is_misconfigured(
    vendor: Adapter, fake: Fake, make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong key (login, signature) → Misconfigured asking an admin to fix it, repeating the wrong
    secret nowhere."""
    assert vendor.wrong_key is not None
    error = await fails(make, Misconfigured, **vendor.wrong_key(fake, monkeypatch))
    assert vendor.rejection in str(error) and vendor.key_rejected in error.user_message
    shown = f"{error} {error.user_message}"
    assert "987654321" not in shown and "wrong-login" not in shown


@pytest.mark.parametrize("vendor", http())
async def test_a_closed_port_is_unavailable(vendor: Adapter, make: Make) -> None:
    """Nobody listening at base_url → Unavailable, saying the connection was refused."""
    error = await fails(make, Unavailable, base_url=dead_url(vendor.dead_path))
    assert "connection refused" in str(error) and error.user_message == UNAVAILABLE_TEXT
