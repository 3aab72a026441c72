"""What ``bot.app.serve`` needs from a chat platform adapter (Telegram, Discord, web).

Life cycle, in order: ``initialize`` (connect, learn who we are: no updates yet) → ``bot.app.open_easel``
with every adapter as a platform (unfinished jobs resume and are delivered through them) → ``attach``
(the wired ``Easel``) → ``start`` (take updates) → … → ``stop`` (stop taking updates; sending must still
work: the jobs already running finish their deliveries after it, within ``shutdown_grace_s``) →
``shutdown`` (close connections). ``shutdown`` runs even when ``initialize`` failed half-way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from bot.core.ports import Platform

if TYPE_CHECKING:
    from bot.app import Easel


class Adapter(Platform, Protocol):
    @property
    def username(self) -> str | None:
        """The bot's @username where the router must recognise "/imagine@name" (Telegram); else None."""
        ...

    async def initialize(self) -> None: ...

    def attach(self, easel: Easel) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def shutdown(self) -> None: ...
