"""Create Message's ``nonce`` and ``enforce_nonce`` as the fake Discord holds them.

Discord (docs.discord.com, Messages → Create Message, JSON params): ``nonce`` is "integer or string",
"Can be used to verify a message was sent (up to 25 characters). Value will appear in the Message
Create event"; ``enforce_nonce``: "If true and nonce is present, it will be checked for uniqueness in
the past few minutes. If another message was created by the same author with the same nonce, that
message will be returned and no new message will be created."

Here: a string longer than 25 characters, or a nonce neither a string nor an integer, is refused with
400 50035 Invalid Form Body (``errors.nonce._errors``); the message made echoes its nonce. With
``enforce_nonce`` the same author, channel and nonce within ``WINDOW_S`` (of ``clock``, which a test may
replace) returns that message (200, the same id) and creates nothing; without it a nonce is only echoed.

[unv] Whether the uniqueness is per channel or across all the author's channels (kept per channel).
[unv] The window's real length ("the past few minutes"; 300 s here).
[unv] The exact error codes and texts for a long or mistyped nonce (``BASE_TYPE_MAX_LENGTH`` /
``BASE_TYPE_BAD_TYPE`` here), and the range an integer nonce may have (not checked).
[unv] Whether ``"12"`` and ``12`` count as the same nonce (compared as text; discord.py sends text).
The same enforced nonce as a message deleted since answers 404 (discord.py's ``Messageable.send``
documents NotFound for "the same nonce as one that has been explicitly deleted shortly earlier"; [unv]
the code: 10008 Unknown Message here).
[unv] Whether a returned duplicate carries the later request's content (here: the first message as is).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.discord_rest import form_error

MAX_NONCE = 25
WINDOW_S = 300.0


def check_nonce(payload: dict[str, Any]) -> str | None:
    """The payload's nonce as text (None: none given), or the 400 Discord answers to a bad one."""
    nonce = payload.get("nonce")
    if nonce is None:
        return None
    if isinstance(nonce, bool) or not isinstance(nonce, str | int):
        raise form_error("nonce", "BASE_TYPE_BAD_TYPE", "Must be a valid string or integer.")
    if isinstance(nonce, str) and len(nonce) > MAX_NONCE:
        raise form_error("nonce", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_NONCE} or fewer in length.")
    return str(nonce)


@dataclass
class Nonces:
    """The nonces enforced recently: (author, channel, nonce) → (message id, when)."""

    clock: Callable[[], float] = time.monotonic
    window_s: float = WINDOW_S
    seen: dict[tuple[int, int, str], tuple[int, float]] = field(default_factory=dict)

    def earlier(self, author_id: int, channel_id: int, nonce: str) -> int | None:
        """The id of the message made with this nonce within the window, if any."""
        made = self.seen.get((author_id, channel_id, nonce))
        if made is None or self.clock() - made[1] > self.window_s:
            return None
        return made[0]

    def remember(self, author_id: int, channel_id: int, nonce: str, message_id: int) -> None:
        self.seen[(author_id, channel_id, nonce)] = (message_id, self.clock())
