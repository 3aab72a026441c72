"""A running Easel Discord bot (the real discord.py and the real core, wired as ``bot.app.serve`` does)
against :class:`tests.fakes.discord.FakeDiscord`."""

from __future__ import annotations

import asyncio
import contextlib
import io
import warnings
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image as PILImage

from bot.app import Easel, serve
from bot.core.ports import Provider
from bot.settings import AppSettings, load_settings
from tests.fakes.clock import FixedClock
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_world import GUILD, TOKEN, Interaction

if TYPE_CHECKING:
    from bot.platforms.discord.adapter import DiscordAdapter

with warnings.catch_warnings():  # discord.py imports audioop (deprecated) for voice, which Easel never uses
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401


@dataclass
class RunningDiscord:
    dc: FakeDiscord
    easel: Easel
    adapter: DiscordAdapter
    clock: FixedClock
    settings: AppSettings

    async def result_of(self, interaction: Interaction, *, within_s: float = 15.0) -> dict[str, Any]:
        """The interaction's original response once it carries attachments."""
        dc = self.dc
        await dc.wait_for(lambda: (m := dc.original(interaction)) is not None and m["attachments"], within_s)
        message = dc.original(interaction)
        assert message is not None
        return message


def picture(data: bytes) -> PILImage.Image:
    img = PILImage.open(io.BytesIO(data))
    img.load()
    return img


def env_for(dc: FakeDiscord, tmp_path: Path, db_url: str) -> dict[str, str]:
    return {
        "EASEL__DATABASE_URL": db_url,
        "EASEL__MEDIA_DIR": str(tmp_path / "media"),
        "EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "160",
        "EASEL__LIMITS__USER_RATE": "1000/minute",
        "EASEL__LIMITS__CHAT_RATE": "1000/minute",
        "EASEL__LIMITS__GLOBAL_RATE": "1000/minute",
        "EASEL__DISCORD__TOKEN": TOKEN,
        "EASEL__DISCORD__API_BASE_URL": dc.api_base_url,
        "EASEL__DISCORD__GATEWAY_URL": dc.gateway_url,
        "EASEL__DISCORD__GUILD_IDS": f"[{GUILD}]",
    }


@asynccontextmanager
async def running_discord(
    tmp_path: Path,
    db_url: str,
    *,
    env: Mapping[str, str] | None = None,
    providers: list[Provider] | None = None,
    dc: FakeDiscord | None = None,
) -> AsyncIterator[RunningDiscord]:
    """``bot.app.serve`` with just this Discord adapter (an injected clock, a short guild wait), against
    a new fake or, to restart a bot, against ``dc``."""
    async with contextlib.AsyncExitStack() as stack:
        if dc is None:
            dc = await stack.enter_async_context(FakeDiscord())
        yield await stack.enter_async_context(_serving(dc, tmp_path, db_url, env, providers))
    assert not dc.errors, dc.errors


@asynccontextmanager
async def _serving(
    dc: FakeDiscord,
    tmp_path: Path,
    db_url: str,
    env: Mapping[str, str] | None,
    providers: list[Provider] | None,
) -> AsyncIterator[RunningDiscord]:
    from bot.platforms.discord.adapter import DiscordAdapter

    settings = load_settings(None, environ=env_for(dc, tmp_path, db_url) | dict(env or {}))
    clock = FixedClock()
    adapter = DiscordAdapter(settings.discord, clock=clock, guild_ready_timeout=0.05)
    stop = asyncio.Event()
    ready: asyncio.Future[Easel] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            settings,
            stop=stop,
            on_ready=ready.set_result,
            providers_override=providers,
            adapters=[adapter],
        )
    )
    done, _ = await asyncio.wait({task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # start-up failed: show why
    assert ready in done, "the bot did not start"
    try:
        yield RunningDiscord(dc, ready.result(), adapter, clock, settings)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
