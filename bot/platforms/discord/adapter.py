"""The Discord adapter: discord.py's client, its slash commands, buttons and modals, and the Platform
for replies.

Lifecycle (``bot.app.serve`` drives it): ``initialize()`` (points discord.py at ``api_base_url`` /
``gateway_url``, logs in over REST: the bot user and the application id) → ``attach(easel)`` →
``start()`` (registers the persistent buttons, syncs the commands to ``guild_ids`` or globally, connects
the gateway: one connection, or with ``shard_count`` an ``AutoShardedClient`` over ``shard_ids``) →
``stop()`` → ``shutdown()``. An adapter that is only initialized (a worker replica) still sends: the
replies go over REST, an interaction's through its token. Commands live in :mod:`.discord_commands`,
what users do in :mod:`.discord_inbound`, buttons and the modal in :mod:`.discord_views`, rendering in
:mod:`.discord_render`, sending in :mod:`.discord_delivery`, endpoints in :mod:`.discord_http`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bot.core.clock import SystemClock
from bot.core.errors import ConfigError, DeliveryFailed
from bot.core.front_door import FrontDoor
from bot.core.ports import Clock
from bot.core.types import JobEvent, Reply, Target
from bot.platforms.base import PlatformUnreachable
from bot.platforms.discord.commands import build_tree
from bot.platforms.discord.delivery import PLATFORM, DiscordDelivery
from bot.platforms.discord.http import Endpoints
from bot.platforms.discord.inbound import DEFER_AFTER_S, DiscordInbound
from bot.platforms.discord.locales import CommandTranslator
from bot.platforms.discord.settings import DiscordSettings
from bot.platforms.discord.views import EaselClient, EaselShardedClient, ResultButton, apologise

log = logging.getLogger(__name__)


class DiscordAdapter:
    """The ``discord`` platform. It is the :class:`bot.core.ports.Platform` the core sends through."""

    name = PLATFORM

    def __init__(
        self,
        settings: DiscordSettings,
        *,
        clock: Clock | None = None,
        guild_ready_timeout: float = 2.0,
        ready_timeout_s: float = 30.0,
        defer_after_s: float = DEFER_AFTER_S,
    ) -> None:
        if settings.token is None:
            raise ConfigError("discord.token is not set")
        self._settings = settings
        self._ready_timeout_s = ready_timeout_s
        # Easel never joins voice: no "PyNaCl/davey is not installed" warnings at every start
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        intents = discord.Intents.none()
        intents.guilds = intents.guild_messages = intents.dm_messages = True
        options: dict[str, Any] = {
            "intents": intents,
            "guild_ready_timeout": guild_ready_timeout,
            "allowed_mentions": discord.AllowedMentions(everyone=False, roles=False, users=True),
        }
        if settings.shard_count is None:
            self.client: EaselClient = EaselClient(**options)
        else:
            shards = settings.shard_ids or list(range(settings.shard_count))
            self.client = EaselShardedClient(shard_count=settings.shard_count, shard_ids=shards, **options)
        clock = clock or SystemClock()
        self.delivery = DiscordDelivery(self.client, clock=clock)
        self.inbound = DiscordInbound(
            settings, self.client, self.delivery, clock=clock, defer_after_s=defer_after_s
        )
        self.client.button_handler = self.inbound
        self.client.message_handler = self.inbound.on_message
        self.tree = build_tree(self.client, self.inbound)
        self.tree.error(self._on_command_error)
        self._endpoints = Endpoints(settings.api_base_url, settings.gateway_url)
        self._gateway: asyncio.Task[None] | None = None

    @property
    def username(self) -> str | None:
        """Discord commands are structured: the router needs no "@name" suffix."""
        return None

    # ---------------------------------------------------------------------------------- lifecycle

    async def initialize(self) -> None:
        """Log in over REST (the bot user, the application id); ConfigError for a bad token or URL,
        PlatformUnreachable for an API that does not answer (called again, it tries again)."""
        assert self._settings.token is not None
        if self.client.user is not None:
            return  # logged in already (start is being tried again)
        self._endpoints.apply()
        try:
            await self.client.login(self._settings.token.get_secret_value())
        except discord.LoginFailure as exc:
            raise ConfigError("Discord rejected discord.token (401 Unauthorized)") from exc
        except (aiohttp.ClientError, OSError, discord.DiscordServerError) as exc:
            await self._forget_login()
            raise PlatformUnreachable(
                f"Cannot reach the Discord API at {self._settings.api_base_url}: {exc}"
            ) from exc
        except discord.HTTPException as exc:
            raise ConfigError(f"The Discord API at {self._settings.api_base_url} refused: {exc}") from exc
        log.info("discord: logged in as %s (application %s)", self.client.user, self.client.application_id)

    async def _forget_login(self) -> None:
        """Undo a login that could not reach Discord, so the next one starts clean: discord.py opens
        a new HTTP session on every login (closing its connector with the old one)."""
        await self.client.http.close()
        self.client.http.connector = discord.utils.MISSING
        self._endpoints.restore()

    def attach(self, front: FrontDoor) -> None:
        self.inbound.front = front
        self.delivery.record = front.generation

    async def start(self) -> None:
        """Register the persistent buttons, sync the commands, connect the gateway (wait for READY:
        every shard's, when sharded)."""
        self.client.add_dynamic_items(ResultButton)
        await self.tree.set_translator(CommandTranslator())  # descriptions in de and es (bot.core.i18n)
        await self._sync_commands()
        if isinstance(self.client, EaselShardedClient):
            await self._check_session_starts(self.client)
        self._gateway = asyncio.create_task(self.client.connect(reconnect=True), name="discord-gateway")
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait({self._gateway, ready}, timeout=self._ready_timeout_s,
                                     return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        if self._gateway in done:
            ready.cancel()
            exc = self._gateway.exception()
            raise ConfigError(f"Cannot connect to the Discord gateway at {self._settings.gateway_url}: {exc}")
        if ready not in done:
            ready.cancel()
            log.warning("discord: the gateway is not ready after %.0f s; going on", self._ready_timeout_s)
        log.info("discord: connected as %s", self.client.user)

    async def _check_session_starts(self, client: EaselShardedClient) -> None:
        """Each shard starts a gateway session, and Discord allows only so many a day
        (``session_start_limit``): refuse to start rather than have the token reset. Also learn how
        many shards may identify at once (``max_concurrency``)."""
        shards = len(client.shard_ids or ())
        try:
            limits = await client.fetch_session_start_limits()
        except (discord.GatewayNotFound, discord.HTTPException) as exc:
            raise ConfigError(f"Cannot ask Discord for its gateway (GET /gateway/bot): {exc}") from exc
        if limits.remaining < shards:
            hours = limits.reset_after / 3_600_000
            raise ConfigError(
                f"Discord allows {limits.remaining} more gateway session start(s) in the next "
                f"{hours:.1f} h (session_start_limit), and this replica's {shards} shard(s) need one each"
            )
        client.max_concurrency = limits.max_concurrency
        log.info("discord: shards %s of %s (%d may identify at once)",
                 list(client.shard_ids or ()), client.shard_count, limits.max_concurrency)  # fmt: skip

    async def _sync_commands(self) -> None:
        try:
            if self._settings.guild_ids:
                for guild_id in self._settings.guild_ids:
                    guild = discord.Object(id=guild_id)
                    self.tree.copy_global_to(guild=guild)
                    await self.tree.sync(guild=guild)
            else:
                await self.tree.sync()
        except discord.Forbidden as exc:
            log.warning("discord: cannot register slash commands (%s); invite the bot with the "
                        "applications.commands scope", exc)  # fmt: skip
        except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            log.warning("discord: registering slash commands failed: %s", exc)

    async def stop(self) -> None:
        """Take no new commands (they are told Easel is restarting); the connection stays up so running
        jobs can still deliver until ``shutdown``."""
        self.inbound.accepting = False

    async def shutdown(self) -> None:
        try:
            if not self.client.is_closed():
                await self.client.close()
            if self._gateway is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(self._gateway, 10)
                self._gateway = None
        finally:
            self._endpoints.restore()

    # ----------------------------------------------------------------------------------- Platform

    async def send(self, target: Target, reply: Reply) -> list[str]:
        try:
            return await self.delivery.send(target, reply)
        except DeliveryFailed as exc:
            await self.delivery.tell_forbidden(target, exc)
            raise

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        """Progress is best effort: a status that cannot be shown never stops the job."""
        try:
            await self.delivery.event(target, job_id, event)
        except DeliveryFailed as exc:
            await self.delivery.tell_forbidden(target, exc)
            log.info("discord: progress of job %s not shown: %s", job_id, exc)

    async def delete(self, target: Target, message_ids: Sequence[str]) -> None:
        """The bot's messages in the target's channel (without channel access, as a user-installed
        app in a server that has not added the bot, they stay)."""
        await self.delivery.delete(target, list(message_ids))

    async def _on_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """Log with the traceback, then tell the user (ephemeral) something went wrong."""
        log.error(
            "discord command %s failed", interaction.command and interaction.command.name, exc_info=error
        )
        await apologise(interaction)
