"""The result buttons' data: which action on which generation, and for Vary, Upscale, Edit and
Original which image of its set, as a short string every platform can carry (Telegram's callback data:
64 bytes at most; Discord's custom id: 100 characters).

``v:12`` is Vary of generation 12's first image; ``v:12:2`` of its second image; ``u:12:2`` upscales
that one (the wire counts images from 1, as the labels do; :class:`Button` from 0). The data comes
back from the client, so it is hostile input: :func:`decode` accepts only this grammar, bounded in
length and in value, and names a generation, nothing more. Whether the presser may act on it, and
whether the image exists, is decided from stored facts when the request is handled
(``RequestResolver``, ``FrontDoor.generation_in_chat``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.ids import MAX_ROW_ID
from bot.core.messages import Reroll, Upscale, Vary
from bot.core.types import Action

MAX_DATA = 64
"""Telegram's limit for callback data, in bytes; every encoded button is far below it."""
MAX_IMAGES = 99
"""The largest image number a button may name (a set has at most ``generation.max_images``)."""
PER_IMAGE = frozenset({Action.VARY, Action.UPSCALE, Action.EDIT, Action.ORIGINAL})
"""Actions a button may aim at one image of a set."""
CODES = {
    Action.REROLL: "r",
    Action.VARY: "v",
    Action.UPSCALE: "u",
    Action.EDIT: "e",
    Action.ORIGINAL: "o",
    Action.DELETE: "d",
}
_ACTIONS = {code: action for action, code in CODES.items()}
_DATA = re.compile(r"([rvueod]):([0-9]{1,12})(?::([0-9]{1,2}))?")
_LEGACY_DELETE = re.compile(r"d:([0-9]{1,12}):[0-9]{1,20}(?::[0-9]{1,2})?")
"""Delete buttons sent by earlier versions carried ``:<requester>[:<count>]``: accepted, ignored."""


@dataclass(frozen=True, slots=True)
class Button:
    """A decoded button press (rights and the image's existence are the core's to decide)."""

    action: Action
    generation_id: int
    image: int | None = None
    """0-based position in the generation's images; None: the whole set (or its first image)."""

    @property
    def number(self) -> int | None:
        """The image as the user counts it (1-based), for labels and texts."""
        return None if self.image is None else self.image + 1


def encode(button: Button) -> str:
    """``r:12``, ``v:12:2``; at most 19 bytes."""
    data = f"{CODES[button.action]}:{button.generation_id}"
    if button.image is not None:
        if button.action not in PER_IMAGE or not 0 <= button.image < MAX_IMAGES:
            raise ValueError(f"no per-image {button.action.value} button for image {button.image}")
        data += f":{button.image + 1}"
    return data


def decode(data: str | None) -> Button | None:
    """The button, or None for data that is not one of ours (or names an impossible id or image)."""
    if not data or len(data) > MAX_DATA or not data.isascii():
        return None
    legacy = _LEGACY_DELETE.fullmatch(data)
    if legacy is not None:
        generation = int(legacy[1])
        return Button(Action.DELETE, generation) if 0 < generation <= MAX_ROW_ID else None
    match = _DATA.fullmatch(data)
    if match is None:
        return None
    action, generation = _ACTIONS[match[1]], int(match[2])
    if not 0 < generation <= MAX_ROW_ID:
        return None
    if match[3] is None:
        return Button(action, generation)
    number = int(match[3])
    if action not in PER_IMAGE or not 1 <= number <= MAX_IMAGES:
        return None
    return Button(action, generation, number - 1)


def job_intent(button: Button) -> Reroll | Vary | Upscale | None:
    """The request a Reroll, Vary or Upscale press makes (Edit asks first; Original and Delete make none)."""
    if button.action is Action.REROLL:
        return Reroll(button.generation_id)
    if button.action is Action.VARY:
        return Vary(button.generation_id, image=button.image)
    if button.action is Action.UPSCALE:
        return Upscale(button.generation_id, image=button.image)
    return None


def command_text(button: Button) -> str:
    """What the press amounts to as a typed command (logs, echoes): ``/vary #12/2``."""
    number = f"/{button.number}" if button.number is not None else ""
    return f"/{button.action.value} #{button.generation_id}{number}"
