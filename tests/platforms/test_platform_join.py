"""A platform whose servers do not answer at start (issue 18 item 12): Easel starts without it, the web
chat serves meanwhile, and the platform joins when its servers answer; a refused token still stops
the start. The servers are the Telegram and Discord fakes behind a port that refuses connections
until it is opened."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tenacity import wait_fixed

from bot.app import Easel, build_adapters, serve
from bot.core.errors import ConfigError
from bot.platforms.base import PlatformUnreachable
from bot.platforms.web.adapter import WebAdapter
from bot.settings import AppSettings, load_settings
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_world import GUILD
from tests.fakes.discord_world import TOKEN as DISCORD_TOKEN
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.platforms.conftest import CHAT, USER, free_port

QUICK = wait_fixed(0.2)


class LatePort:
    """A loopback port that refuses connections until :meth:`open`, then forwards them to ``target``."""

    def __init__(self, target: int) -> None:
        self.port = free_port()
        self._target = target
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        for writer in self._writers:
            writer.close()
            with contextlib.suppress(OSError, RuntimeError):
                await writer.wait_closed()
        if self._server is not None:
            await self._server.wait_closed()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target)
        self._writers.append(up_writer)
        pipes = {asyncio.create_task(_copy(reader, up_writer)), asyncio.create_task(_copy(up_reader, writer))}
        self._pipes |= pipes
        await asyncio.gather(*pipes, return_exceptions=True)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


def _port_of(origin: str) -> int:
    return int(origin.rsplit(":", 1)[1])


def _settings(tmp_path: Path, db_url: str, platform: dict[str, str]) -> AppSettings:
    return load_settings(
        None,
        environ={
            "EASEL__DATABASE_URL": db_url,
            "EASEL__MEDIA_DIR": str(tmp_path / "media"),
            "EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "160",
            "EASEL__WEB__PORT": "0",
            "EASEL__WEB__SECRET_FILE": str(tmp_path / "web_secret"),
        }
        | platform,
    )


@contextlib.asynccontextmanager
async def _serving(settings: AppSettings) -> AsyncIterator[tuple[Easel, str]]:
    """``serve`` with every configured platform (and the web chat); yields once it is ready, with the
    web chat's URL."""
    adapters = build_adapters(settings)
    web = next(a for a in adapters if isinstance(a, WebAdapter))
    stop = asyncio.Event()
    ready: asyncio.Future[Easel] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(settings, stop=stop, on_ready=ready.set_result, adapters=adapters, join_wait=QUICK)
    )
    done, _ = await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    assert ready in done, "Easel did not start"
    try:
        yield ready.result(), web.url
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def _web_is_up(url: str) -> bool:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{url}healthz")).status_code == 200


async def test_unreachable_telegram_joins_when_it_answers(tmp_path: Path, db_url: str) -> None:
    """Telegram down at start: the web chat runs; once the Bot API answers, the bot polls and answers."""
    async with FakeTelegram() as tg:
        late = LatePort(_port_of(tg.origin))
        origin = f"http://127.0.0.1:{late.port}"
        settings = _settings(tmp_path, db_url, {
            "EASEL__TELEGRAM__TOKEN": TOKEN,
            "EASEL__TELEGRAM__BASE_URL": f"{origin}/bot",
            "EASEL__TELEGRAM__BASE_FILE_URL": f"{origin}/file/bot",
        })  # fmt: skip
        try:
            async with _serving(settings) as (_, url):
                assert await _web_is_up(url)
                assert tg.calls == []
                await late.open()
                await tg.wait_for(lambda: tg.calls_to("getUpdates"), 20)
                tg.say(CHAT, USER, "/imagine a red fox")
                await tg.wait_for(lambda: tg.photos(CHAT), 30)
        finally:
            await late.close()


async def test_unreachable_discord_joins_when_it_answers(tmp_path: Path, db_url: str) -> None:
    """Discord down at start: the web chat runs; once the API answers, the bot logs in, connects, answers."""
    async with FakeDiscord() as dc:
        late = LatePort(_port_of(dc.origin))
        settings = _settings(tmp_path, db_url, {
            "EASEL__DISCORD__TOKEN": DISCORD_TOKEN,
            "EASEL__DISCORD__API_BASE_URL": f"http://127.0.0.1:{late.port}/api/v10",
            "EASEL__DISCORD__GATEWAY_URL": f"ws://127.0.0.1:{late.port}/gateway",
            "EASEL__DISCORD__GUILD_IDS": f"[{GUILD}]",
        })  # fmt: skip
        try:
            async with _serving(settings) as (_, url):
                assert await _web_is_up(url)
                assert dc.calls == []
                await late.open()
                await dc.wait_for(lambda: dc.ready, 30)
                it = dc.slash("imagine", {"prompt": "a red fox"})
                await dc.wait_for(lambda: (m := dc.original(it)) is not None and m["attachments"], 30)
        finally:
            await late.close()
        assert not dc.errors, dc.errors


async def test_a_refused_telegram_token_still_stops_the_start(tmp_path: Path, db_url: str) -> None:
    """A token the Bot API refuses (401) is a ConfigError at start, not a platform tried again."""
    async with FakeTelegram(token="someone-elses:token") as tg:
        settings = _settings(tmp_path, db_url, {
            "EASEL__TELEGRAM__TOKEN": TOKEN,
            "EASEL__TELEGRAM__BASE_URL": tg.base_url,
            "EASEL__TELEGRAM__BASE_FILE_URL": tg.base_file_url,
        })  # fmt: skip
        with pytest.raises(ConfigError, match=r"rejected telegram\.token") as caught:
            await asyncio.wait_for(serve(settings, stop=asyncio.Event(), join_wait=QUICK), 30)
    assert not isinstance(caught.value, PlatformUnreachable)


async def test_a_token_refused_once_reachable_ends_the_tries(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram reachable only later, and refusing the token then: the tries end, logged; the web runs."""
    async with FakeTelegram(token="someone-elses:token") as tg:
        late = LatePort(_port_of(tg.origin))
        origin = f"http://127.0.0.1:{late.port}"
        settings = _settings(tmp_path, db_url, {
            "EASEL__TELEGRAM__TOKEN": TOKEN,
            "EASEL__TELEGRAM__BASE_URL": f"{origin}/bot",
            "EASEL__TELEGRAM__BASE_FILE_URL": f"{origin}/file/bot",
        })  # fmt: skip
        try:
            with caplog.at_level(logging.WARNING, logger="bot.app"):
                async with _serving(settings) as (_, url):
                    await late.open()
                    for _ in range(100):
                        if "could not be started" in caplog.text:
                            break
                        await asyncio.sleep(0.1)
                    getmes = len(tg.calls)
                    await asyncio.sleep(0.6)  # three more waits between tries: none is made
                    assert await _web_is_up(url)
                    assert len(tg.calls) == getmes
        finally:
            await late.close()
    assert "telegram could not be started" in caplog.text and "rejected telegram.token" in caplog.text
