"""A reply sent over the bus to the replica holding its platform (the web chat, from a worker) arrives
as it was sent: a spoiler stays a spoiler, the chat's format and the delivery key come along."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.core.bus import LocalBus
from bot.core.jobs.relay import Relay
from bot.core.types import Reply, Target
from tests.fakes.platform import RecordingPlatform

TARGET = Target("web", "web", user_id="u1")


class JsonBus(LocalBus):
    """A local bus that sends each message through JSON, as Redis and PostgreSQL buses do."""

    async def publish(self, topic: str, message: Mapping[str, Any]) -> None:
        await super().publish(topic, json.loads(json.dumps(message)))


async def relayed(reply: Reply) -> Reply:
    bus, web = JsonBus(), RecordingPlatform()
    Relay({"web": web}, bus=bus, replica="gateway")
    worker = Relay({}, bus=bus, replica="worker", remote=["web"])
    await worker["web"].send(TARGET, reply)
    [received] = web.replies
    return received


async def test_a_spoiler_sent_over_the_bus_is_still_a_spoiler() -> None:
    """Reply(spoiler=True) from a worker reaches the web chat's replica hidden."""
    assert (await relayed(Reply(text="hidden", spoiler=True))).spoiler
    assert not (await relayed(Reply(text="shown"))).spoiler


async def test_the_replys_plain_extras_come_along_and_nothing_else() -> None:
    """The chat's format and the delivery key arrive; a nested value is not carried."""
    extra = {"format": "file", "delivery_key": "job-7", "nested": {"a": 1}}
    assert (await relayed(Reply(text="x", extra=extra))).extra == {"format": "file", "delivery_key": "job-7"}
