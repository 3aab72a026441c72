"""Slash commands and the "Edit image" message command, translated into typed intents (no text round
trip): ``/imagine`` with options becomes ``Generate(prompt, GenerationOptions(...))``, checked by the
same rules as the flags (``bot.core.flags.typed_options``) and again by the core's router.

Options are also checked by Discord (choices, ranges); a value the core refuses is answered privately.
``/schedule`` and ``/birthday`` take their arguments as the words of the chat command.

Every command is registered for both installations (``integration_types`` 0 guild, 1 user) and every
context (``contexts`` 0 guild, 1 DM with the bot, 2 other DMs and group DMs): a user who added Easel to
their account can ``/imagine`` anywhere, answered through the interaction only. ``/schedule`` and
``/birthday`` set up later posts in the channel, so they are not offered in other people's DMs (2) and
are refused in servers Easel was not added to. Discord honours both fields on global commands only
(``discord.guild_ids`` empty).
"""

from __future__ import annotations

from typing import Any, Protocol

import discord
from discord import app_commands

from bot.core import i18n
from bot.core.chat.answers import GUILD_SCOPE
from bot.core.errors import InvalidInput
from bot.core.flags import typed_options
from bot.core.i18n import N_, _
from bot.core.messages import (
    Attachment,
    Cancel,
    Confirm,
    Edit,
    Generate,
    Help,
    History,
    Intent,
    Settings,
    Status,
)
from bot.platforms.discord.locales import locale_of

ASPECTS = ("1:1", "16:9", "9:16", "3:2", "2:3", "4:3", "3:4", "21:9")
MAX_COUNT = 4
MAX_SEED = 2**32 - 1
MAX_CHOICES = 25
EDIT_IMAGE = "Edit image"
SETTINGS_ADMINS_ONLY = N_("Only members with the Manage Server permission can change this server's settings.")


class Runner(Protocol):
    """What the commands need from the adapter."""

    async def run(
        self,
        interaction: discord.Interaction[Any],
        text: str,
        *,
        intent: Intent | None = None,
        ephemeral: bool = False,
        is_admin: bool = False,
        posts_later: bool = False,
    ) -> None: ...

    async def download(
        self, interaction: discord.Interaction[Any], file: discord.Attachment
    ) -> Attachment | None: ...

    async def edit_message_image(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> None: ...

    def provider_names(self) -> list[str]: ...

    def model_names(self) -> list[str]: ...


INSTALLS = app_commands.AppInstallationType(guild=True, user=True)
"""``integration_types`` [0, 1]: added to a server, or to a user's account."""
CONTEXTS = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)
"""``contexts`` [0, 1, 2]: servers, DMs with the bot, and other DMs and group DMs."""
SCOPES = [
    app_commands.Choice(name=N_("this channel"), value="channel"),
    app_commands.Choice(name=N_("this server (every channel's defaults)"), value="server"),
]


def imagine_intent(
    prompt: str,
    *,
    aspect: str | None = None,
    count: int | None = None,
    seed: int | None = None,
    negative: str | None = None,
    model: str | None = None,
    provider: str | None = None,
) -> Generate:
    """``/imagine``'s options as a ``Generate``, each checked as its flag is (``InvalidInput``)."""
    values = {"aspect": aspect, "n": count, "seed": seed, "negative": negative, "model": model}
    values["provider"] = "".join(provider.split()) if provider else None
    return Generate(" ".join(prompt.split()), typed_options(values))


def settings_intent(key: str | None, value: str | None, *, server: bool = False) -> Settings:
    """``/settings``'s options as the chat command's ``Settings``: ``/settings key value``, or for the
    server scope ``/settings guild key value`` (key ``guild``, the rest as its value)."""
    name = "".join(key.split()).lower() if key else None
    words = " ".join(value.split()) if value and name else None
    if not server:
        return Settings(key=name or None, value=words)
    rest = " ".join(p for p in (name, words) if p)
    return Settings(key=GUILD_SCOPE, value=rest or None)


def _choices(names: list[str], typed: str) -> list[app_commands.Choice[str]]:
    typed = typed.lower()
    found = [n for n in names if typed in n.lower()]
    return [app_commands.Choice(name=n[:100], value=n[:100]) for n in found[:MAX_CHOICES]]


def build_tree(client: discord.Client, runner: Runner) -> app_commands.CommandTree[Any]:
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(
        client, allowed_installs=INSTALLS, allowed_contexts=CONTEXTS
    )

    async def providers(interaction: discord.Interaction[Any], typed: str) -> list[app_commands.Choice[str]]:
        return _choices(runner.provider_names(), typed)

    async def models(interaction: discord.Interaction[Any], typed: str) -> list[app_commands.Choice[str]]:
        return _choices(runner.model_names(), typed)

    @tree.command(name="imagine", description=N_("Make an image from a prompt"))
    @app_commands.describe(
        prompt=N_("What to draw"),
        aspect=N_("Aspect ratio"),
        count=N_("How many images (1-4)"),
        seed=N_("Seed, for repeatable results"),
        negative=N_("What to avoid"),
        model=N_("Model (depends on the provider)"),
        provider=N_("Image provider"),
    )
    @app_commands.choices(aspect=[app_commands.Choice(name=a, value=a) for a in ASPECTS])
    @app_commands.autocomplete(model=models, provider=providers)
    async def imagine(
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, 4000],
        aspect: str | None = None,
        count: app_commands.Range[int, 1, MAX_COUNT] | None = None,
        seed: app_commands.Range[int, 0, MAX_SEED] | None = None,
        negative: str | None = None,
        model: str | None = None,
        provider: str | None = None,
    ) -> None:
        try:
            with i18n.using(locale_of(interaction)):  # its refusal is the presser's alone (ephemeral)
                intent = imagine_intent(
                    prompt,
                    aspect=aspect,
                    count=count,
                    seed=seed,
                    negative=negative,
                    model=model,
                    provider=provider,
                )
        except InvalidInput as exc:
            await interaction.response.send_message(exc.user_message, ephemeral=True)
            return
        await runner.run(interaction, f"/imagine {intent.prompt}", intent=intent)

    @tree.command(name="edit", description=N_("Change an image (yours, or the channel's last one)"))
    @app_commands.describe(prompt=N_("How to change it, e.g. make it warmer"), image=N_("The image to edit"))
    async def edit(
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, 4000],
        image: discord.Attachment | None = None,
    ) -> None:
        attachment = None
        if image is not None:
            attachment = await runner.download(interaction, image)
            if attachment is None:
                return
        instruction = " ".join(prompt.split())
        await runner.run(interaction, f"/edit {instruction}", intent=Edit(instruction, reference=attachment))

    @tree.command(name="status", description=N_("Provider, queue and your usage today"))
    async def status(interaction: discord.Interaction[Any]) -> None:
        await runner.run(interaction, "/status", intent=Status(), ephemeral=True)

    @tree.command(name="history", description=N_("What this channel has made"))
    @app_commands.describe(page=N_("Page (newest first)"))
    async def history(
        interaction: discord.Interaction[Any], page: app_commands.Range[int, 1, 100000] = 1
    ) -> None:
        await runner.run(interaction, f"/history {page}", intent=History(page), ephemeral=True)

    @tree.command(
        name="settings", description=N_("This channel's defaults (aspect, n, negative, model, ...)")
    )
    @app_commands.describe(
        key=N_("Setting to change (empty: show them all; 'reset': clear)"),
        value=N_("New value"),
        scope=N_("This channel (default), or this server's defaults under every channel's own"),
    )
    @app_commands.choices(scope=SCOPES)
    @app_commands.default_permissions(manage_guild=True)
    async def settings(
        interaction: discord.Interaction[Any],
        key: str | None = None,
        value: str | None = None,
        scope: str = "channel",
    ) -> None:
        if interaction.guild_id is not None and not interaction.permissions.manage_guild:
            with i18n.using(locale_of(interaction)):
                refusal = _(SETTINGS_ADMINS_ONLY)
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        setting = settings_intent(key, value, server=scope == "server")
        text = " ".join(p for p in ("/settings", setting.key, setting.value) if p)
        await runner.run(interaction, text, intent=setting, ephemeral=True, is_admin=True)

    @tree.command(name="cancel", description=N_("Stop what you asked for that is waiting or running here"))
    async def cancel(interaction: discord.Interaction[Any]) -> None:
        await runner.run(interaction, "/cancel", intent=Cancel(), ephemeral=True)

    @tree.command(name="confirm", description=N_("Go ahead with a request held back for its cost"))
    async def confirm(interaction: discord.Interaction[Any]) -> None:
        await runner.run(interaction, "/confirm", intent=Confirm())

    @tree.command(name="help", description=N_("How to use Easel"))
    async def help_(interaction: discord.Interaction[Any]) -> None:
        await runner.run(interaction, "/help", intent=Help(), ephemeral=True)

    @tree.command(
        name="id", description=N_("Your user id, this channel's and this server's (for Easel's settings)")
    )
    async def id_(interaction: discord.Interaction[Any]) -> None:
        await runner.run(interaction, "/id", ephemeral=True)

    @tree.command(name="schedule", description=N_("Scheduled posts: add, list, remove, pause, resume, run"))
    @app_commands.describe(args=N_("e.g. add daily 09:00 a sunrise over the sea"))
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def schedule(interaction: discord.Interaction[Any], args: str = "") -> None:
        text = f"/schedule {' '.join(args.split())}".strip()
        await runner.run(interaction, text, ephemeral=True, posts_later=True)

    @tree.command(name="birthday", description=N_("Birthday cards: set, list, remove, preview"))
    @app_commands.describe(args=N_("e.g. set 03-14"))
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def birthday(interaction: discord.Interaction[Any], args: str = "") -> None:
        text = f"/birthday {' '.join(args.split())}".strip()
        await runner.run(interaction, text, ephemeral=True, posts_later=True)

    @tree.context_menu(name=EDIT_IMAGE)
    async def edit_image(interaction: discord.Interaction[Any], message: discord.Message) -> None:
        await runner.edit_message_image(interaction, message)

    return tree
