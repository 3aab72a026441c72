"""Easel's exception tree.

Third-party errors are converted at the edge that meets them (``raise ... from exc``), so the rest of
the program only ever sees these::

    EaselError                      base; ``user_message`` is safe to show in a chat
    ├── InvalidInput                the user's message cannot be acted on (bad flag, empty prompt, ...)
    ├── NotFound                    a generation, image or job the user named does not exist
    ├── ImageError                  bytes that are not a usable image (unknown type, too large, bomb)
    ├── ConfigError                 settings are invalid or unsafe; names the file, line and key
    ├── StorageError                the database or the media directory failed
    ├── DeliveryFailed              a platform would not take a reply; ``permanent`` if retrying is futile
    └── ProviderError               an image provider failed; ``provider`` names it
        ├── Refused                 content policy (including HTTP-200 refusals); not retried
        ├── InvalidRequest          the provider rejected the request's shape; not retried
        ├── Misconfigured           missing key, unknown model, bad URL; not retried
        └── TransientProviderError  worth a retry or a fallback
            ├── RateLimited         429 and friends; ``retry_after`` seconds when known
            ├── Unavailable         5xx, connection refused, DNS
            └── ProviderTimeout     the attempt or the job ran out of time
"""

from __future__ import annotations


class EaselError(Exception):
    """Base of every error Easel raises on purpose."""

    def __init__(self, message: str, *, user_message: str | None = None) -> None:
        super().__init__(message)
        self.user_message = user_message if user_message is not None else message


class InvalidInput(EaselError):
    """The user's request cannot be acted on as written."""


class NotFound(EaselError):
    """Something the user referred to does not exist."""


class ImageError(EaselError):
    """Bytes that are not a usable image."""


class ConfigError(EaselError):
    """Settings are invalid, incomplete or unsafe."""


class StorageError(EaselError):
    """The database or the media store failed."""


class DeliveryFailed(EaselError):
    """A platform refused or failed to deliver a reply; ``retry_after`` seconds when it said so."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        user_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, user_message=user_message)
        self.permanent = permanent
        self.retry_after = retry_after


class ProviderError(EaselError):
    """An image provider failed."""

    def __init__(self, message: str, *, provider: str, user_message: str | None = None) -> None:
        super().__init__(message, user_message=user_message)
        self.provider = provider


class Refused(ProviderError):
    """The provider refused the prompt or image on policy grounds."""


class InvalidRequest(ProviderError):
    """The provider rejected the request as malformed or unsupported."""


class Misconfigured(ProviderError):
    """The provider cannot work with the current settings."""


class TransientProviderError(ProviderError):
    """A failure that may go away: retry later or try another provider."""


class RateLimited(TransientProviderError):
    """The provider asked us to slow down."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        retry_after: float | None = None,
        user_message: str | None = None,
    ) -> None:
        super().__init__(message, provider=provider, user_message=user_message)
        self.retry_after = retry_after


class Unavailable(TransientProviderError):
    """The provider could not be reached or answered with a server error."""


class ProviderTimeout(TransientProviderError):
    """The provider did not answer in time."""
