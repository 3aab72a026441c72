"""What ``bot.app.serve`` needs from a chat platform adapter (Telegram, Discord, web).

Life cycle, in order: ``initialize`` (connect, learn who we are: no updates yet) → ``bot.app.open_easel``
with every adapter as a platform (unfinished jobs resume and are delivered through them) → ``attach``
(the :class:`~bot.core.front_door.FrontDoor`, the only part of Easel an adapter sees) → ``start``
(take updates) → … → ``stop`` (stop taking updates; sending must still work: the jobs already running
finish their deliveries after it, within ``shutdown_grace_s``) → ``shutdown`` (close connections).
``shutdown`` runs even when ``initialize`` failed half-way.

``initialize`` and ``start`` raise :class:`PlatformUnreachable` when the platform's servers do not
answer (a connection error, a time-out, a 5xx): ``serve`` runs everything else and keeps trying that
platform in the background, calling them again (each leaves nothing half-open when it raises it). Any
other :class:`~bot.core.errors.ConfigError` (a refused token) stops the start.
"""

from __future__ import annotations

from typing import Protocol

from bot.core.errors import ConfigError
from bot.core.front_door import FrontDoor
from bot.core.ports import Platform


class PlatformUnreachable(ConfigError):
    """The platform's servers could not be reached for now; worth trying again, unlike a bad token."""


class Adapter(Platform, Protocol):
    @property
    def username(self) -> str | None:
        """The bot's @username where the router must recognise "/imagine@name" (Telegram); else None."""
        ...

    async def initialize(self) -> None: ...

    def attach(self, front: FrontDoor) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def shutdown(self) -> None: ...
