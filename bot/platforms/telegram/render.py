"""Replies → what Telegram shows: captions within 1024 characters, texts split at 4096, the inline
keyboard under a result, callback data (which carries the generation id, so buttons outlive a restart)
and the status line of a job."""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core import texts
from bot.core.texts import shorten
from bot.core.types import Action, Done, Failed, JobEvent, Progress, Queued, Reply, Started

MAX_CAPTION = 1024
MAX_TEXT = 4096
ALBUM_MAX = 10
_LABELS = {
    Action.REROLL: "🎲 Reroll",
    Action.VARY: "🔀 Vary",
    Action.EDIT: "✏️ Edit",
    Action.ORIGINAL: "📄 Original",
    Action.DELETE: "🗑 Delete",
}
_CODES = {Action.REROLL: "r", Action.VARY: "v", Action.EDIT: "e", Action.ORIGINAL: "o", Action.DELETE: "d"}
_ACTIONS = {code: action for action, code in _CODES.items()}
_DATA = re.compile(r"([rveod]):([0-9]{1,12})(?::[0-9]{1,20}:[0-9]{1,2})?")
"""``r:12``; Delete buttons sent by earlier versions also carry ``:<requester>:<count>``, which is
accepted and ignored: callback data is written by the client, so it names a generation, nothing more."""


@dataclass(frozen=True, slots=True)
class Button:
    """A decoded button press: which action on which generation (rights are the core's to decide)."""

    action: Action
    generation_id: int


def encode(button: Button) -> str:
    """Callback data, at most 64 bytes: ``r:12``."""
    return f"{_CODES[button.action]}:{button.generation_id}"


def decode(data: str | None) -> Button | None:
    match = _DATA.fullmatch(data or "")
    if match is None:
        return None
    return Button(_ACTIONS[match[1]], int(match[2]))


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Reroll/Vary/Edit on the first row, Original/Delete on the second."""
    if reply.generation_id is None or not reply.actions:
        return None
    buttons = [
        InlineKeyboardButton(_LABELS[action], callback_data=encode(Button(action, reply.generation_id)))
        for action in reply.actions
    ]
    return InlineKeyboardMarkup([buttons[:3], buttons[3:]] if len(buttons) > 3 else [buttons])


def caption(reply: Reply, limit: int = MAX_CAPTION) -> str:
    """The reply's text and notes, notes dropped from the end (then the text shortened) to fit."""
    notes = [f"note: {note}" for note in reply.notes]
    while notes and len("\n".join([reply.text, *notes])) > limit:
        notes.pop()
    return shorten("\n".join([reply.text, *notes]), limit)


def album_caption(reply: Reply, index: int, total: int) -> str:
    """The first photo of an album carries the full caption; the others their place and the id."""
    if index == 0:
        return caption(reply)
    return f"#{reply.generation_id} · {index + 1}/{total}" if reply.generation_id else f"{index + 1}/{total}"


def keyboard_text(reply: Reply, count: int) -> str:
    """The message under an album that carries its buttons."""
    return f"#{reply.generation_id} · {count} images · reply to one of them to edit it"


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line breaks where possible."""
    return texts.split_text(text, limit)


def edit_prompt(generation_id: int) -> str:
    """The ForceReply question after Edit; the ``#id`` line makes the answer edit that image."""
    return f"#{generation_id}\nHow should I change it? Reply to this message, e.g. 'make it warmer'."


def status_text(event: JobEvent) -> str | None:
    """The job's status line, or None when the status message should go away."""
    match event:
        case Queued(position=position):
            return f"Queued (#{position})"
        case Started(provider=provider):
            return f"Generating with {provider}…"
        case Progress(fraction=fraction):
            return f"Generating… {fraction:.0%}"
        case Failed(reason=reason):
            return f"⚠️ {shorten(reason, MAX_TEXT - 3)}"
        case Done():
            return None
    return None
