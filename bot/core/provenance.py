"""The text a saved image carries about how it was made, in the format AUTOMATIC1111's web UI writes
(its "infotext", the PNG ``parameters`` text; "PNG Info" and other viewers read it)::

    a red fox in the snow
    Negative prompt: blurry
    Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 1024x1024, Model: sdxl, Provider: sdwebui

As A1111 writes it (``modules/processing.py`` ``create_infotext``): the prompt, then ``Negative prompt:``
and the negative when there is one, then one line of ``Key: value`` pairs joined by ``", "``, a value
with a comma, colon or line break written as a JSON string (``infotext_utils.quote``). A1111 reads the
last line as the parameters when it holds at least three pairs, and every line before it that starts
with ``Negative prompt:`` as the start of the negative (``parse_generation_parameters``).

What the user typed cannot change that structure: control characters and NULs are removed, every
kind of line break becomes ``\\n``, a line of the prompt or the negative that would read as
``Negative prompt:`` is written ``Negative prompt -``, values are one line and quoted, and each part
is bounded (counted in UTF-16 code units, which is what an EXIF UserComment stores), so the whole text
fits one JPEG APP1 segment.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_NEGATIVE_UNITS", "MAX_PROMPT_UNITS", "MAX_VALUE_UNITS", "clean_text", "parameters_text"]

MAX_PROMPT_UNITS = 20_000
"""The prompt is cut (with "…") beyond this many UTF-16 code units; the sidecar keeps it whole."""
MAX_NEGATIVE_UNITS = 4_000
MAX_VALUE_UNITS = 256
"""One parameter's value; a revised prompt (DALL-E rewrites them) gets ``MAX_REVISED_UNITS``."""
MAX_REVISED_UNITS = 2_000

_BREAKS = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_FAKE_LABEL = re.compile(r"^(\s*negative prompt)\s*:", re.IGNORECASE | re.MULTILINE)
_DROPPED = frozenset({"Cc", "Cs"})  # control characters (\n is put back) and lone surrogates


def clean_text(text: str, units: int, *, one_line: bool = False) -> str:
    """``text`` without control characters or lone surrogates, line breaks as ``\\n`` (or spaces when
    ``one_line``), at most ``units`` UTF-16 code units."""
    text = _BREAKS.sub("\n", text[: units * 2 + 2]).replace("\t", " ")
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) not in _DROPPED)
    if one_line:
        text = " ".join(text.split("\n"))
    return _clip(text.strip(), units)


def _clip(text: str, units: int) -> str:
    encoded = text.encode("utf-16-be")
    if len(encoded) <= units * 2:
        return text
    # decoding may cut a surrogate pair in two: "ignore" drops the half
    return encoded[: (units - 1) * 2].decode("utf-16-be", errors="ignore").rstrip() + "…"


def _contained(text: str, units: int) -> str:
    return _FAKE_LABEL.sub(r"\1 -", clean_text(text, units))


def _quote(value: Any, units: int = MAX_VALUE_UNITS) -> str:
    text = clean_text(str(value), units, one_line=True)
    if any(ch in text for ch in ',:"\n') or text != text.strip():
        return json.dumps(text, ensure_ascii=False)
    return text


def parameters_text(
    *,
    prompt: str,
    negative: str | None,
    width: int,
    height: int,
    seed: int | None,
    model: str | None,
    provider: str | None,
    params: Mapping[str, Any],
    generator: str,
    revised_prompt: str | None = None,
) -> str | None:
    """The A1111-style text for one image, or None when there is no prompt to record.

    ``params`` may name ``steps``, ``sampler`` and ``cfg_scale`` (A1111's own keys, written only when
    known: a provider without them does not get made-up values) and ``quality``."""
    body = _contained(prompt, MAX_PROMPT_UNITS)
    if not body:
        return None
    negative_text = _contained(negative or "", MAX_NEGATIVE_UNITS)
    pairs: list[tuple[str, Any]] = [
        ("Steps", params.get("steps")),
        ("Sampler", params.get("sampler")),
        ("CFG scale", params.get("cfg_scale")),
        ("Seed", seed),
        ("Size", f"{int(width)}x{int(height)}"),
        ("Model", model),
        ("Provider", provider or "unknown"),
        ("Quality", params.get("quality")),
        ("Generator", generator),
    ]
    line = ", ".join(f"{key}: {_quote(value)}" for key, value in pairs if value not in (None, ""))
    if revised_prompt:
        line += f", Revised prompt: {_quote(revised_prompt, MAX_REVISED_UNITS)}"
    negative_part = f"\nNegative prompt: {negative_text}" if negative_text else ""
    return f"{body}{negative_part}\n{line}"
