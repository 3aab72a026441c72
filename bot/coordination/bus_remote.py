"""The part every cross-replica bus shares: a message published here reaches this replica's handlers
at once (in order, as with the in-process bus) and the other replicas through the transport; a
message coming back from the transport that this replica sent itself is dropped."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from bot.core.bus import MAX_MESSAGE_BYTES, Handler, Subscriptions

log = logging.getLogger(__name__)


class RemoteBus:
    def __init__(self, replica: str) -> None:
        self.replica = replica
        self._subscriptions = Subscriptions()

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._subscriptions.add(topic, handler)

    async def publish(self, topic: str, message: Mapping[str, Any]) -> None:
        await self._subscriptions.dispatch(topic, message)
        payload = json.dumps({"from": self.replica, "topic": topic, "data": dict(message)}, default=str)
        if len(payload.encode()) > MAX_MESSAGE_BYTES:
            log.warning(
                "bus message on %s too large (%d bytes); not sent to other replicas", topic, len(payload)
            )
            return
        try:
            await self._send(payload)
        except Exception:  # best effort: the database says what is owed, a poll finds the rest
            log.exception("publishing on %s failed", topic)

    async def _received(self, payload: str | bytes) -> None:
        try:
            envelope = json.loads(payload)
        except ValueError:
            log.warning("unreadable bus message dropped")
            return
        if not isinstance(envelope, dict) or envelope.get("from") == self.replica:
            return
        data = envelope.get("data")
        if isinstance(data, dict):
            await self._subscriptions.dispatch(str(envelope.get("topic")), data)

    async def _send(self, payload: str) -> None:
        raise NotImplementedError
