"""What the fake Discord checks in a command sync (``PUT /applications/{app}[/guilds/{g}]/commands``), as
Discord does, answering a violation with 400 Invalid Form Body (50035) and its ``errors`` tree.

From docs.discord.com, Application Commands (naming, localization, the command and option objects):

- ``integration_types`` are the application's install types (0, 1), ``contexts`` 0-2, PRIVATE_CHANNEL (2)
  only with USER_INSTALL (the user-installable-app tutorial); [unv] the exact error paths.
- CHAT_INPUT command names and every option name match ``^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$``
  (unicode) and use the lowercase variant of any letter that has one; USER and MESSAGE command names may
  be mixed case and contain spaces (1-32 characters). Localized names follow the same rules.
- Descriptions (CHAT_INPUT commands, options) 1-100 characters; choice names 1-100.
- ``name_localizations`` / ``description_localizations`` keys come from Discord's locale list only.
- Option names are unique within their options list; a localized option name must also differ from
  every other option's default name and from every other option's name in that locale (an option with
  no entry for a locale is called by its default name there). A localization identical to the option's
  own default name is ignored.

Error codes: ``APPLICATION_COMMAND_INVALID_NAME`` "Command name is invalid" at
``<i>.name_localizations`` for a command's localized name (seen in discord/discord-api-docs#7712, without
the locale), per locale for an option's; ``BASE_TYPE_BAD_LENGTH`` for lengths; [unv] the code, message and
path of a duplicate option name (``APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS``, at the later
option's name or localized name).
"""

from __future__ import annotations

from typing import Any

import regex

from tests.fakes.discord_rest import form_error

SUPPORTED_INSTALLS = (0, 1)
"""The application's ``integration_types_config`` keys: guild and user install."""
LOCALES = frozenset({
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl", "no", "pl",
    "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th", "zh-CN", "ja",
    "zh-TW", "ko",
})  # fmt: skip
"""Discord's locales (https://discord.com/developers/docs/reference#locales): the only keys a
``name_localizations`` or ``description_localizations`` map may have."""
NAME = regex.compile(r"^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$", regex.UNICODE)
CHAT_INPUT = 1
SUBCOMMANDS = (1, 2)
"""Option types SUB_COMMAND and SUB_COMMAND_GROUP: options of their own, no choices."""
INVALID_NAME = ("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
DUPLICATE = ("APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option name already exists")  # [unv]


def is_slash_name(name: object) -> bool:
    """A valid CHAT_INPUT command or option name (localized or not)."""
    return isinstance(name, str) and NAME.match(name) is not None and name == name.lower()


def check_command(index: int, command: dict[str, Any]) -> None:
    """One command of a bulk overwrite (``ApiError`` 50035 on the first violation)."""
    _check_contexts(index, command)
    path = str(index)
    slash = command.get("type", CHAT_INPUT) == CHAT_INPUT
    _check_name(f"{path}.name", command.get("name"), strict=slash)
    for text in _localized(path, command, "name_localizations", 32).values():
        if slash and not is_slash_name(text):
            raise form_error(f"{path}.name_localizations", *INVALID_NAME)
    if slash:
        _check_text(f"{path}.description", command.get("description"), 100)
    _localized(path, command, "description_localizations", 100)
    _check_options(path, command.get("options") or [])


def _check_options(path: str, options: list[dict[str, Any]]) -> None:
    for index, option in enumerate(options):
        here = f"{path}.options.{index}"
        _check_name(f"{here}.name", option.get("name"), strict=True)
        for locale, text in _localized(here, option, "name_localizations", 32).items():
            if not is_slash_name(text):
                raise form_error(f"{here}.name_localizations.{locale}", *INVALID_NAME)
        _check_text(f"{here}.description", option.get("description"), 100)
        _localized(here, option, "description_localizations", 100)
        for number, choice in enumerate(option.get("choices") or []):
            _check_text(f"{here}.choices.{number}.name", choice.get("name"), 100)
            _localized(f"{here}.choices.{number}", choice, "name_localizations", 100)
        if option.get("type") in SUBCOMMANDS:
            _check_options(here, option.get("options") or [])
    _check_unique(path, options)


def _check_unique(path: str, options: list[dict[str, Any]]) -> None:
    """No two options of one list called alike, by default name or in any locale."""
    defaults = [str(o["name"]) for o in options]
    for index, name in enumerate(defaults):
        if name in defaults[:index]:
            raise form_error(f"{path}.options.{index}.name", *DUPLICATE)
    localized = [
        {k: v for k, v in (o.get("name_localizations") or {}).items() if v != o["name"]} for o in options
    ]
    for locale in sorted({k for names in localized for k in names}):
        seen: set[str] = set()
        for index, names in enumerate(localized):
            name = names.get(locale, defaults[index])
            others = defaults[:index] + defaults[index + 1 :]
            if name in seen or (locale in names and name in others):
                where = f"{path}.options.{index}." + (
                    f"name_localizations.{locale}" if locale in names else "name"
                )
                raise form_error(where, *DUPLICATE)
            seen.add(name)


def _check_name(path: str, name: object, *, strict: bool) -> None:
    _check_text(path, name, 32)
    if strict and not is_slash_name(name):
        raise form_error(path, *INVALID_NAME)


def _check_text(path: str, text: object, longest: int) -> None:
    if not isinstance(text, str) or not 1 <= len(text) <= longest:
        raise form_error(path, "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {longest} in length.")


def _localized(path: str, part: dict[str, Any], field: str, longest: int) -> dict[str, str]:
    """``part[field]`` (absent or null: none) with known locale keys and texts 1-``longest`` long."""
    localized = part.get(field)
    if localized is None:
        return {}
    if not isinstance(localized, dict):
        raise form_error(
            f"{path}.{field}", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
        )
    for locale, text in localized.items():
        if locale not in LOCALES:
            raise form_error(
                f"{path}.{field}", "ENUM_TYPE_COERCE", f"Value {locale!r} is not a valid enum value."
            )
        _check_text(f"{path}.{field}.{locale}", text, longest)
    return localized


def _check_contexts(index: int, command: dict[str, Any]) -> None:
    kinds = command.get("integration_types")
    contexts = command.get("contexts")
    if kinds is not None and (not isinstance(kinds, list) or any(k not in SUPPORTED_INSTALLS for k in kinds)):
        raise form_error(f"{index}.integration_types", "ENUM_TYPE_COERCE", f"Value {kinds!r} is not valid.")
    if contexts is not None and (not isinstance(contexts, list) or any(c not in (0, 1, 2) for c in contexts)):
        raise form_error(f"{index}.contexts", "ENUM_TYPE_COERCE", f"Value {contexts!r} is not valid.")
    if contexts and 2 in contexts and 1 not in (kinds or [0]):
        raise form_error(
            f"{index}.contexts", "APPLICATION_COMMAND_INVALID_CONTEXTS",
            "PRIVATE_CHANNEL requires the USER_INSTALL integration type.",
        )  # fmt: skip
