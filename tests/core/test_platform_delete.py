"""``Platform.delete`` through the wrappers a job and the chat service see: the relay (a platform held
here) and a platform still joining."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from bot.app import _Joining
from bot.core.bus import LocalBus
from bot.core.errors import DeliveryFailed
from bot.core.jobs.relay import Relay
from bot.core.types import Target
from tests.fakes.platform import RecordingPlatform

TARGET = Target("test", "c1", user_id="u1")


class Deleting(RecordingPlatform):
    """A recording platform that also keeps what it was asked to delete (and can be an adapter)."""

    def __init__(self) -> None:
        super().__init__()
        self.deleted: list[tuple[str, list[str]]] = []
        self.username = None

    async def delete(self, target: Target, message_ids: Sequence[str]) -> None:
        self.deleted.append((target.chat_id, list(message_ids)))

    async def initialize(self) -> None:
        return None


class Published(LocalBus):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, Mapping[str, Any]]] = []

    async def publish(self, topic: str, message: Mapping[str, Any]) -> None:
        self.published.append((topic, message))


async def test_relay_deletes_through_the_platform_held_here() -> None:
    """A delete for a local platform reaches it with the target and ids."""
    local = Deleting()
    relay = Relay({"test": local}, bus=LocalBus(), replica="r1")
    await relay["test"].delete(TARGET, ["5", "6"])
    assert local.deleted == [("c1", ["5", "6"])]


async def test_relay_leaves_a_remote_platforms_messages() -> None:
    """A platform only other replicas hold is not asked (nothing is published for it)."""
    bus = Published()
    relay = Relay({}, bus=bus, replica="worker", remote=["web"])
    await relay["web"].delete(TARGET, ["5"])
    assert bus.published == []


async def test_a_joining_platform_refuses_deletes_until_it_joined() -> None:
    """Before its servers answered, a delete is a transient DeliveryFailed; after, it is passed on."""
    adapter = Deleting()
    joining = _Joining(adapter)  # type: ignore[arg-type]
    with pytest.raises(DeliveryFailed):
        await joining.delete(TARGET, ["1"])
    joined = _Joining(adapter, initialized=True)  # type: ignore[arg-type]
    await joined.delete(TARGET, ["1"])
    assert adapter.deleted == [("c1", ["1"])]
