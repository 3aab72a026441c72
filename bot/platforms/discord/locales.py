"""Discord's side of Easel's languages: which language an interaction is in, and the localizations of
the slash commands' descriptions (names stay English, so ``/imagine`` is ``/imagine`` everywhere).

discord.py asks an ``app_commands.Translator`` for every command, option and choice string in every
Discord locale when it syncs the commands; this one answers from Easel's catalogues (``de`` for Discord's
``de``, ``es`` for ``es-ES`` and ``es-419``) and None for what has no translation, so Discord shows the
English text there."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.core import i18n

_TRANSLATED = frozenset(
    {
        app_commands.TranslationContextLocation.command_description,
        app_commands.TranslationContextLocation.group_description,
        app_commands.TranslationContextLocation.parameter_description,
        app_commands.TranslationContextLocation.choice_name,
    }
)


def locale_of(interaction: discord.Interaction[Any]) -> str | None:
    """The user's client language if Easel speaks it, else the server's (``guild_locale``), else the
    user's as it is (the core answers in English then)."""
    user = str(interaction.locale) if interaction.locale is not None else None
    if i18n.language_of(user) is not None:
        return user
    guild = str(interaction.guild_locale) if interaction.guild_locale is not None else None
    return guild if i18n.language_of(guild) is not None else user


class CommandTranslator(app_commands.Translator):
    """Descriptions and choice names from the catalogues; command and option names are not translated."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        language = i18n.language_of(locale.value)
        if language is None or language == i18n.DEFAULT or context.location not in _TRANSLATED:
            return None
        with i18n.using(language):
            translated = i18n._(string.message)
        return translated if translated != string.message else None
