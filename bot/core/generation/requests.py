"""Turning intents, chat settings and stored generations into ``ImageRequest``s."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.content.policy import moderation_for, policy_of
from bot.core.errors import InvalidInput
from bot.core.flags import MAX_SEED, clip, parse_aspect
from bot.core.i18n import LANGUAGE_KEY, LANGUAGES, _
from bot.core.ids import ascii_int
from bot.core.messages import GenerationOptions
from bot.core.types import Aspect, GenerationKind, GenerationRecord, ImageRequest

CHAT_SETTING_KEYS = ("aspect", "n", "negative", "provider", "model", "quality", "format", "language")
FORMATS = ("photo", "file")
"""``/settings format``: results as photos (the default), or as files that keep the original bytes."""


@dataclass(frozen=True, slots=True)
class Defaults:
    aspect: Aspect
    max_images: int


def new_seed(rng: random.Random) -> int:
    return rng.randint(0, MAX_SEED)


def build_request(
    prompt: str,
    options: GenerationOptions,
    chat_settings: Mapping[str, Any],
    defaults: Defaults,
    *,
    seed: int,
    kind: GenerationKind = GenerationKind.GENERATE,
    reference_images: tuple[bytes, ...] = (),
    source_prompt: str | None = None,
    fallback_aspect: Aspect | None = None,
) -> ImageRequest:
    """Flags win over the chat's settings, which win over the defaults; ``seed`` is used unless the
    user gave one (``seed_given`` says which)."""
    aspect = options.aspect
    if aspect is None and chat_settings.get("aspect"):
        aspect = parse_aspect(str(chat_settings["aspect"]))
    n = options.n if options.n is not None else int(chat_settings.get("n") or 1)
    if not 1 <= n <= defaults.max_images:
        raise InvalidInput(
            f"n={n}", user_message=_("You can ask for 1 to {count} images.").format(count=defaults.max_images)
        )
    return ImageRequest(
        prompt=prompt,
        aspect=aspect or fallback_aspect or defaults.aspect,
        n=n,
        seed=options.seed if options.seed is not None else seed,
        seed_given=options.seed is not None,
        moderation=_moderation(chat_settings),
        negative=options.negative or chat_settings.get("negative") or None,
        model=options.model or chat_settings.get("model") or None,
        provider=options.provider or chat_settings.get("provider") or None,
        quality=options.quality or chat_settings.get("quality") or None,
        kind=kind,
        reference_images=reference_images,
        source_prompt=source_prompt,
    )


def params_of(request: ImageRequest) -> dict[str, Any]:
    """What is stored with a generation so it can be replayed (reroll) later."""
    return {
        "aspect": str(request.aspect),
        "n": request.n,
        "seed": request.seed,
        "model": request.model,
        "provider": request.provider,
        "quality": request.quality,
        "source_prompt": request.source_prompt,
    }


def options_of(record: GenerationRecord) -> GenerationOptions:
    """The options a stored generation was made with, for rerolls and variations."""
    params = record.params
    aspect = params.get("aspect")
    return GenerationOptions(
        aspect=parse_aspect(str(aspect)) if aspect else None,
        n=int(params.get("n") or 1),
        negative=record.negative,
        model=params.get("model"),
        provider=params.get("provider"),
        quality=params.get("quality"),
    )


def validate_chat_setting(key: str, value: str, defaults: Defaults, *, providers: Sequence[str]) -> Any:
    """Check a ``/settings key value`` pair and return the value to store; ``providers`` are the
    configured ones (a chat cannot pin a provider that is not there)."""
    if key not in CHAT_SETTING_KEYS:
        raise InvalidInput(
            f"unknown setting {key!r}",
            user_message=_("I don't know the setting {key}. Settings: {keys}.").format(
                key=repr(key), keys=", ".join(CHAT_SETTING_KEYS)
            ),
        )
    if key == "aspect":
        return str(parse_aspect(value))
    if key == "n":
        n = ascii_int(value, max_digits=3)
        if n is None or not 1 <= n <= defaults.max_images:
            raise InvalidInput(
                f"n={clip(value)!r}",
                user_message=_("n must be a number from 1 to {count}.").format(count=defaults.max_images),
            )
        return n
    if key == "format":
        if value.lower() not in FORMATS:
            raise InvalidInput(
                f"format={clip(value)!r}", user_message=_("format is photo (the default) or file.")
            )
        return value.lower()
    if key == LANGUAGE_KEY:
        if value.strip().lower() not in LANGUAGES:
            raise InvalidInput(
                f"language={clip(value)!r}",
                user_message=_("language is en, de, es or auto (each person's own language)."),
            )
        return value.strip().lower()
    if key == "provider" and value not in providers:
        raise InvalidInput(
            f"unknown provider {clip(value)!r}",
            user_message=_("{value} is not a configured provider here. Choose one of: {providers}.").format(
                value=repr(clip(value)), providers=", ".join(providers)
            ),
        )
    if len(value) > 500:
        raise InvalidInput(
            "setting too long", user_message=_("That value is too long (500 characters at most).")
        )
    return value


def _moderation(chat_settings: Mapping[str, Any]) -> str | None:
    """The chat's moderation level, or None for the providers' own default (``auto``: not sent)."""
    level = moderation_for(policy_of(chat_settings))
    return None if level == "auto" else level
