"""What the provider tests share: a progress recorder, an address nobody listens on, one TLS context."""

from __future__ import annotations

import socket
import ssl

__all__ = ["TLS", "Progress", "dead_url"]

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
