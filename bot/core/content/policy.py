"""A chat's content policy (``/settings policy safe|spoiler|off``) and what it means for a result.

- ``safe`` (the default): a result the provider flags is refused; the provider's own moderation is
  asked to be strict where it can be set (OpenAI's gpt-image ``moderation: auto``).
- ``spoiler``: every result is sent as a spoiler (Telegram ``has_spoiler``, Discord ``SPOILER_`` file
  names, blurred in the web chat until clicked), flagged or not.
- ``off``: results are sent as they are, except a flagged one, which is sent as a spoiler with a note;
  the provider's moderation is asked to be lenient (``moderation: low``).

A *flagged* result is one the provider's filter marked but still sent (``Image.flagged``). Of the
providers Easel speaks to, only Stability AI does that: ``finish_reason: CONTENT_FILTERED`` (JSON) or
the ``finish-reason: CONTENT_FILTERED`` header (``Accept: image/*``) comes in an HTTP 200 with a blurred
image. Every other provider's filter withholds the image, so it arrives as ``Refused`` whatever the
policy: Stability's 403 ``content_moderation``, Stability on Bedrock (``finish_reasons`` and no image),
Replicate (a ``failed`` prediction, "NSFW content detected"), StepFun (``content_filtered`` without an
image), Imagen (``raiFilteredReason`` instead of the bytes), Gemini (``blockReason`` or an
``IMAGE_SAFETY`` finish without an image part), xAI (``respect_moderation: false`` without a payload),
OpenRouter (no ``images``), BFL (``Request/Content Moderated``). Imagen's safety scores and Gemini's
safety ratings come with images that passed the filter: they are not flags.

The policy in force when a request is accepted travels with its job (``payload["content"]``), so a
result is shown as the chat asked at the time, whichever replica delivers it. That a result was flagged
is stored with its generation (``params["flagged"]``: how many of its images), so a restart between
making and sending, or another replica sending it, still sends it hidden.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.errors import InvalidInput, Refused
from bot.core.flags import clip
from bot.core.i18n import N_, _
from bot.core.types import GenerationResult, Image

POLICY_KEY = "policy"
PAYLOAD_KEY = "content"
FLAGGED_KEY = "flagged"
"""A generation's ``params`` entry: how many of its images the provider flagged."""
SPOILER_KEY = "spoiler"
"""A generation's ``params`` entry: its chat's policy was ``spoiler`` when it was made (sent hidden)."""
FLAGGED_REFUSED = N_(
    "{provider} flagged this image, and this chat's content policy (safe) does not show flagged "
    "images. Try other words, or an admin can choose /settings policy spoiler to get such images "
    "sent hidden as spoilers."
)
FROM_FLAGGED_REFUSED = N_(
    "This picture was made from one its provider flagged, and this chat's content policy (safe) does "
    "not show flagged images."
)


class ContentPolicy(enum.StrEnum):
    SAFE = "safe"
    SPOILER = "spoiler"
    OFF = "off"


DEFAULT_POLICY = ContentPolicy.SAFE
_MODERATION = {ContentPolicy.SAFE: "auto", ContentPolicy.SPOILER: "auto", ContentPolicy.OFF: "low"}


def parse_policy(value: str) -> ContentPolicy:
    """``/settings policy <value>``; ``InvalidInput`` for anything else."""
    try:
        return ContentPolicy(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"bad policy {clip(value)!r}",
            user_message=_(
                "The policy is one of: safe (refuse flagged results), spoiler (send every "
                "result as a spoiler), off (send results as they are; flagged ones as spoilers), e.g. "
                "/settings policy spoiler."
            ),
        ) from None


def policy_of(settings: Mapping[str, Any]) -> ContentPolicy:
    """The chat's policy (the default when unset or unreadable)."""
    try:
        return ContentPolicy(str(settings.get(POLICY_KEY) or DEFAULT_POLICY))
    except ValueError:
        return DEFAULT_POLICY


def moderation_for(policy: ContentPolicy) -> str:
    """OpenAI images API ``moderation`` (gpt-image models only): ``auto`` unless the policy is off."""
    return _MODERATION[policy]


def payload_entry(settings: Mapping[str, Any]) -> dict[str, str]:
    """What a job carries of the chat's policy (``payload["content"]``)."""
    return {POLICY_KEY: policy_of(settings).value}


def policy_in(payload: Mapping[str, Any]) -> ContentPolicy:
    """The policy a job carries (the default for a job queued without one)."""
    content = payload.get(PAYLOAD_KEY)
    return policy_of(content) if isinstance(content, Mapping) else DEFAULT_POLICY


def screen(
    result: GenerationResult, payload: Mapping[str, Any], source_params: Mapping[str, Any] | None = None
) -> GenerationResult:
    """A result as the job's policy lets it out: with flagged images, ``Refused`` under ``safe``;
    otherwise the result with a note saying they are shown blurred (they go out as a spoiler:
    :func:`shown_as_spoiler`). ``source_params``: those of the generation whose image an upscale, edit or
    variation started from; its images are made from the flagged picture's pixels, so they are flagged
    too."""
    inherited = not any(image.flagged for image in result.images) and _flagged_count(source_params) > 0
    if inherited:
        images = tuple(dataclasses.replace(image, flagged=True) for image in result.images)
        result = dataclasses.replace(result, images=images)
    flagged = sum(1 for image in result.images if image.flagged)
    if not flagged:
        return result
    provider = _named(result.provider)
    if policy_in(payload) == ContentPolicy.SAFE:
        raise Refused(
            f"{result.provider}: {flagged} flagged image(s) under the safe policy",
            provider=result.provider,
            user_message=_(FROM_FLAGGED_REFUSED if inherited else FLAGGED_REFUSED).format(provider=provider),
        )
    if inherited:
        note = _("It was made from a picture its provider flagged; it is shown blurred.")
    elif flagged == 1:
        note = _("{provider} flagged this image; it is shown blurred.").format(provider=provider)
    else:
        note = _("{provider} flagged {count} of these images; they are shown blurred.").format(
            provider=provider, count=flagged
        )
    return dataclasses.replace(result, notes=(*result.notes, note))


def content_entry(images: Sequence[Image], payload: Mapping[str, Any]) -> dict[str, Any]:
    """What a generation records of how its images are to be shown: ``params["flagged"]`` (how many
    the provider flagged) and ``params["spoiler"]`` (the chat's policy hid them when it was asked),
    so the web chat's history and gallery, read later, blur what the chat was sent hidden."""
    entry: dict[str, Any] = {}
    flagged = sum(1 for image in images if image.flagged)
    if flagged:
        entry[FLAGGED_KEY] = flagged
    if policy_in(payload) == ContentPolicy.SPOILER:
        entry[SPOILER_KEY] = True
    return entry


def shown_as_spoiler(payload: Mapping[str, Any], params: Mapping[str, Any] | None = None) -> bool:
    """Whether a job's result goes out as a spoiler: under ``spoiler``, always; otherwise when its
    generation's ``params`` say the provider flagged an image (under ``safe`` it was refused)."""
    if policy_in(payload) == ContentPolicy.SPOILER:
        return True
    return recorded_as_spoiler(params)


def recorded_as_spoiler(params: Mapping[str, Any] | None) -> bool:
    """Whether a stored generation was shown hidden (flagged, or its chat's policy was ``spoiler``)."""
    return _flagged_count(params) > 0 or (params is not None and params.get(SPOILER_KEY) is True)


def _flagged_count(params: Mapping[str, Any] | None) -> int:
    value = params.get(FLAGGED_KEY) if params is not None else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _named(provider: str) -> str:
    """A provider's name to start a sentence with (``stability`` → ``Stability``)."""
    return provider[:1].upper() + provider[1:]
