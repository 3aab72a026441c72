"""Replies → what Discord shows: the result embed, status lines, texts cut at 2000 characters, and the
custom ids of the result buttons (they carry the generation id, so buttons work after a restart)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import discord

from bot.core import texts
from bot.core.texts import shorten
from bot.core.types import Action, GenerationRecord, JobEvent, Progress, Queued, Reply, Started

MAX_CONTENT = 2000
EMBED_PROMPT_CHARS = 1000
BUTTON_TEMPLATE = r"easel:(?P<action>[rved]):(?P<generation>[0-9]{1,12})(?::[0-9]{1,20})?"
"""``easel:d:12``; Delete buttons of earlier versions also carry ``:<requester>``, accepted and ignored:
custom ids come from the client, so they name a generation and an action, nothing more."""
_CODES = {Action.REROLL: "r", Action.VARY: "v", Action.EDIT: "e", Action.DELETE: "d"}
_ACTIONS = {code: action for action, code in _CODES.items()}
_LABELS = {
    Action.REROLL: ("Reroll", "🎲", discord.ButtonStyle.secondary),
    Action.VARY: ("Vary", "🔀", discord.ButtonStyle.secondary),
    Action.EDIT: ("Edit", "✏️", discord.ButtonStyle.primary),
    Action.DELETE: ("Delete", "🗑️", discord.ButtonStyle.danger),
}
SHOWN_ACTIONS = tuple(_CODES)
"""The result buttons Discord gets (the attachments already are the original files)."""
_GENERATION_REF = re.compile(r"(?<![\w#])#([0-9]{1,12})\b")
_STAGES = {Queued: 0, Started: 1, Progress: 2}


@dataclass(frozen=True, slots=True)
class Button:
    action: Action
    generation_id: int


def encode(button: Button) -> str:
    """``easel:r:12`` (Discord allows 100 characters)."""
    return f"easel:{_CODES[button.action]}:{button.generation_id}"


def decode(action: str, generation: str) -> Button:
    return Button(_ACTIONS[action], int(generation))


def label(action: Action) -> tuple[str, str, discord.ButtonStyle]:
    return _LABELS[action]


def generation_of(message: discord.Message) -> int | None:
    """The generation a bot message shows: from its buttons' custom ids, else a ``#12`` in its embed."""
    for row in message.components:
        for child in getattr(row, "children", ()):
            match = re.fullmatch(BUTTON_TEMPLATE, getattr(child, "custom_id", None) or "")
            if match:
                return int(match["generation"])
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
        embed.add_field(name="Seed", value=", ".join(map(str, seeds))[:1024], inline=True)
    if record.params.get("aspect"):
        embed.add_field(name="Aspect", value=str(record.params["aspect"]), inline=True)
    model = f"{record.provider}/{record.model}" if record.model else record.provider or "?"
    embed.add_field(name="Model", value=model[:1024], inline=True)
    notes = [*reply.notes]
    if record.params.get("preview"):
        notes.append("Preview from the built-in offline renderer; configure a provider for real images.")
    if notes:
        embed.set_footer(text=shorten(" · ".join(notes), 2000))
    return embed


def status_text(event: JobEvent) -> str | None:
    match event:
        case Queued(position=position):
            return f"⏳ Queued (#{position})"
        case Started(provider=provider):
            return f"🎨 Generating with {provider}…"
        case Progress(fraction=fraction):
            return f"🎨 Generating… {fraction:.0%}"
    return None


def stage(event: JobEvent) -> int:
    """Queued < Started < Progress: a status never goes back (the service's Queued may come late)."""
    return _STAGES.get(type(event), -1)


def text_of(reply: Reply) -> str:
    notes = [f"note: {note}" for note in reply.notes]
    return "\n".join([reply.text, *notes])


def split_text(text: str, limit: int = MAX_CONTENT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line breaks where possible."""
    return texts.split_text(text, limit)
