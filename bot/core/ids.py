"""Numbers people type or send: picture ids, pages, counts. ASCII digits only.

``str.isdigit()`` accepts "²" and Arabic-Indic digits; ``int()`` rejects the first and silently reads
the second, and ``\\d`` in a regular expression matches both kinds of decimal digit. Every number that
comes from a chat, a browser or a command line is read here instead, so "#²" or "#٣" is refused with a
message rather than crashing a handler or naming a picture the user did not type.
"""

from __future__ import annotations

import re

__all__ = ["ASCII_DIGITS", "MAX_ROW_ID", "ascii_int", "parse_id"]

ASCII_DIGITS = "[0-9]"
"""For regular expressions: ``\\d`` would match every script's decimal digits."""
MAX_ROW_ID = 2**31 - 1
"""The largest id a row can have (PostgreSQL ``integer``); larger ids name nothing."""


def ascii_int(text: str, *, max_digits: int = 12) -> int | None:
    """The number ``text`` spells with ASCII digits (1 to ``max_digits`` of them), else None."""
    if not 0 < len(text) <= max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


_ID_PATTERN = re.compile(rf"#?({ASCII_DIGITS}{{1,12}})")


def parse_id(text: str) -> int | None:
    """``12`` or ``#12`` → 12; anything else (other digits, signs, blanks) → None."""
    match = _ID_PATTERN.fullmatch(text.strip())
    return int(match[1]) if match else None
