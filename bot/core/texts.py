"""What Easel says: help, captions, history lines, status. Plain text that every platform can show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.types import GenerationKind, GenerationRecord

HELP = """\
Easel turns words into pictures.

/imagine <prompt> [flags] - make an image (aliases /img, /draw)
/edit [#id/k] <instruction> - change the last image (or image k of a set, the one you reply to,
  or a photo you send)
/reroll - the same prompt with a new seed
/vary [#id/k] - a close variation of the last image (or of image k of a set)
/upscale [#id/k] - the image twice as large (up to 4096 px)
/history [page] - what this chat has made
/status - provider, your usage today
/settings [key value] - this chat's defaults: aspect, n, negative, provider, model, quality,
  format (photo, or file to get the original files; Telegram)
/cancel - stop what is waiting or running
/confirm - go ahead with a request held back for its cost
/schedule add <when> <prompt> - post an image on a schedule, e.g.
  /schedule add every day at 09:00 a lighthouse, {weekday} --tz Europe/Berlin
  (also: /schedule list | remove <id> | pause <id> | resume <id> | run <id>; admins in groups)
/birthday set 14-03 [name] [time zone] - a birthday card on the day (also list, remove, preview)
/ban add <word> | add re:<pattern> | list | remove <n> | refused - words this chat refuses (admins)
/id - your user id and this chat's id, for the settings
/help - this text

Flags: --ar 16:9 (or --aspect, square, portrait, landscape, wide), --n 2, --seed 7,
--no <things to avoid>, --model m, --provider p, --quality high

Or just talk: "a watercolor fox at dawn" makes a new image; "make it warmer" edits the last one."""

UNEXPECTED = "Something went wrong on my side; it has been logged. Please try again."
"""What a user hears when a bug (not their request) stopped the work."""

_KIND_LABEL = {
    GenerationKind.GENERATE: "",
    GenerationKind.EDIT: "edit",
    GenerationKind.REROLL: "reroll",
    GenerationKind.VARY: "variation",
    GenerationKind.UPSCALE: "upscale",
}


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def caption(record: GenerationRecord, *, title: str | None = None) -> str:
    """The text under a finished image: prompt (or ``title``: a birthday card's greeting), id, seed(s),
    aspect, provider/model."""
    label = _KIND_LABEL[record.kind]
    prefix = f"{label}: " if label else ""
    seeds = sorted({img.seed for img in record.images if img.seed is not None})
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}-{seeds[-1]}" if seeds else ""
    model = f"{record.provider}/{record.model}" if record.model else record.provider or ""
    aspect = str(record.params.get("aspect") or "")
    details = " · ".join(part for part in (f"#{record.id}", seed_text, aspect, model) if part)
    first = shorten(title, 700) if title else f"{prefix}{shorten(record.prompt, 700)}"
    lines = [first, details]
    if record.params.get("preview"):
        lines.append("Preview from the built-in offline renderer; configure a provider for real images.")
    return "\n".join(lines)


def history_lines(records: Sequence[GenerationRecord], page: int) -> str:
    if not records:
        return "Nothing here yet." if page == 1 else f"No more history (page {page})."
    lines = [f"History, page {page} (newest first):"]
    for record in records:
        when = record.created_at.strftime("%Y-%m-%d %H:%M")
        label = _KIND_LABEL[record.kind]
        parent = f" of #{record.parent_id}" if record.parent_id else ""
        kind = f"{label}{parent} · " if label else ""
        status = "" if record.status == "done" else f" [{record.status}]"
        count = f" · {len(record.images)} image(s)" if record.images else ""
        lines.append(f"#{record.id} · {when} · {kind}{shorten(record.prompt, 80)}{count}{status}")
    return "\n".join(lines)


def settings_lines(settings: Mapping[str, Any]) -> str:
    if not settings:
        return "This chat uses the defaults. Set one: /settings aspect 16:9 (keys: aspect, n, negative, ...)."
    body = "\n".join(f"{key}: {value}" for key, value in sorted(settings.items()))
    return f"This chat's settings:\n{body}\n(/settings reset clears them)"


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line breaks where possible."""
    pieces: list[str] = []
    rest = text.strip() or "…"
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n")
    pieces.append(rest)
    return pieces
