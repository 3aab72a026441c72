"""Google API error envelopes → Easel's provider errors (the Gemini API and anything shaped like it).

Google answers ``{"error": {"code": 429, "message", "status": "RESOURCE_EXHAUSTED", "details": [...]}}``.
The canonical ``status`` says more than the HTTP code, so it is read first::

    RESOURCE_EXHAUSTED (429)          → RateLimited; the wait from details[].retryDelay ("37s"), else
                                        Retry-After; a quota whose limit is 0 (no free tier for the
                                        model) → Misconfigured, waiting will not help
    UNAUTHENTICATED, PERMISSION_DENIED,
    INVALID_ARGUMENT + API_KEY_INVALID → Misconfigured (the key)
    FAILED_PRECONDITION               → Misconfigured (region not served, billing not enabled)
    NOT_FOUND                         → Misconfigured (wrong model or base_url)
    INVALID_ARGUMENT, OUT_OF_RANGE    → InvalidRequest (or Refused when it reads as a policy block)
    UNAVAILABLE, INTERNAL, UNKNOWN    → Unavailable
    DEADLINE_EXCEEDED                 → ProviderTimeout

Anything else falls back to :func:`bot.providers._http.errors.raise_for_response` (by HTTP status).
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from bot.core.errors import InvalidRequest, Misconfigured, ProviderTimeout, RateLimited, Refused, Unavailable
from bot.core.i18n import _
from bot.providers._http.errors import (
    KEY_REJECTED_TEXT,
    NOT_FOUND_TEXT,
    QUOTA_TEXT,
    REFUSED_TEXT,
    TIMEOUT_TEXT,
    UNAVAILABLE_TEXT,
    ErrorInfo,
    busy_text,
    could_not_text,
    raise_for_response,
    refused,
    retry_after_seconds,
    scrub,
)

__all__ = ["raise_for_google", "retry_delay"]

_NO_QUOTA = re.compile(r"\blimit: 0\b")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
_KEY_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED"})
_KEY_TEXT = re.compile(r"API key (?:not valid|expired)", re.IGNORECASE)


def retry_delay(details: object) -> float | None:
    """Seconds from a ``google.rpc.RetryInfo`` detail (``{"retryDelay": "37s"}``), if there is one."""
    if not isinstance(details, list):
        return None
    for detail in details:
        if isinstance(detail, dict) and isinstance(detail.get("retryDelay"), str):
            match = _DURATION.match(detail["retryDelay"])
            if match:
                return float(match.group(1))
    return None


def raise_for_google(response: httpx.Response, *, provider: str) -> None:
    """Return quietly below 400; otherwise raise the ProviderError the Google envelope means."""
    code = response.status_code
    if code < 400:
        return
    error = _envelope(response)
    if error is None:
        raise_for_response(response, provider=provider)
        return
    status = str(error.get("status") or "")
    message = scrub(str(error.get("message") or ""))
    details = error.get("details")
    reasons = (
        {d.get("reason") for d in details if isinstance(d, dict)} if isinstance(details, list) else set()
    )
    where = f"{provider}: HTTP {code} {status}".rstrip()
    said = f": {message}" if message else ""
    if (
        status in ("UNAUTHENTICATED", "PERMISSION_DENIED")
        or reasons & _KEY_REASONS
        or _KEY_TEXT.search(message)
    ):
        raise Misconfigured(
            f"{where}: the API key was rejected{said}", provider=provider, user_message=_(KEY_REJECTED_TEXT)
        )
    if status == "RESOURCE_EXHAUSTED" or code == 429:
        if _NO_QUOTA.search(message):
            raise Misconfigured(
                f"{where}: no quota for this model{said}", provider=provider, user_message=_(QUOTA_TEXT)
            )
        wait = retry_delay(details)
        wait = wait if wait is not None else retry_after_seconds(response.headers)
        raise RateLimited(
            f"{where}: rate limited{said}", provider=provider, retry_after=wait, user_message=busy_text(wait)
        )
    if status == "FAILED_PRECONDITION":
        raise Misconfigured(
            f"{where}: precondition failed{said}",
            provider=provider,
            user_message=_(
                "The image service will not serve this account here (region or billing); an admin needs to "
                "look at it."
            ),
        )
    if status == "NOT_FOUND":
        raise Misconfigured(f"{where}: not found{said}", provider=provider, user_message=_(NOT_FOUND_TEXT))
    if status in ("INVALID_ARGUMENT", "OUT_OF_RANGE"):
        if refused(ErrorInfo(message=message)):
            raise Refused(f"{where}: refused{said}", provider=provider, user_message=_(REFUSED_TEXT))
        raise InvalidRequest(
            f"{where}: request rejected{said}",
            provider=provider,
            user_message=could_not_text(message),
        )
    if status in ("UNAVAILABLE", "INTERNAL", "UNKNOWN", "ABORTED"):
        raise Unavailable(f"{where}: server error{said}", provider=provider, user_message=_(UNAVAILABLE_TEXT))
    if status == "DEADLINE_EXCEEDED":
        raise ProviderTimeout(
            f"{where}: deadline exceeded{said}", provider=provider, user_message=_(TIMEOUT_TEXT)
        )
    raise_for_response(response, provider=provider)


def _envelope(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if isinstance(body, list) and body and isinstance(body[0], dict):  # some Google front ends wrap it
        body = body[0]
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None
