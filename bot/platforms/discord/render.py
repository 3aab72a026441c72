"""Replies → what Discord shows: the result embed, status lines, texts cut at 2000 characters, and the
custom ids of the result buttons (they carry the generation id, so buttons work after a restart; the
encoding is the core's, :mod:`bot.core.chat.buttons`, behind an ``easel:`` prefix)."""

from __future__ import annotations

import re

import discord

from bot.core import texts
from bot.core.chat import buttons
from bot.core.chat.buttons import Button
from bot.core.i18n import N_, _
from bot.core.texts import shorten
from bot.core.types import Action, GenerationRecord, JobEvent, Progress, Queued, Reply, Started

__all__ = ["BUTTON_TEMPLATE", "Button", "decode", "encode", "label"]

MAX_CONTENT = 2000
EMBED_PROMPT_CHARS = 1000
BUTTON_TEMPLATE = r"easel:(?P<data>[rvued]:[0-9]{1,12}(?::[0-9]{1,20})?)"
"""``easel:d:12``, ``easel:v:12:2`` (Vary of image 2); Delete buttons of earlier versions also carry
``:<requester>``, accepted and ignored: custom ids come from the client, so they name a generation, an
action and an image, nothing more (:func:`decode` bounds them; the core checks them)."""
_CODES = {Action.REROLL: "r", Action.VARY: "v", Action.UPSCALE: "u", Action.EDIT: "e", Action.DELETE: "d"}
_LABELS = {
    Action.REROLL: (N_("Reroll"), "🎲", discord.ButtonStyle.secondary),
    Action.VARY: (N_("Vary"), "🔀", discord.ButtonStyle.secondary),
    Action.UPSCALE: (N_("Upscale"), "⬆️", discord.ButtonStyle.secondary),
    Action.EDIT: (N_("Edit"), "✏️", discord.ButtonStyle.primary),
    Action.DELETE: (N_("Delete"), "🗑️", discord.ButtonStyle.danger),
}
SHOWN_ACTIONS = tuple(_CODES)
"""The result buttons Discord gets (the attachments already are the original files)."""
PER_IMAGE_ACTIONS = (Action.VARY, Action.UPSCALE, Action.EDIT)
"""Per-image buttons of a set (Vary k, Upscale k, Edit k); each attachment is image k's original file.
Upscale k only while each action's buttons fit one row (Discord has 5 rows): see ``views.result_view``."""
_GENERATION_REF = re.compile(r"(?<![\w#])#([0-9]{1,12})\b")
_STAGES = {Queued: 0, Started: 1, Progress: 2}


def encode(button: Button) -> str:
    """``easel:r:12``, ``easel:v:12:2`` (Discord allows 100 characters)."""
    return f"easel:{buttons.encode(button)}"


def decode(data: str) -> Button | None:
    """The button a matched custom id's ``data`` names, or None (not ours, or an impossible id/image)."""
    button = buttons.decode(data)
    return button if button is not None and button.action in _CODES else None


def label(action: Action, image: int | None = None) -> tuple[str, str, discord.ButtonStyle]:
    """The button's label, emoji and style; a per-image one is labelled with the image's number."""
    name, emoji, style = _LABELS[action]
    return (_(name) if image is None else str(image + 1)), emoji, style


def generation_of(message: discord.Message) -> int | None:
    """The generation a bot message shows: from its buttons' custom ids, else a ``#12`` in its embed."""
    for row in message.components:
        for child in getattr(row, "children", ()):
            match = re.fullmatch(BUTTON_TEMPLATE, getattr(child, "custom_id", None) or "")
            button = decode(match["data"]) if match else None
            if button is not None:
                return button.generation_id
    for embed in message.embeds:
        for text in (embed.title, embed.description, embed.footer.text if embed.footer else None):
            found = _GENERATION_REF.search(text or "")
            if found:
                return int(found[1])
    return None


def result_embed(reply: Reply, record: GenerationRecord | None) -> discord.Embed:
    """Prompt, seed and provider/model; the whole caption when the record is not at hand."""
    if record is None:
        return discord.Embed(description=shorten(reply.text, 4000))
    embed = discord.Embed(
        title=f"#{record.id}" + (f" · {record.kind.value}" if record.kind.value != "generate" else ""),
        description=shorten(record.prompt, EMBED_PROMPT_CHARS),
    )
    seeds = sorted({image.seed for image in record.images if image.seed is not None})
    if seeds:
        embed.add_field(name=_("Seed"), value=", ".join(map(str, seeds))[:1024], inline=True)
    if record.params.get("aspect"):
        embed.add_field(name=_("Aspect"), value=str(record.params["aspect"]), inline=True)
    model = f"{record.provider}/{record.model}" if record.model else record.provider or "?"
    embed.add_field(name=_("Model"), value=model[:1024], inline=True)
    notes = [*reply.notes]
    if record.params.get("preview"):
        notes.append(_("Preview from the built-in offline renderer; configure a provider for real images."))
    if notes:
        embed.set_footer(text=shorten(" · ".join(notes), 2000))
    return embed


def status_text(event: JobEvent) -> str | None:
    match event:
        case Queued(position=position):
            return "⏳ " + _("Queued (#{position})").format(position=position)
        case Started(provider=provider):
            return "🎨 " + _("Generating with {provider}…").format(provider=provider)
        case Progress(fraction=fraction):
            return "🎨 " + _("Generating… {percent}").format(percent=f"{fraction:.0%}")
    return None


def stage(event: JobEvent) -> int:
    """Queued < Started < Progress: a status never goes back (the service's Queued may come late)."""
    return _STAGES.get(type(event), -1)


def text_of(reply: Reply) -> str:
    notes = [_("note: {note}").format(note=note) for note in reply.notes]
    return "\n".join([reply.text, *notes])


def split_text(text: str, limit: int = MAX_CONTENT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line breaks where possible."""
    return texts.split_text(text, limit)
