"""Discord's side of Easel's languages: which language an interaction is in, and the localizations of
the commands: descriptions, option names, choice names and the context-menu command names.

discord.py asks an ``app_commands.Translator`` for every command, option and choice string in every
Discord locale when it syncs the commands; this one answers German for Discord's ``de`` and Spanish for
``es-ES`` and ``es-419`` (Easel's ``de`` and ``es``) and None for what has no translation, so Discord
shows the English text there. Descriptions and choice names come from the gettext catalogues; option
names from :data:`OPTION_NAMES`, a table, because Discord holds them to its naming rules (lowercase,
no spaces, 1-32 characters) and to one more: within a command no two options may share a name in any
locale, nor may a localized name be another option's English one.

Slash command names are never translated (``command_name`` and ``group_name`` answer None):
``/imagine`` is what /help, Telegram, a typed ``@Easel /imagine`` and the README say, and Discord's
picker would show a German user only the German name. Context-menu (message and user) command names
are: they are only ever seen in the menu, nobody types them, Discord allows them mixed case and with
spaces (1-32 characters), and an interaction names the command by its English (default) name
whatever the user's language. discord.py asks for both with ``command_name``; the context's ``data``
is the command object, an ``app_commands.ContextMenu`` for a menu entry.

Option names are seen in the command form alone, and Discord sends the English (default) option names
in an interaction whatever the user's language, so translating them changes nothing the bot reads."""

from __future__ import annotations

from collections.abc import Mapping
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

MENU_NAME_LIMIT = 32
"""Discord's longest context-menu command name; a longer translation leaves the English name."""

_ARGS = {"de": "angaben", "es": "detalles"}
OPTION_NAMES: Mapping[str, Mapping[str, Mapping[str, str]]] = {
    "imagine": {
        "prompt": {"de": "beschreibung", "es": "descripción"},
        "aspect": {"de": "seitenverhältnis", "es": "proporción"},
        "count": {"de": "anzahl", "es": "cantidad"},
        "seed": {"es": "semilla"},  # German says Seed too (its description does)
        "negative": {"de": "vermeiden", "es": "evitar"},
        "model": {"de": "modell", "es": "modelo"},
        "provider": {"de": "anbieter", "es": "proveedor"},
    },
    "edit": {
        "prompt": {"de": "änderung", "es": "cambio"},
        "image": {"de": "bild", "es": "imagen"},
    },
    "history": {"page": {"de": "seite", "es": "página"}},
    "settings": {
        "key": {"de": "einstellung", "es": "ajuste"},
        "value": {"de": "wert", "es": "valor"},
        "scope": {"de": "bereich", "es": "ámbito"},
    },
    "schedule": {"args": _ARGS},
    "birthday": {"args": _ARGS},
}
"""Command (qualified name) → option (its English name) → Easel language → the option's name there.
Names must be lowercase words of letters, digits, ``-``, ``_`` or ``'`` (Discord's naming rules); an
option without an entry keeps its English name in that language."""


def locale_of(interaction: discord.Interaction[Any]) -> str | None:
    """The user's client language if Easel speaks it, else the server's (``guild_locale``), else the
    user's as it is (the core answers in English then)."""
    user = str(interaction.locale) if interaction.locale is not None else None
    if i18n.language_of(user) is not None:
        return user
    guild = str(interaction.guild_locale) if interaction.guild_locale is not None else None
    return guild if i18n.language_of(guild) is not None else user


def option_name(command: str, option: str, language: str) -> str | None:
    """``option``'s name in ``language`` on ``command`` (None: it keeps its English name)."""
    return OPTION_NAMES.get(command, {}).get(option, {}).get(language)


class CommandTranslator(app_commands.Translator):
    """Descriptions, choice names and context-menu command names from the catalogues, option names
    from :data:`OPTION_NAMES`; slash command names are not translated."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        language = i18n.language_of(locale.value)
        if language is None or language == i18n.DEFAULT:
            return None
        if context.location is app_commands.TranslationContextLocation.parameter_name:
            parameter: app_commands.Parameter = context.data
            return option_name(parameter.command.qualified_name, string.message, language)
        if context.location is app_commands.TranslationContextLocation.command_name:
            if not isinstance(context.data, app_commands.ContextMenu):
                return None  # a slash command keeps its English name
            translated = self._catalogue(string.message, language)
            return translated if translated is not None and len(translated) <= MENU_NAME_LIMIT else None
        if context.location not in _TRANSLATED:
            return None
        return self._catalogue(string.message, language)

    @staticmethod
    def _catalogue(message: str, language: str) -> str | None:
        """``message`` in ``language`` from the catalogue, None when it has no translation."""
        with i18n.using(language):
            translated = i18n._(message)
        return translated if translated != message else None
