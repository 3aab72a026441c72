"""Real replicas for the multi-process tests: each is an ``easel run --role ...`` process on one
PostgreSQL database and one Redis (its own key prefix), Telegram in webhook mode against the fake
in this process, images from fake OpenAI-compatible servers in this process.

``Cluster.post`` is the load balancer: it hands each update to the next live gateway and, as a
balancer does when a backend refuses the connection, to the one after it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from bot.storage.db import make_engine
from bot.storage.tables import JobRow
from tests.coordination.redis_env import REDIS_URL
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.platforms.conftest import free_port

SECRET = "replica-secret"
BALANCER_URL = "http://127.0.0.1:9/telegram/hook"
"""What Telegram is told (the balancer's address); the fake posts to each replica's port instead."""
START_TIMEOUT_S = 40.0


@dataclass
class Replica:
    role: str
    process: asyncio.subprocess.Process
    log: Path
    port: int | None
    """The webhook port of a gateway (or ``all``); None for a worker."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram/hook"

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def owns(self, lease_owner: str | None) -> bool:
        """Whether a job's ``lease_owner`` is this process (replica names are host-pid-random)."""
        return lease_owner is not None and f"-{self.process.pid}-" in lease_owner


@dataclass
class Cluster:
    tg: FakeTelegram
    db_url: str
    workdir: Path
    prefix: str
    """The Redis key prefix of this test: the replicas share it, other tests do not."""
    env: dict[str, str] = field(default_factory=dict)
    replicas: list[Replica] = field(default_factory=list)
    _next: int = 0

    def _environ(self, provider_url: str, port: int | None, extra: dict[str, str]) -> dict[str, str]:
        return (
            os.environ
            | {
                "EASEL__DATABASE_URL": self.db_url,
                "EASEL__MEDIA_DIR": str(self.workdir / "media"),
                "EASEL__REDIS_URL": REDIS_URL,
                "EASEL__REDIS_PREFIX": self.prefix,
                "EASEL__LOG_LEVEL": "INFO",
                "EASEL__GENERATION__PROVIDER": "openai-compatible",
                "EASEL__PROVIDERS__OPENAI_COMPATIBLE__BASE_URL": provider_url,
                "EASEL__TELEGRAM__TOKEN": TOKEN,
                "EASEL__TELEGRAM__BASE_URL": self.tg.base_url,
                "EASEL__TELEGRAM__BASE_FILE_URL": self.tg.base_file_url,
                "EASEL__TELEGRAM__MODE": "webhook",
                "EASEL__TELEGRAM__WEBHOOK_URL": BALANCER_URL,
                "EASEL__TELEGRAM__LISTEN": "127.0.0.1",
                "EASEL__TELEGRAM__PORT": str(port or free_port()),
                "EASEL__TELEGRAM__SECRET_TOKEN": SECRET,
                "EASEL__TELEGRAM__STATUS_DELAY_S": "60",
                "EASEL__WEB__ENABLED": "false",
                "EASEL__SCHEDULER__ENABLED": "false",
            }
            | self.env
            | extra
        )

    async def start(self, role: str, provider_url: str, **extra: str) -> Replica:
        """Start one replica and wait until it is ready (a gateway: its webhook port accepts)."""
        port = free_port() if role != "worker" else None
        env = self._environ(provider_url, port, {k.upper(): v for k, v in extra.items()})
        log = self.workdir / f"replica-{len(self.replicas)}-{role}.log"
        with log.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--role", role,
                stdin=asyncio.subprocess.DEVNULL, stdout=sink, stderr=sink, env=env,
            )  # fmt: skip
        replica = Replica(role, process, log, port)
        self.replicas.append(replica)
        await self._ready(replica)
        return replica

    async def _ready(self, replica: Replica) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if not replica.alive:
                raise AssertionError(f"{replica.role} exited: {replica.log.read_text()[-2000:]}")
            text = replica.log.read_text(errors="replace")
            if "easel ready" in text and (replica.port is None or _accepts(replica.port)):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{replica.role} did not start: {replica.log.read_text()[-2000:]}")

    async def terminate(self, replica: Replica) -> None:
        """SIGTERM (what an orchestrator sends) and wait for a clean exit."""
        replica.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(replica.process.wait(), 30)
        assert code == 0, replica.log.read_text()[-2000:]

    async def kill(self, replica: Replica) -> None:
        replica.process.send_signal(signal.SIGKILL)
        await replica.process.wait()

    async def post(self, update: dict[str, Any]) -> int:
        """Deliver one update through the balancer: the next live gateway, else the one after it."""
        gateways = [r for r in self.replicas if r.port is not None and r.alive]
        assert gateways, "no gateway is running"
        for attempt in range(len(gateways)):
            replica = gateways[(self._next + attempt) % len(gateways)]
            with contextlib.suppress(aiohttp.ClientConnectionError):
                status = await self.tg.push_webhook(update, url=replica.url, timeout_s=30)
                self._next += attempt + 1
                return status
        raise AssertionError("no gateway took the update")

    async def post_to(self, replica: Replica, update: dict[str, Any]) -> int:
        return await self.tg.push_webhook(update, url=replica.url, timeout_s=30)

    async def aclose(self) -> None:
        for replica in self.replicas:
            if replica.alive:
                replica.process.send_signal(signal.SIGTERM)
        for replica in self.replicas:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(replica.process.wait(), 30)
            if replica.alive:
                replica.process.kill()
                await replica.process.wait()

    async def until(self, predicate: Callable[[], Any], within_s: float, what: str) -> None:
        """Wait until ``predicate()`` (which may be a coroutine function) is true; fail with the logs."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            result = predicate()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{what} did not happen within {within_s} s\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(f"--- {r.log.name}\n{r.log.read_text()[-3000:]}" for r in self.replicas)


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def jobs(db_url: str) -> list[Any]:
    """Every job row (id, status, attempts, lease owner, chat), oldest first."""
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            columns = (JobRow.id, JobRow.status, JobRow.attempts, JobRow.lease_owner, JobRow.chat_id)
            return list((await conn.execute(select(*columns).order_by(JobRow.id))).all())
    finally:
        await engine.dispose()
