"""AWS Signature Version 4 for httpx requests, done by botocore (never by hand).

Credentials come from botocore's standard chain (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` /
``AWS_SESSION_TOKEN``, ``AWS_PROFILE`` and the shared files, SSO, container and instance roles).
Temporary credentials are refreshed by botocore; each request is signed with a frozen snapshot.

Paths are signed as they are sent: a Bedrock model id such as ``amazon.nova-canvas-v1:0`` travels as
``amazon.nova-canvas-v1%3A0`` and botocore encodes the canonical URI once more (``%253A``), which is
what AWS expects for every service but S3.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError
from botocore.session import get_session

__all__ = ["AwsSigner", "CredentialsUnavailable", "default_region", "find_credentials"]


class CredentialsUnavailable(Exception):
    """No usable AWS credentials (none found, or a profile / SSO / role that cannot be resolved)."""


def find_credentials() -> Any:
    """The chain's credentials object (may refresh itself), or CredentialsUnavailable."""
    try:
        credentials = get_session().get_credentials()
    except BotoCoreError as exc:
        raise CredentialsUnavailable(str(exc)) from exc
    if credentials is None:
        raise CredentialsUnavailable("no AWS credentials found")
    return credentials


def default_region() -> str | None:
    """The region from ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` / the profile, if any."""
    if os.environ.get("AWS_REGION"):  # the other SDKs' variable; botocore reads only AWS_DEFAULT_REGION
        return os.environ["AWS_REGION"]
    try:
        region = get_session().get_config_variable("region")
    except BotoCoreError:
        return None
    return str(region) if region else None


class AwsSigner:
    """Signs requests for one service and region with credentials from the chain."""

    def __init__(self, credentials: Any, *, service: str, region: str) -> None:
        self._credentials = credentials
        self.service = service
        self.region = region

    @property
    def access_key(self) -> str:
        return str(self._credentials.access_key)

    async def headers(
        self, method: str, url: str, *, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """``headers`` plus ``X-Amz-Date``, ``Authorization`` and, for temporary credentials,
        ``X-Amz-Security-Token``. ``url`` must be exactly the URL sent (percent-encoding included)."""
        try:
            frozen = await asyncio.to_thread(self._credentials.get_frozen_credentials)
        except BotoCoreError as exc:  # a refresh (SSO, role) that failed
            raise CredentialsUnavailable(str(exc)) from exc
        request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
        SigV4Auth(frozen, self.service, self.region).add_auth(request)
        return {str(name): str(value) for name, value in request.headers.items()}
