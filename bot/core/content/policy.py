"""A chat's content policy (``/settings policy safe|spoiler|off``) and what it means for a result.

- ``safe`` (the default): a result the provider flags is refused; the provider's own moderation is
  asked to be strict where it can be set (OpenAI's gpt-image ``moderation: auto``).
- ``spoiler``: every result is sent as a spoiler (Telegram ``has_spoiler``, Discord ``SPOILER_`` file
  names, blurred in the web chat until clicked), flagged or not: no provider tells us more than
  "refused", so hiding all is the only promise that holds.
- ``off``: results are sent as they are; the provider's moderation is asked to be lenient
  (``moderation: low``).

The policy in force when a request is accepted travels with its job (``payload["content"]``), so a
result is shown as the chat asked at the time, whichever replica delivers it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from bot.core.errors import InvalidInput
from bot.core.flags import clip
from bot.core.i18n import _

POLICY_KEY = "policy"
PAYLOAD_KEY = "content"


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
                "result as a spoiler), off (send results as they are), e.g. /settings policy spoiler."
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


def shown_as_spoiler(payload: Mapping[str, Any]) -> bool:
    """Whether a job's result goes out as a spoiler: under ``spoiler``, always (a provider that flags
    a result refuses it: Stability ``CONTENT_FILTERED``, Replicate's NSFW error, StepFun's
    ``content_filtered`` all arrive as ``Refused``, so no flagged image reaches delivery)."""
    content = payload.get(PAYLOAD_KEY)
    policy = policy_of(content) if isinstance(content, Mapping) else DEFAULT_POLICY
    return policy == ContentPolicy.SPOILER
