"""What the provider tests share: a progress recorder, an address nobody listens on, one TLS context,
an AWS environment holding only the test credentials, and a builder of keyed providers pointed at a
fake (:func:`keyed_builder`)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from pydantic import SecretStr

from bot.core.ports import Provider
from bot.core.types import Image, ImageRequest
from bot.providers.settings import ProviderSettings

__all__ = ["TLS", "Progress", "aws_credentials", "dead_url", "generate", "keyed_builder"]

P = TypeVar("P")

_AWS_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)

TLS = ssl.create_default_context()
"""One TLS context for every client (building one per client costs ~50 ms; the fakes are plain HTTP)."""


class Progress:
    """An ``on_progress`` callback that records every call."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        """The fractions, in order."""
        self.previews: list[bytes | None] = []
        """The preview sent with each fraction."""

    async def __call__(self, fraction: float, preview: bytes | None) -> None:
        self.calls.append(fraction)
        self.previews.append(preview)


def dead_url(path: str = "") -> str:
    """``http://127.0.0.1:<port><path>`` on a port that was free a moment ago: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def aws_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, access_key: str, secret_key: str
) -> None:
    """Only these credentials in the environment: no region, no profile files, no instance metadata."""
    for name in _AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret_key)


def keyed_builder(
    create: Callable[..., P], *, base_url: str, key: str, client: httpx.AsyncClient
) -> Callable[..., P]:
    """``make_provider(**overrides)``: a provider with an API key (``ProviderSettings``) built by its
    module's ``create`` on ``client``, talking to the fake at ``base_url``; overrides are settings."""

    def build(**overrides: Any) -> P:
        fields: dict[str, Any] = {"base_url": base_url, "api_key": SecretStr(key)} | overrides
        return create(ProviderSettings(**fields), client=client)

    return build


async def generate(provider: Provider, request: ImageRequest) -> list[Image]:
    """``provider.generate`` with a fresh :class:`Progress`."""
    return await provider.generate(request, on_progress=Progress())
