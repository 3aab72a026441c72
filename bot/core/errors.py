"""Easel's exception tree.

Third-party errors are converted at the edge that meets them (``raise ... from exc``), so the rest of
the program only ever sees these::

    EaselError                      base; ``user_message`` is safe to show in a chat
    ├── InvalidInput                the user's message cannot be acted on (bad flag, empty prompt, ...)
    ├── NotFound                    a generation, image or job the user named does not exist
    ├── LimitExceeded               a rate, quota or queue limit; ``scope`` and ``retry_after``
    ├── ImageError                  bytes that are not a usable image (unknown type, too large, bomb)
    ├── ConfigError                 settings are invalid or unsafe; names the file, line and key
    ├── StorageError                the database or the media directory failed
    ├── PayloadError                a stored job this version cannot read
    ├── DeliveryFailed              a platform would not take a reply; ``permanent`` if retrying is futile
    └── ProviderError               an image provider failed; ``provider`` names it
        ├── Refused                 content policy (including HTTP-200 refusals); not retried
        ├── InvalidRequest          the provider rejected the request's shape; not retried
        ├── Misconfigured           missing key, unknown model, bad URL; not retried
        └── TransientProviderError  worth a retry or a fallback
            ├── RateLimited         429 and friends; ``retry_after`` seconds when known
            ├── Unavailable         5xx, connection refused, DNS
            └── ProviderTimeout     the attempt or the job ran out of time

The message (``str(exc)``) is for logs and the operator; ``user_message`` is what a chat may see. It is
never the message itself: raised without one, an error shows its class's generic ``default_user_message``.
"""

from __future__ import annotations

from bot.core.i18n import N_, _


class EaselError(Exception):
    """Base of every error Easel raises on purpose."""

    default_user_message = N_("Something went wrong on my side; it has been logged. Please try again.")

    def __init__(self, message: str, *, user_message: str | None = None) -> None:
        super().__init__(message)
        self.user_message = user_message if user_message is not None else _(self.default_user_message)


class InvalidInput(EaselError):
    """The user's request cannot be acted on as written."""

    default_user_message = N_("I can't do that as written. Send /help to see what I can do.")


class NotFound(EaselError):
    """Something the user referred to does not exist."""

    default_user_message = N_("I can't find that here.")


class LimitExceeded(EaselError):
    """A rate, quota or queue limit refused the request; ``retry_after`` says when to try again and
    ``scope`` which limit it was (user, chat, overall, queue, daily)."""

    def __init__(self, message: str, *, scope: str, retry_after: float, user_message: str) -> None:
        super().__init__(message, user_message=user_message)
        self.scope = scope
        self.retry_after = retry_after


class ImageError(EaselError):
    """Bytes that are not a usable image."""

    default_user_message = N_("That file is not an image I can read (PNG, JPEG, WebP or GIF).")


class ConfigError(EaselError):
    """Settings are invalid, incomplete or unsafe."""

    default_user_message = N_("Easel is not configured for that; an admin needs to check its settings.")


class StorageError(EaselError):
    """The database or the media store failed."""

    default_user_message = N_("The history database is unavailable right now; please try again shortly.")


class PayloadError(EaselError):
    """A stored job payload that this version cannot read."""


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

    default_user_message = N_("The image service failed; please try again.")

    def __init__(self, message: str, *, provider: str, user_message: str | None = None) -> None:
        super().__init__(message, user_message=user_message)
        self.provider = provider


class Refused(ProviderError):
    """The provider refused the prompt or image on policy grounds."""


class InvalidRequest(ProviderError):
    """The provider rejected the request as malformed or unsupported."""


class Misconfigured(ProviderError):
    """The provider cannot work with the current settings."""


class TooLarge(ProviderError):
    """The provider's answer, or an image it made, is over what Easel accepts: asking again would get
    the same, so it is not retried (``providers.<name>.max_response_mb`` raises the answer's cap)."""


class TransientProviderError(ProviderError):
    """A failure that may go away: retry later or try another provider."""


class RateLimited(TransientProviderError):
    """The provider asked us to slow down."""

    default_user_message = N_("The image service is busy; try again in a little while.")

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
