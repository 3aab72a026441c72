"""What the ban list refused in a chat, kept for its admins (``/ban refused``).

The log is a short list in the chat's settings (``refused``, newest last, at most ``KEEP``): written
through the :class:`~bot.core.identity.Directory`, so every replica reads it again. Texts are clipped.
Results a provider refused are the chat's failed generations (their error names the refusal); they
are listed next to these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.core.flags import clip
from bot.core.i18n import N_, _
from bot.core.types import GenerationRecord, GenerationStatus

REFUSED_KEY = "refused"
KEEP = 20
TEXT_CHARS = 80
PROVIDER_REFUSAL = "Refused("
"""How a provider's refusal is recorded as a generation's error (``repr`` of ``errors.Refused``)."""
WHAT_NAMES = {
    "prompt": N_("prompt"),
    "schedule prompt": N_("schedule prompt"),
    "edit instruction": N_("edit instruction"),
}
"""What a logged refusal checked, as ``/ban refused`` names it (the log keeps the English key)."""


def logged(settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = settings.get(REFUSED_KEY)
    return [item for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []


def with_refusal(
    settings: Mapping[str, Any], *, when: datetime, who: str, what: str, text: str, rule: int | str
) -> dict[str, Any]:
    """The settings with one refusal more (the oldest dropped beyond ``KEEP``). ``rule``: as ``/ban
    list`` numbers it (``BanHit.label``: ``2``, or ``S2`` for a server rule)."""
    entry = {
        "at": when.isoformat(timespec="seconds"),
        "who": clip(who, 40),
        "what": what,
        "text": clip(text, TEXT_CHARS),
        "rule": rule,
    }
    return {**settings, REFUSED_KEY: [*logged(settings), entry][-KEEP:]}


def refused_lines(settings: Mapping[str, Any], failed: Sequence[GenerationRecord]) -> str:
    """``/ban refused``: the ban list's refusals and the provider's, newest first."""
    rows: list[tuple[str, str]] = []
    for item in logged(settings):
        at = str(item.get("at", ""))
        who, what, rule, text = item.get("who") or "?", item.get("what"), item.get("rule"), item.get("text")
        shown = _(WHAT_NAMES[what]) if isinstance(what, str) and what in WHAT_NAMES else what
        rule_text = _("rule {rule}").format(rule=rule)
        rows.append((at, f"{_minute(at)} · {who} · {shown} · {rule_text} · {text}"))
    for record in failed:
        if record.status == GenerationStatus.FAILED and (record.error or "").startswith(PROVIDER_REFUSAL):
            at = record.created_at.isoformat(timespec="seconds")
            by = _("refused by {provider}").format(provider=record.provider or _("the provider"))
            rows.append((at, f"{_minute(at)} · #{record.id} · {by} · {clip(record.prompt, TEXT_CHARS)}"))
    if not rows:
        return _("Nothing has been refused here lately.")
    rows.sort(reverse=True)
    return _("Refused here (newest first):") + "\n" + "\n".join(line for _at, line in rows)


def _minute(iso: str) -> str:
    return iso[:16].replace("T", " ")
