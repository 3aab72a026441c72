"""httpx outcomes become Easel's provider errors: statuses, envelopes, Retry-After, transport failures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.core.errors import (
    InvalidRequest,
    Misconfigured,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    Refused,
    Unavailable,
)
from bot.providers._http.errors import (
    error_info,
    raise_for_response,
    retry_after_seconds,
    scrub,
    transport_errors,
)

PROVIDER = "openai"


def response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("POST", "http://127.0.0.1:9/v1/images/generations")
    if body is None:
        return httpx.Response(status, headers=headers, request=request)
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def envelope(message: str, *, code: str | None = None, type: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": None, "code": code}}


def raised(resp: httpx.Response) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        raise_for_response(resp, provider=PROVIDER)
    return info.value


@pytest.mark.parametrize("status", [200, 201, 204, 302])
def test_success_and_redirect_statuses_pass(status: int) -> None:
    """Below 400 nothing is raised."""
    raise_for_response(response(status), provider=PROVIDER)


def test_429_with_retry_after_seconds_is_rate_limited() -> None:
    """429 + Retry-After: 7 → RateLimited(retry_after=7) with a friendly 'about 7 s'."""
    exc = raised(response(429, envelope("slow down", code="rate_limit_exceeded"), {"Retry-After": "7"}))
    assert isinstance(exc, RateLimited) and exc.retry_after == 7.0
    assert exc.provider == PROVIDER
    assert exc.user_message == "The image service is busy; try again in about 7 s."


def test_retry_after_ms_wins_over_retry_after() -> None:
    """retry-after-ms is more precise and is read first, as openai-python does."""
    headers = httpx.Headers({"retry-after-ms": "1500", "retry-after": "9"})
    assert retry_after_seconds(headers) == 1.5


def test_retry_after_http_date_is_seconds_from_now() -> None:
    """An HTTP-date Retry-After becomes the seconds between now and then."""
    now = datetime(2026, 11, 21, 9, 0, 0, tzinfo=UTC)
    headers = httpx.Headers({"retry-after": "Sat, 21 Nov 2026 09:00:30 GMT"})
    assert retry_after_seconds(headers, now=now) == 30.0


def test_retry_after_in_the_past_or_garbage() -> None:
    """A date in the past is 0 s; an unreadable value is unknown (None)."""
    now = datetime(2026, 11, 21, 9, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(httpx.Headers({"retry-after": "Sat, 21 Nov 2026 08:00:00 GMT"}), now=now) == 0
    assert retry_after_seconds(httpx.Headers({"retry-after": "soon"})) is None


def test_429_without_retry_after_has_unknown_wait() -> None:
    """No header: retry_after is None and the user is told to try in a minute."""
    exc = raised(response(429, envelope("slow down")))
    assert isinstance(exc, RateLimited) and exc.retry_after is None
    assert "in a minute" in exc.user_message


def test_429_insufficient_quota_is_misconfigured() -> None:
    """Out of quota will not heal by waiting: Misconfigured, not RateLimited."""
    exc = raised(response(429, envelope("You exceeded your current quota", code="insufficient_quota")))
    assert isinstance(exc, Misconfigured)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 529, 599, 409])
def test_server_errors_are_unavailable(status: int) -> None:
    """5xx (and 409, which OpenAI also retries) → Unavailable."""
    exc = raised(response(status, envelope("The server had an error", type="server_error")))
    assert isinstance(exc, Unavailable)
    assert "try again" in exc.user_message


def test_408_is_a_timeout() -> None:
    """408 Request Timeout → ProviderTimeout."""
    assert isinstance(raised(response(408, "")), ProviderTimeout)


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_key_is_misconfigured(status: int) -> None:
    """401/403 → Misconfigured saying the API key was rejected."""
    exc = raised(response(status, envelope("Incorrect API key provided", code="invalid_api_key")))
    assert isinstance(exc, Misconfigured)
    assert "API key was rejected" in str(exc) and "Incorrect API key provided" in str(exc)


def test_api_key_echoed_by_the_provider_is_scrubbed() -> None:
    """A (masked or not) key echoed in the provider's message never reaches our messages."""
    exc = raised(response(401, envelope("Incorrect API key provided: sk-proj-abc123secretXYZ. See docs.")))
    assert "sk-proj" not in str(exc) and "secretXYZ" not in str(exc)
    assert "sk-" not in exc.user_message


def test_404_is_misconfigured_base_url_or_model() -> None:
    """404 → Misconfigured (wrong base_url or model)."""
    exc = raised(response(404, envelope("The model 'nope' does not exist", code="model_not_found")))
    assert isinstance(exc, Misconfigured) and "base_url" in str(exc)


@pytest.mark.parametrize("status", [400, 413, 422])
def test_bad_request_is_invalid_request_with_provider_message(status: int) -> None:
    """400/413/422 → InvalidRequest carrying the provider's message for the user."""
    exc = raised(response(status, envelope("Invalid value: '1000x1000'. Supported values are: ...")))
    assert isinstance(exc, InvalidRequest)
    assert "1000x1000" in str(exc) and "1000x1000" in exc.user_message


@pytest.mark.parametrize(
    ("code", "type_"),
    [
        ("moderation_blocked", "image_generation_user_error"),
        ("content_policy_violation", "invalid_request_error"),
    ],
)
def test_content_policy_400_is_refused(code: str, type_: str) -> None:
    """OpenAI's GPT-image and dall-e refusal envelopes → Refused with the friendly text."""
    exc = raised(
        response(400, envelope("Your request was rejected by the safety system.", code=code, type=type_))
    )
    assert isinstance(exc, Refused)
    assert exc.user_message == "The image service refused this prompt (content policy)."


def test_refusal_wording_without_code_from_a_proxy_is_refused() -> None:
    """Proxies may use other statuses and drop the code: the wording still counts."""
    exc = raised(response(403, {"error": {"message": "Rejected by our content policy", "code": 403}}))
    assert isinstance(exc, Refused)


def test_html_error_page_uses_the_reason_phrase() -> None:
    """A non-JSON HTML body does not leak markup into the message."""
    resp = httpx.Response(
        502,
        content=b"<html><body>Bad gateway</body></html>",
        headers={"content-type": "text/html"},
        request=httpx.Request("GET", "http://x"),
    )
    exc = raised(resp)
    assert isinstance(exc, Unavailable) and "<html>" not in str(exc) and "Bad Gateway" in str(exc)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"error": "HTTPException", "detail": "Sampler not found"}, "Sampler not found"),
        ({"detail": "Input validation failed"}, "Input validation failed"),
        ({"code": "invalid-argument", "error": "bad size"}, "bad size"),
        ({"name": "bad_request", "errors": ["prompt is required"]}, "prompt is required"),
        ({"message": "Malformed input request"}, "Malformed input request"),
    ],
)
def test_error_info_reads_common_envelopes(body: dict[str, Any], message: str) -> None:
    """A1111, FastAPI/Replicate, xAI, Stability and Bedrock error shapes yield their message."""
    assert error_info(response(400, body)).message == message


def test_scrub_masks_bearer_tokens_and_shortens() -> None:
    """Authorization values and long text are cut down."""
    assert "abc" not in scrub("header was Bearer abc.def.ghi")
    assert len(scrub("x" * 1000, limit=50)) == 50


def test_read_timeout_becomes_provider_timeout_from_the_httpx_error() -> None:
    """httpx.ReadTimeout → ProviderTimeout, chained with ``from``."""
    cause = httpx.ReadTimeout("timed out")
    with pytest.raises(ProviderTimeout) as info, transport_errors(provider=PROVIDER, url="http://a/v1/x"):
        raise cause
    assert info.value.__cause__ is cause and "http://a/v1/x" in str(info.value)


def test_connect_timeout_counts_as_unavailable() -> None:
    """Nothing was sent on a connect timeout: another backend may answer, so it is Unavailable."""
    with pytest.raises(Unavailable), transport_errors(provider=PROVIDER):
        raise httpx.ConnectTimeout("connect timed out")


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ReadError("reset by peer"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
def test_network_failures_become_unavailable(error: httpx.HTTPError) -> None:
    """Connect, network and protocol errors → Unavailable, chained with ``from``."""
    with pytest.raises(Unavailable) as info, transport_errors(provider=PROVIDER):
        raise error
    assert info.value.__cause__ is error


def test_connection_refused_is_described_plainly() -> None:
    """The message says 'connection refused', ready for easel doctor."""
    with pytest.raises(Unavailable, match="connection refused"), transport_errors(provider=PROVIDER):
        raise httpx.ConnectError("[Errno 111] Connection refused")


def test_unusable_url_is_misconfigured() -> None:
    """A base_url without http(s) is a configuration problem, not an outage."""
    with pytest.raises(Misconfigured), transport_errors(provider=PROVIDER):
        raise httpx.UnsupportedProtocol("Request URL is missing an 'http://' or 'https://' protocol.")


def test_provider_errors_pass_through_unchanged() -> None:
    """Our own errors raised inside the block are not re-wrapped."""
    original = Refused("no", provider=PROVIDER)
    with pytest.raises(Refused) as info, transport_errors(provider=PROVIDER):
        raise original
    assert info.value is original
