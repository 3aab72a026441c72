"""Discord → Easel: slash commands, buttons and the edit form become ``Incoming`` with a typed intent;
messages (mentions, replies) become text for the core's router. Everything a reply needs (interaction
token, channel, upload limit) goes in ``extra``.

Where Easel may only answer (a server that added Easel to a user's account but not Easel itself,
other people's DMs and group DMs: ``reaches_channel`` is false), ``extra["webhook_only"]`` tells the
delivery never to fall back to channel posts; DMs with the bot take plain messages (no mention needed).

Every interaction is answered within Discord's 3 s: by the service's first reply or event (which the
delivery turns into the interaction response), or by a "thinking" deferral when the service takes
longer than ``defer_after_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

import aiohttp
import discord

from bot.core import i18n
from bot.core.chat.buttons import command_text, job_intent
from bot.core.errors import DeliveryFailed, EaselError
from bot.core.front_door import FrontDoor
from bot.core.i18n import N_
from bot.core.messages import Attachment, Edit, Incoming, Intent
from bot.core.ports import Clock
from bot.core.types import Action
from bot.platforms.discord import render
from bot.platforms.discord.delivery import DEFAULT_FILESIZE_LIMIT, PLATFORM, DiscordDelivery
from bot.platforms.discord.errors import MISSING_PERMISSIONS, attempt
from bot.platforms.discord.locales import locale_of
from bot.platforms.discord.settings import DiscordSettings
from bot.platforms.discord.views import EditModal

log = logging.getLogger(__name__)
DEFER_AFTER_S = 1.5
"""Acknowledge (thinking) when the service has not answered by then: Discord's deadline is 3 s."""
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
NOT_ALLOWED = N_("Sorry, this bot is private here.")
NOT_READY = N_("I'm still starting up; try again in a few seconds.")
RESTARTING = N_("I'm restarting; try again in a few seconds.")
NO_IMAGE = N_("That message has no image I can edit.")
NO_CHANNEL_POSTS = N_(
    "I can only answer commands here (I'm on your account, not in this server), so I can't post "
    "scheduled images or birthday cards here. Use it in a server that added Easel, or in a DM with me."
)
TOO_LARGE = N_("That image is too large for me (20 MB at most).")
NOT_AN_IMAGE = N_("That file is not an image (PNG, JPEG, WebP or GIF).")
DOWNLOAD_FAILED = N_("I couldn't download that image from Discord; please try again.")
"""These are answered ephemerally in the presser's language (:func:`tell`)."""
_MENTION = re.compile(r"<@!?([0-9]+)>")


class DiscordInbound:
    """Implements :class:`bot.platforms.discord.commands.Runner` and handles button presses and messages.

    ``Incoming.is_admin`` follows the adapters' convention: members with Manage Server, and anyone in a DM.
    """

    def __init__(
        self,
        settings: DiscordSettings,
        client: discord.Client,
        delivery: DiscordDelivery,
        *,
        clock: Clock,
        defer_after_s: float = DEFER_AFTER_S,
    ) -> None:
        self._settings = settings
        self._client = client
        self._delivery = delivery
        self._clock = clock
        self.defer_after_s = defer_after_s
        self.front: FrontDoor | None = None
        self.accepting = True
        """False once the adapter stops: new commands are told to come back, messages are ignored."""

    # --------------------------------------------------------------------------- interactions in

    async def run(
        self,
        interaction: discord.Interaction[Any],
        text: str,
        *,
        intent: Intent | None = None,
        ephemeral: bool = False,
        is_admin: bool = False,
        posts_later: bool = False,
    ) -> None:
        """Hand a command to the service as text; make sure Discord is answered within 3 s.
        ``posts_later``: it sets up posts in the channel, refused where Easel can only answer."""
        if not await self._admit(interaction):
            return
        if posts_later and not reaches_channel(interaction):
            await tell(interaction, NO_CHANNEL_POSTS)
            return
        if not ephemeral and not self._can_post_images(interaction):
            await tell(interaction, MISSING_PERMISSIONS)
            return
        assert self.front is not None
        incoming = self._incoming(interaction, text, intent=intent, is_admin=is_admin)
        self._delivery.track(interaction, ephemeral=ephemeral)
        try:
            handling = asyncio.create_task(self._handle(incoming))
            done, _ = await asyncio.wait({handling}, timeout=self.defer_after_s)
            if not done:
                with contextlib.suppress(DeliveryFailed):
                    await self._delivery.defer_if_silent(interaction.token)
            await handling
            with contextlib.suppress(DeliveryFailed):
                await self._delivery.finish(interaction.token)
        finally:
            self._delivery.forget(interaction.token)

    def _incoming(
        self,
        interaction: discord.Interaction[Any],
        text: str,
        *,
        intent: Intent | None = None,
        is_admin: bool = False,
    ) -> Incoming:
        channel_id = interaction.channel_id or interaction.user.id
        extra: dict[str, Any] = {
            "token": interaction.token,
            "interaction_id": str(interaction.id),
            "channel_id": str(channel_id),
            "issued_at": self._clock.now().timestamp(),
            "filesize_limit": interaction.filesize_limit,
        }
        if interaction.guild_id is not None:
            extra["guild_id"] = str(interaction.guild_id)
        if not reaches_channel(interaction):
            extra["webhook_only"] = True
        return Incoming(
            platform=PLATFORM,
            chat_id=str(channel_id),
            user_id=str(interaction.user.id),
            text=text,
            display_name=interaction.user.display_name,
            message_id=f"i{interaction.id}",  # the idempotency key: one job per interaction
            is_admin=is_admin or interaction.guild_id is None or interaction.permissions.manage_guild,
            locale=locale_of(interaction),
            extra=extra,
            intent=intent,
            guild_id=str(interaction.guild_id) if interaction.guild_id is not None else None,
        )

    async def _handle(self, incoming: Incoming) -> None:
        assert self.front is not None
        try:
            await self.front.handle(incoming)
        except DeliveryFailed as exc:  # the answer itself could not be sent
            log.info("discord: could not answer in %s: %s", incoming.chat_id, exc)

    async def _admit(self, interaction: discord.Interaction[Any]) -> bool:
        if self.front is None or not self.accepting:
            await tell(interaction, NOT_READY if self.accepting else RESTARTING)
            return False
        if not self._allowed(interaction.guild_id, interaction.channel_id, interaction.user.id):
            await tell(interaction, NOT_ALLOWED)
            return False
        return True

    async def download(
        self, interaction: discord.Interaction[Any], file: discord.Attachment
    ) -> Attachment | None:
        """An attachment's bytes, or None after telling the user why not (ephemeral)."""
        problem = None
        if file.size > MAX_DOWNLOAD_BYTES:
            problem = TOO_LARGE
        elif file.content_type is not None and not file.content_type.startswith("image/"):
            problem = NOT_AN_IMAGE
        if problem is None:
            try:
                return Attachment(data=await file.read(), filename=file.filename, mime=file.content_type)
            except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
                log.warning("discord: downloading %s failed: %s", file.url, exc)
                problem = DOWNLOAD_FAILED
        await tell(interaction, problem)
        return None

    async def on_button(self, interaction: discord.Interaction[Any], button: render.Button) -> None:
        if not await self._admit(interaction):
            return
        generation, image = button.generation_id, button.image
        intent = job_intent(button)
        match button.action:
            case Action.REROLL | Action.VARY | Action.UPSCALE if intent is not None:
                await self.run(interaction, command_text(button), intent=intent)
            case Action.EDIT:

                async def submit(modal_interaction: discord.Interaction[Any], instruction: str) -> None:
                    words = " ".join(instruction.split())
                    edit = Edit(words, generation_id=generation, image=image)
                    await self.run(modal_interaction, f"{command_text(button)} {words}", intent=edit)

                await interaction.response.send_modal(
                    EditModal(custom_id=f"easel:edit:{interaction.id}", submit=submit, image=image)
                )
            case Action.DELETE:
                await self._delete(interaction, button)

    async def _delete(self, interaction: discord.Interaction[Any], button: render.Button) -> None:
        """The core decides from the database whose image it is and which messages showed it; the
        custom id only names the generation."""
        assert self.front is not None
        # Manage Messages is who Discord itself lets delete other members' messages
        incoming = self._incoming(
            interaction,
            f"/delete #{button.generation_id}",
            is_admin=interaction.permissions.manage_messages,
        )
        try:
            deletion = await self.front.authorize_delete(incoming, button.generation_id)
        except EaselError as exc:
            await interaction.response.send_message(exc.user_message, ephemeral=True)
            return
        await interaction.response.defer()  # a component's deferred update: nothing shown
        if not reaches_channel(interaction):  # no channel access: delete the pressed message itself
            await attempt(interaction.delete_original_response())
            return
        for target, message_ids in deletion.messages:
            await self._delivery.delete(target, list(message_ids))

    async def edit_message_image(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        """The "Edit image" message command: ask how (a modal), then edit that image."""
        if not await self._admit(interaction):
            return
        me = self._client.user
        generation = render.generation_of(message) if me is not None and message.author.id == me.id else None
        image = next((a for a in message.attachments if (a.content_type or "").startswith("image/")), None)
        if generation is None and image is None:
            await tell(interaction, NO_IMAGE)
            return

        async def submit(modal_interaction: discord.Interaction[Any], instruction: str) -> None:
            words = " ".join(instruction.split())
            if generation is not None:
                await self.run(
                    modal_interaction,
                    f"/edit #{generation} {words}",
                    intent=Edit(words, generation_id=generation),
                )
                return
            assert image is not None
            attachment = await self.download(modal_interaction, image)
            if attachment is not None:
                await self.run(modal_interaction, f"/edit {words}", intent=Edit(words, reference=attachment))

        with i18n.using(locale_of(interaction)):  # the form in the presser's language
            modal = EditModal(custom_id=f"easel:edit:{interaction.id}", submit=submit)
        await interaction.response.send_modal(modal)

    # ------------------------------------------------------------------------------- messages in

    async def on_message(self, message: discord.Message) -> None:
        """A mention with text works like /imagine; a reply to one of the bot's images edits it; in
        a DM with the bot every message is for it (Discord sends DM content without the Message
        Content intent)."""
        me = self._client.user
        if self.front is None or me is None or message.author.bot or message.webhook_id is not None:
            return
        if not self.accepting:
            return
        replied = message.reference.resolved if message.reference is not None else None
        generation = None
        if isinstance(replied, discord.Message) and replied.author.id == me.id:
            generation = render.generation_of(replied)
        mentioned = message.guild is None or any(user.id == me.id for user in message.mentions)
        if not (mentioned or generation is not None):
            return
        if not self._allowed(
            message.guild.id if message.guild else None, message.channel.id, message.author.id
        ):
            return
        text = " ".join(_MENTION.sub(lambda m: "" if int(m[1]) == me.id else m[0], message.content).split())
        image = next((a for a in message.attachments if (a.content_type or "").startswith("image/")), None)
        attachments: tuple[Attachment, ...] = ()
        if image is not None and image.size <= MAX_DOWNLOAD_BYTES:
            with contextlib.suppress(discord.HTTPException, aiohttp.ClientError, OSError):
                attachments = (
                    Attachment(data=await image.read(), filename=image.filename, mime=image.content_type),
                )
        if generation is None and not text.startswith("/"):
            text = f"/edit {text}" if attachments else f"/imagine {text}" if text else "/help"
        limit = message.guild.filesize_limit if message.guild is not None else DEFAULT_FILESIZE_LIMIT
        incoming = Incoming(
            platform=PLATFORM,
            chat_id=str(message.channel.id),
            user_id=str(message.author.id),
            text=text,
            display_name=message.author.display_name,
            message_id=str(message.id),
            reply_to_message_id=str(replied.id) if isinstance(replied, discord.Message) else None,
            reply_to_generation_id=generation,
            attachments=attachments,
            is_admin=not isinstance(message.author, discord.Member)
            or message.author.guild_permissions.manage_guild,
            extra={
                "channel_id": str(message.channel.id),
                "reply_to": str(message.id),
                "filesize_limit": limit,
            },
            guild_id=str(message.guild.id) if message.guild is not None else None,
        )
        await self._handle(incoming)

    # ------------------------------------------------------------------------------------ helpers

    def provider_names(self) -> list[str]:
        return self.front.provider_names() if self.front is not None else []

    def model_names(self) -> list[str]:
        return self.front.model_names() if self.front is not None else []

    @staticmethod
    def _can_post_images(interaction: discord.Interaction[Any]) -> bool:
        """Whether the bot may show a result here (checked before any work is queued)."""
        if interaction.guild_id is None:
            return True
        mine = interaction.app_permissions
        return mine.attach_files and mine.embed_links

    def _allowed(self, guild_id: int | None, channel_id: int | None, user_id: int) -> bool:
        s = self._settings
        return (
            (not s.allowed_users or user_id in s.allowed_users)
            and (not s.allowed_guilds or guild_id in s.allowed_guilds)
            and (not s.allowed_channels or channel_id in s.allowed_channels)
        )


def reaches_channel(interaction: discord.Interaction[Any]) -> bool:
    """Whether Easel may post in the interaction's channel, not only answer the interaction: a DM
    with the bot, or a server that added Easel itself (``authorizing_integration_owners`` has the
    guild install, key 0). Only the user install (key 1: a server that did not add Easel, other
    people's DMs, group DMs) allows the interaction's response and follow-ups only. An interaction
    without the owners map (an older payload) is taken as the guild install it then was."""
    if interaction.context.dm_channel:
        return True
    owners: dict[int, int] = getattr(interaction, "_integration_owners", {})
    if not owners:
        return True
    return interaction.guild_id is not None and interaction.is_guild_integration()


async def tell(interaction: discord.Interaction[Any], text: str) -> None:
    """Answer the interaction ephemerally with ``text`` (an ``N_`` constant) in the presser's language."""
    with i18n.using(locale_of(interaction)):
        translated = i18n._(text)
    await interaction.response.send_message(translated, ephemeral=True)
