"""A job's answers across replicas: progress to the replica that holds the user's connection, results
sent from wherever the job runs.

A chat request's target names the replica that received it (``Target.extra["gateway"]``): it holds
the Discord interaction, the Telegram status message, the web page's event stream. A job's events
(started, progress, done, failed) go there, through the bus, and that replica shows them. Results and
failure notices are sent by the replica that ran the job, through the platform's API (Telegram,
Discord), so they are delivered and recorded even when the receiving replica is gone; a platform
whose connections only gateways hold (the web chat, in a worker replica) is sent to through the bus.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from bot.core.bus import EventBus, event_from_json, event_to_json, events_topic, platform_topic
from bot.core.errors import DeliveryFailed
from bot.core.jobs.codec import reply_from_json, reply_to_json
from bot.core.ports import Platform
from bot.core.types import JobEvent, Reply, Target

log = logging.getLogger(__name__)
GATEWAY = "gateway"
"""The key of ``Target.extra`` naming the replica that received the request."""


def received_by(target: Target, replica: str) -> Target:
    """The target, marked as received by ``replica`` (where its progress is to be shown)."""
    return Target(
        target.platform,
        target.chat_id,
        user_id=target.user_id,
        reply_to_message_id=target.reply_to_message_id,
        extra={**target.extra, GATEWAY: replica},
        locale=target.locale,
    )


class _Relayed:
    """One platform as a job sees it on this replica."""

    def __init__(self, name: str, relay: Relay) -> None:
        self.name = name
        self._relay = relay

    async def send(self, target: Target, reply: Reply) -> list[str]:
        return await self._relay.send(self.name, target, reply)

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        await self._relay.event(self.name, target, job_id, event)

    async def delete(self, target: Target, message_ids: Sequence[str]) -> None:
        await self._relay.delete(self.name, target, message_ids)


class Relay(Mapping[str, Platform]):
    """The platforms a job may answer on from this replica: those it holds, and ``remote`` ones (held
    by gateways only) reached over the bus. It also shows here what other replicas send to it."""

    def __init__(
        self, local: Mapping[str, Platform], *, bus: EventBus, replica: str, remote: Collection[str] = ()
    ) -> None:
        self._local = local
        self._bus = bus
        self.replica = replica
        self._names = [*local, *(name for name in remote if name not in local)]
        self._platforms = {name: _Relayed(name, self) for name in self._names}
        bus.subscribe(events_topic(replica), self._heard)
        for name in local:
            bus.subscribe(platform_topic(name), self._heard)

    # Mapping
    def __getitem__(self, name: str) -> Platform:
        return self._platforms[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    async def send(self, name: str, target: Target, reply: Reply) -> list[str]:
        local = self._local.get(name)
        if local is not None:
            return await local.send(target, reply)
        message = {"platform": name, "target": target.to_json(), "reply": reply_to_json(reply)}
        await self._bus.publish(self._topic_for(name, target), message)
        return [f"bus:{self.replica}"]

    def _topic_for(self, name: str, target: Target) -> str:
        """The replica that received the request, or (not known) every replica serving ``name``."""
        gateway = target.extra.get(GATEWAY)
        return events_topic(gateway) if isinstance(gateway, str) else platform_topic(name)

    async def event(self, name: str, target: Target, job_id: int, event: JobEvent) -> None:
        gateway = target.extra.get(GATEWAY)
        local = self._local.get(name)
        if local is not None and gateway in (None, self.replica):
            await local.event(target, job_id, event)
            return
        message = {"platform": name, "target": target.to_json(), "job_id": job_id}
        await self._bus.publish(self._topic_for(name, target), {**message, "event": event_to_json(event)})

    async def delete(self, name: str, target: Target, message_ids: Sequence[str]) -> None:
        """Through the platform held here. A platform only gateways hold (the web chat, from a worker)
        is not asked: its sent messages are not removable (the web chat's page drops nothing), and
        the ones that are (Telegram, Discord) are reached from every replica through their APIs."""
        local = self._local.get(name)
        if local is not None:
            await local.delete(target, message_ids)
        else:
            log.debug("%s is not held here: its %d message(s) are left", name, len(message_ids))

    async def _heard(self, message: Mapping[str, Any]) -> None:
        """Another replica's event or reply for a platform held here."""
        local = self._local.get(str(message.get("platform")))
        if local is None:
            return
        try:
            target = Target.from_json(message["target"])
            if "reply" in message:
                await local.send(target, reply_from_json(message["reply"]))
            elif (event := event_from_json(message.get("event") or {})) is not None:
                await local.event(target, int(message["job_id"]), event)
        except DeliveryFailed as exc:
            log.info("a relayed answer for %s was not shown: %s", message.get("platform"), exc)
