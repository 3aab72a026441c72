"""Replies → what Telegram shows: captions within 1024 characters, texts split at 4096, the inline
keyboard under a result, callback data (which carries the generation id, so buttons outlive a restart;
the encoding is the core's, :mod:`bot.core.chat.buttons`) and the status line of a job.

A set of several images gets compact per-image buttons, as Midjourney's V1-V4 and U1-U4: one row of
🔀 1 … n (Vary image k), one of ⬆️ 1 … n (Upscale image k), one of ✏️ 1 … n (Edit image k), one of
📄 1 … n (its original file), then 🎲 Reroll and 🗑 Delete for the whole set."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core import texts
from bot.core.chat.buttons import PER_IMAGE, Button, decode, encode
from bot.core.i18n import N_, _
from bot.core.texts import shorten
from bot.core.types import Action, Done, Failed, JobEvent, Progress, Queued, Reply, Started

__all__ = ["Button", "decode", "encode", "keyboard"]

MAX_CAPTION = 1024
MAX_TEXT = 4096
ALBUM_MAX = 10
_LABELS = {
    Action.REROLL: N_("🎲 Reroll"),
    Action.VARY: N_("🔀 Vary"),
    Action.UPSCALE: N_("⬆️ Upscale"),
    Action.EDIT: N_("✏️ Edit"),
    Action.ORIGINAL: N_("📄 Original"),
    Action.DELETE: N_("🗑 Delete"),
}
_ICONS = {Action.VARY: "🔀", Action.UPSCALE: "⬆️", Action.EDIT: "✏️", Action.ORIGINAL: "📄"}
PER_ROW = 5
"""Per-image buttons a row holds (a row of more gets too narrow to read on a phone)."""
MAX_PER_IMAGE = 10
"""Sets up to this size get per-image buttons (an album holds 10); larger ones act on the whole set."""


def _button(label: str, button: Button) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=encode(button))


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """One image: Reroll/Vary/Upscale on the first row, Edit/Original/Delete on the second. A set: a
    row of per-image buttons for each of Vary, Upscale, Edit and Original, then Reroll and Delete."""
    generation = reply.generation_id
    if generation is None or not reply.actions:
        return None
    count = len(reply.images)
    if not 1 < count <= MAX_PER_IMAGE:
        buttons = [_button(_(_LABELS[action]), Button(action, generation)) for action in reply.actions]
        return InlineKeyboardMarkup([buttons[:3], buttons[3:]] if len(buttons) > 3 else [buttons])
    rows: list[list[InlineKeyboardButton]] = []
    for action in (a for a in reply.actions if a in PER_IMAGE):
        row = [_button(f"{_ICONS[action]} {k + 1}", Button(action, generation, k)) for k in range(count)]
        rows += [row[start : start + PER_ROW] for start in range(0, count, PER_ROW)]
    whole = [_button(_(_LABELS[a]), Button(a, generation)) for a in reply.actions if a not in PER_IMAGE]
    return InlineKeyboardMarkup([*rows, whole] if whole else rows)


def caption(reply: Reply, limit: int = MAX_CAPTION) -> str:
    """The reply's text and notes, notes dropped from the end (then the text shortened) to fit."""
    notes = [_("note: {note}").format(note=note) for note in reply.notes]
    while notes and len("\n".join([reply.text, *notes])) > limit:
        notes.pop()
    return shorten("\n".join([reply.text, *notes]), limit)


def album_caption(reply: Reply, index: int, total: int) -> str:
    """The first photo of an album carries the full caption; the others their place and the id."""
    if index == 0:
        return caption(reply)
    return f"#{reply.generation_id} · {index + 1}/{total}" if reply.generation_id else f"{index + 1}/{total}"


def keyboard_text(reply: Reply, count: int) -> str:
    """The message under an album that carries its buttons (and says what the per-image ones do)."""
    legend = " · " + _("🔀 vary, ⬆️ upscale, ✏️ edit, 📄 file of image n") if 1 < count <= MAX_PER_IMAGE else ""
    images = _("{count} images").format(count=count)
    return f"#{reply.generation_id} · {images}{legend} · " + _("reply to one of them to edit it")


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line breaks where possible."""
    return texts.split_text(text, limit)


def edit_prompt(generation_id: int, image: int | None = None) -> str:
    """The ForceReply question after Edit; the ``#id`` (``#id/k`` for image k of a set) line makes the
    answer edit that image."""
    if image is None:
        return f"#{generation_id}\n" + _(
            "How should I change it? Reply to this message, e.g. 'make it warmer'."
        )
    question = _("How should I change image {number}? Reply to this message, e.g. 'make it warmer'.")
    return f"#{generation_id}/{image + 1}\n" + question.format(number=image + 1)


def status_text(event: JobEvent) -> str | None:
    """The job's status line, or None when the status message should go away."""
    match event:
        case Queued(position=position):
            return _("Queued (#{position})").format(position=position)
        case Started(provider=provider):
            return _("Generating with {provider}…").format(provider=provider)
        case Progress(fraction=fraction):
            return _("Generating… {percent}").format(percent=f"{fraction:.0%}")
        case Failed(reason=reason):
            return f"⚠️ {shorten(reason, MAX_TEXT - 3)}"
        case Done():
            return None
    return None
