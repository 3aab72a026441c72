"""httpx outcomes → Easel's provider errors, in one place for every HTTP provider.

Two edges meet httpx: the transport (no answer at all) and the answer (a status and a body)::

    with transport_errors(provider="openai"):          # TimeoutException → ProviderTimeout,
        response = await client.post(url, json=body)   # connect/network/protocol → Unavailable
    raise_for_response(response, provider="openai")    # 4xx/5xx → the matching ProviderError

Status mapping: 429 → ``RateLimited`` (``Retry-After`` / ``retry-after-ms``; ``insufficient_quota`` is
``Misconfigured``, waiting will not help) · 408 → ``ProviderTimeout`` · 409, 5xx → ``Unavailable`` ·
401/402/403 → ``Misconfigured`` · 404 → ``Misconfigured`` (wrong base_url or model) · other 4xx →
``InvalidRequest``, except content-policy refusals (matched on the error code or message, whatever the
status) → ``Refused``. An answer over ``max_response_mb`` (:mod:`bot.providers._http.limits`) →
``TooLarge`` (not retried). Provider messages are shortened and scrubbed (:func:`scrub`) of every configured
secret, whatever it looks like, of URL passwords, and of anything else that looks like a key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from bot.core.errors import (
    InvalidRequest,
    Misconfigured,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    Refused,
    TooLarge,
    Unavailable,
)
from bot.core.i18n import N_, _
from bot.observability.redaction import redact
from bot.providers._http.limits import ResponseTooLarge

__all__ = [
    "KEY_REJECTED_TEXT",
    "NOT_FOUND_TEXT",
    "QUOTA_TEXT",
    "REFUSAL_CODES",
    "REFUSED_TEXT",
    "TIMEOUT_TEXT",
    "TOO_LARGE_TEXT",
    "UNAVAILABLE_TEXT",
    "ErrorInfo",
    "busy_text",
    "could_not_text",
    "describe_transport_error",
    "error_info",
    "error_info_from",
    "raise_for_response",
    "refused",
    "retry_after_seconds",
    "scrub",
    "transport_errors",
]

REFUSAL_CODES = frozenset({"content_policy_violation", "moderation_blocked", "content_moderation"})
"""Error codes that mean "refused on policy grounds" (OpenAI GPT image, dall-e, Stability)."""

_REFUSAL_TEXT = re.compile(
    r"safety system|content[ _]policy|moderation[ _]blocked|content[ _]moderation|safety[ _]violation",
    re.IGNORECASE,
)
_SECRET = re.compile(
    r"(?i)\b(?:bearer\s+\S+|(?:sk|pk|rk|xai|r8|key)[-_][A-Za-z0-9*._\-]{4,}|AIza[A-Za-z0-9_\-]{10,})"
)
_MAX_MESSAGE = 300

REFUSED_TEXT = N_("The image service refused this prompt (content policy).")
UNAVAILABLE_TEXT = N_("The image service is unavailable right now; please try again in a little while.")
TIMEOUT_TEXT = N_("The image service took too long to answer.")
KEY_REJECTED_TEXT = N_(
    "The image service rejected the bot's API key; an admin needs to check the configuration."
)
NOT_FOUND_TEXT = N_(
    "The image service does not know that address or model; an admin needs to check base_url/model."
)
QUOTA_TEXT = N_("The image service account is out of credit or quota; an admin needs to look at it.")
TOO_LARGE_TEXT = N_("The image service sent back an answer too large to handle.")


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """What an error body says, from whichever common envelope it uses."""

    message: str = ""
    code: str | None = None
    type: str | None = None
    param: str | None = None


def scrub(text: str, *, limit: int = _MAX_MESSAGE) -> str:
    """``text`` on one line, shortened, with every configured secret (exactly, also URL-encoded),
    URL passwords and anything else that looks like an API key or token masked."""
    flat = " ".join(_SECRET.sub("***", redact(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_info(response: httpx.Response) -> ErrorInfo:
    """Read the error envelope: OpenAI ``{"error": {...}}``, ``{"error": str}``, ``{"detail"}``, ..."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text if "html" not in response.headers.get("content-type", "") else ""
        return ErrorInfo(message=scrub(text) or response.reason_phrase)
    return error_info_from(body)


def error_info_from(body: Any) -> ErrorInfo:
    """:func:`error_info` for an already decoded body (also for errors inside an HTTP 200)."""
    if not isinstance(body, dict):
        return ErrorInfo(message=scrub(str(body)))
    error = body.get("error")
    if isinstance(error, dict):
        return ErrorInfo(
            message=scrub(str(error.get("message") or "")),
            code=_str_or_none(error.get("code")),
            type=_str_or_none(error.get("type")),
            param=_str_or_none(error.get("param")),
        )
    detail = body.get("detail") or body.get("message") or body.get("title")
    if isinstance(error, str):  # A1111 {"error": ExcType, "detail": ...}; xAI {"code", "error"}
        return ErrorInfo(message=scrub(str(detail or error)), code=_str_or_none(body.get("code")), type=error)
    if detail is None and isinstance(body.get("errors"), list):  # Stability {"name", "errors": [...]}
        detail = "; ".join(str(item) for item in body["errors"])
    return ErrorInfo(
        message=scrub(str(detail or "")), code=_str_or_none(body.get("code") or body.get("name"))
    )


def refused(info: ErrorInfo) -> bool:
    """Whether an error body is a content-policy refusal (by code first, then by wording)."""
    if info.code in REFUSAL_CODES or info.type == "image_generation_user_error":
        return True
    return bool(_REFUSAL_TEXT.search(info.message))


def retry_after_seconds(headers: httpx.Headers, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, else ``Retry-After`` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def raise_for_response(response: httpx.Response, *, provider: str) -> None:
    """Return quietly for 1xx-3xx; otherwise raise the :class:`ProviderError` the status means.

    The body must have been read (it is, unless the response was streamed).
    """
    status = response.status_code
    if status < 400:
        return
    info = error_info(response)
    said = f": {info.message}" if info.message else ""
    where = f"{provider}: HTTP {status}"
    if 400 <= status < 500 and refused(info):
        raise Refused(
            f"{where}: refused (content policy){said}", provider=provider, user_message=_(REFUSED_TEXT)
        )
    if status == 429:
        if info.code == "insufficient_quota":
            raise Misconfigured(f"{where}: out of quota{said}", provider=provider, user_message=_(QUOTA_TEXT))
        retry_after = retry_after_seconds(response.headers)
        raise RateLimited(
            f"{where}: rate limited{said}",
            provider=provider,
            retry_after=retry_after,
            user_message=busy_text(retry_after),
        )
    if status == 408:
        raise ProviderTimeout(
            f"{where}: request timeout{said}", provider=provider, user_message=_(TIMEOUT_TEXT)
        )
    if status == 409 or status >= 500:
        raise Unavailable(f"{where}: server error{said}", provider=provider, user_message=_(UNAVAILABLE_TEXT))
    if status in (401, 403):
        raise Misconfigured(
            f"{where}: the API key was rejected{said}", provider=provider, user_message=_(KEY_REJECTED_TEXT)
        )
    if status == 402:
        raise Misconfigured(f"{where}: payment required{said}", provider=provider, user_message=_(QUOTA_TEXT))
    if status == 404:
        raise Misconfigured(
            f"{where}: not found (wrong base_url or model?){said}",
            provider=provider,
            user_message=_(NOT_FOUND_TEXT),
        )
    raise InvalidRequest(
        f"{where}: request rejected{said}",
        provider=provider,
        user_message=could_not_text(info.message),
    )


def busy_text(retry_after: float | None) -> str:
    """The user message for a rate limit, with the wait when the provider said it."""
    if retry_after is None:
        return _("The image service is busy; please try again in a minute.")
    return _("The image service is busy; try again in about {seconds} s.").format(
        seconds=max(1, round(retry_after))
    )


def could_not_text(said: str | None) -> str:
    """The user message for a request the provider rejected: its own words (as the API gave them,
    shortened and scrubbed) inside a translated sentence."""
    if not said:
        return _("The image service could not do that.")
    return _("The image service could not do that: {reason}").format(reason=scrub(said, limit=160))


def describe_transport_error(exc: httpx.HTTPError) -> str:
    """A short reason for an httpx error without a response: ``connection refused``, ``timed out``, ..."""
    text = str(exc)
    if isinstance(exc, httpx.TimeoutException):
        kind = {
            httpx.ConnectTimeout: "connect",
            httpx.ReadTimeout: "read",
            httpx.WriteTimeout: "write",
            httpx.PoolTimeout: "pool",
        }.get(type(exc), "")
        return f"timed out ({kind})" if kind else "timed out"
    if isinstance(exc, httpx.ConnectError):
        if "refused" in text.lower() or "all connection attempts failed" in text.lower():
            return "connection refused"
        return scrub(f"cannot connect: {text}" if text else "cannot connect")
    if isinstance(exc, httpx.RemoteProtocolError):
        return scrub(f"connection dropped: {text}" if text else "connection dropped")
    return scrub(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


@contextmanager
def transport_errors(*, provider: str, url: str | None = None) -> Iterator[None]:
    """Convert httpx's transport errors raised inside the block (``raise ... from exc``).

    A connect timeout counts as ``Unavailable`` (nothing was sent; another backend may answer) and
    every other timeout as ``ProviderTimeout``. A URL httpx cannot use is ``Misconfigured``; an
    answer over the size limit is ``Unavailable``.
    """
    prefix = f"{provider}: {redact(url)}: " if url else f"{provider}: "
    try:
        yield
    except ProviderError:
        raise
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise Misconfigured(
            f"{prefix}unusable URL: {scrub(str(exc))}",
            provider=provider,
            user_message=_("The image service address is not a valid http(s) URL; an admin needs to fix it."),
        ) from exc
    except ResponseTooLarge as exc:
        raise TooLarge(
            f"{prefix}{exc} (providers.{provider}.max_response_mb)",
            provider=provider,
            user_message=_(TOO_LARGE_TEXT),
        ) from exc
    except httpx.ConnectTimeout as exc:
        reason = describe_transport_error(exc)
        raise Unavailable(prefix + reason, provider=provider, user_message=_(UNAVAILABLE_TEXT)) from exc
    except httpx.TimeoutException as exc:
        reason = describe_transport_error(exc)
        raise ProviderTimeout(prefix + reason, provider=provider, user_message=_(TIMEOUT_TEXT)) from exc
    except (httpx.TransportError, httpx.DecodingError) as exc:  # connect, network, protocol, proxy
        reason = describe_transport_error(exc)
        raise Unavailable(prefix + reason, provider=provider, user_message=_(UNAVAILABLE_TEXT)) from exc


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)
