"""What Easel says: help, captions, history lines, status. Plain text that every platform can show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.i18n import N_, _
from bot.core.types import GenerationKind, GenerationRecord

HELP = N_("""\
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
  format (photo, or file to get the original files; Telegram), language (en, de, es or auto),
  policy (safe, spoiler or off)
/cancel - stop what is waiting or running
/confirm - go ahead with a request held back for its cost
/schedule add <when> <prompt> - post an image on a schedule, e.g.
  /schedule add every day at 09:00 a lighthouse, {weekday} --tz Europe/Berlin
  (also: /schedule list | remove <id> | pause <id> | resume <id> | run <id>; admins in groups)
/birthday set 14-03 [name] [time zone] - a birthday card on the day (also list, remove, preview)
/ban add <word> | add re:<pattern> | list | remove <n> | refused - words this chat refuses (admins);
  /ban guild add|list|remove - the server's list, for every channel (server admins)
/delete [#id] - delete an image for good (yours; admins: any of this chat's)
/hide [#id], /unhide [#id] - take an image out of the history and gallery, or bring it back
/id - your user id and this chat's id, for the settings
/help - this text

Flags: --ar 16:9 (or --aspect, square, portrait, landscape, wide), --n 2, --seed 7,
--no <things to avoid>, --model m, --provider p, --quality high

Or just talk: "a watercolor fox at dawn" makes a new image; "make it warmer" edits the last one.""")

UNEXPECTED = N_("Something went wrong on my side; it has been logged. Please try again.")
"""What a user hears when a bug (not their request) stopped the work."""

_KIND_LABEL = {
    GenerationKind.GENERATE: "",
    GenerationKind.EDIT: N_("edit"),
    GenerationKind.REROLL: N_("reroll"),
    GenerationKind.VARY: N_("variation"),
    GenerationKind.UPSCALE: N_("upscale"),
}


def kind_label(kind: GenerationKind) -> str:
    """What a generation of ``kind`` is called in captions and history ("" for a plain one)."""
    label = _KIND_LABEL[kind]
    return _(label) if label else ""


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def caption(record: GenerationRecord, *, title: str | None = None) -> str:
    """The text under a finished image: prompt (or ``title``: a birthday card's greeting), id, seed(s),
    aspect, provider/model."""
    label = kind_label(record.kind)
    prefix = f"{label}: " if label else ""
    seeds = sorted({img.seed for img in record.images if img.seed is not None})
    if len(seeds) == 1:
        seed_text = _("seed {seed}").format(seed=seeds[0])
    else:
        seed_text = _("seeds {first}-{last}").format(first=seeds[0], last=seeds[-1]) if seeds else ""
    model = f"{record.provider}/{record.model}" if record.model else record.provider or ""
    aspect = str(record.params.get("aspect") or "")
    details = " · ".join(part for part in (f"#{record.id}", seed_text, aspect, model) if part)
    first = shorten(title, 700) if title else f"{prefix}{shorten(record.prompt, 700)}"
    lines = [first, details]
    if record.params.get("preview"):
        lines.append(_("Preview from the built-in offline renderer; configure a provider for real images."))
    return "\n".join(lines)


def history_lines(records: Sequence[GenerationRecord], page: int) -> str:
    if not records:
        return _("Nothing here yet.") if page == 1 else _("No more history (page {page}).").format(page=page)
    lines = [_("History, page {page} (newest first):").format(page=page)]
    for record in records:
        when = record.created_at.strftime("%Y-%m-%d %H:%M")
        label = kind_label(record.kind)
        parent = " " + _("of #{id}").format(id=record.parent_id) if record.parent_id else ""
        kind = f"{label}{parent} · " if label else ""
        status = "" if record.status == "done" else f" [{record.status}]"
        count = " · " + _("{count} image(s)").format(count=len(record.images)) if record.images else ""
        lines.append(f"#{record.id} · {when} · {kind}{shorten(record.prompt, 80)}{count}{status}")
    return "\n".join(lines)


def settings_lines(settings: Mapping[str, Any]) -> str:
    if not settings:
        return _(
            "This chat uses the defaults. Set one: /settings aspect 16:9 (keys: aspect, n, negative, ...)."
        )
    body = "\n".join(f"{key}: {value}" for key, value in sorted(settings.items()))
    return _("This chat's settings:") + f"\n{body}\n" + _("(/settings reset clears them)")


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
