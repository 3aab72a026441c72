"""Message nonces of keyed replies: Discord's ``enforce_nonce`` makes a resent channel post idempotent.

Discord's Create Message takes ``nonce`` (a string of up to 25 characters, or an integer) and, with
``enforce_nonce``, returns the message the same author made with that nonce in the past few minutes
instead of creating another; discord.py's ``send(nonce=...)`` sets ``enforce_nonce`` itself.
"""

from __future__ import annotations

import hashlib
from typing import Any

MAX_NONCE = 25
"""Discord's limit on a message nonce."""


def nonce_for(delivery_key: str, index: int) -> str:
    """The nonce of piece ``index`` of the reply keyed ``delivery_key`` (``job-12.0``): the same in every
    process, at most 25 characters (a longer one is hashed)."""
    plain = f"{delivery_key}.{index}"
    if len(plain) <= MAX_NONCE:
        return plain
    return hashlib.sha256(plain.encode()).hexdigest()[:MAX_NONCE]


def nonced(delivery_key: object, index: int) -> dict[str, Any]:
    """``nonce=`` for a keyed reply's channel post (discord.py then sends ``enforce_nonce``: Discord
    returns the message it made for that nonce in the last few minutes instead of posting it again)."""
    if not isinstance(delivery_key, str) or not delivery_key:
        return {}
    return {"nonce": nonce_for(delivery_key, index)}
