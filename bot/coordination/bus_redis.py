"""The bus over Redis pub/sub (``redis_url``): one channel per installation, every replica subscribed."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis

from bot.coordination.bus_remote import RemoteBus

log = logging.getLogger(__name__)


class RedisBus(RemoteBus):
    def __init__(self, redis_url: str, *, replica: str, channel: str = "easel:bus") -> None:
        super().__init__(replica)
        self._redis: Redis = Redis.from_url(redis_url)
        self.channel = channel
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self.channel)
        self._reader = asyncio.create_task(self._read(pubsub), name="easel-bus-redis")

    async def _read(self, pubsub: object) -> None:
        from redis.asyncio.client import PubSub

        assert isinstance(pubsub, PubSub)
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    await self._received(message["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]  # unannotated before redis 8.2

    async def _send(self, payload: str) -> None:
        await self._redis.publish(self.channel, payload)

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        await self._redis.aclose()
