r"""What comes in: a message from any platform (``Incoming``, its ``Attachment``\ s) and what it asks
for (the intents the router, or an adapter for typed input, produces, and the options a user may give
with a prompt)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.types import Aspect


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that came with a message. Adapters download it (within their limits) before routing."""

    data: bytes
    filename: str | None = None
    mime: str | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message from any platform, translated by its adapter."""

    platform: str
    chat_id: str
    user_id: str
    text: str
    display_name: str = ""
    message_id: str | None = None
    reply_to_message_id: str | None = None
    reply_to_generation_id: int | None = None
    reply_to_image: int | None = None
    """Which image of that generation the replied message shows (0-based), when the adapter can tell
    (a Telegram album's photo ``#12 · 2/3``, the Edit question ``#12/2``); the core checks the range."""
    attachments: tuple[Attachment, ...] = ()
    is_admin: bool = False
    locale: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Platform details every answer needs back (e.g. Telegram's forum topic); copied to ``Target.extra``."""
    intent: Intent | None = None
    """Already typed (slash-command options, a button, a form): not parsed from ``text`` again, only
    checked like any routed intent. ``text`` then says what it was, for logs and echoes."""
    guild_id: str | None = None
    """The server (Discord guild) the chat belongs to, if any: its defaults (``/settings guild``) apply
    under the chat's own settings."""


# --------------------------------------------------------------------------------------------- intents


@dataclass(frozen=True, slots=True)
class GenerationOptions:
    """Flags a user may give with a prompt (``--ar 16:9 --n 2 --seed 7 --no text ...``).

    ``None`` means "not given": the chat's settings or the global defaults apply.
    """

    aspect: Aspect | None = None
    n: int | None = None
    seed: int | None = None
    negative: str | None = None
    model: str | None = None
    provider: str | None = None
    quality: str | None = None


@dataclass(frozen=True, slots=True)
class Generate:
    prompt: str
    options: GenerationOptions = GenerationOptions()


@dataclass(frozen=True, slots=True)
class Edit:
    """Edit an image: the attached one, the one replied to, a named generation, or the chat's last."""

    instruction: str
    options: GenerationOptions = GenerationOptions()
    generation_id: int | None = None
    reference: Attachment | None = None
    from_free_text: bool = False
    image: int | None = None
    """Which image of the generation (0-based position; None: the first). Checked when the job runs."""


@dataclass(frozen=True, slots=True)
class Reroll:
    generation_id: int | None = None


@dataclass(frozen=True, slots=True)
class Vary:
    generation_id: int | None = None
    image: int | None = None
    """Which image of the generation (0-based position; None: the first). Checked when the job runs."""


@dataclass(frozen=True, slots=True)
class Upscale:
    """An image of a generation twice as large, as a new generation whose parent is that one."""

    generation_id: int | None = None
    image: int | None = None
    """Which image of the generation (0-based position; None: the first). Checked when the job runs."""


@dataclass(frozen=True, slots=True)
class Status:
    pass


@dataclass(frozen=True, slots=True)
class History:
    page: int = 1


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Show the chat's settings (key is None) or set one (value None resets it)."""

    key: str | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class BanCommand:
    """``/ban add|list|remove|refused ...``: the chat's ban list; with ``guild`` (``/ban guild ...``)
    the server's, checked in every channel of it as well as the channel's own. See
    ``bot.core.content.commands``."""

    action: str = "list"
    args: str = ""
    guild: bool = False


@dataclass(frozen=True, slots=True)
class Delete:
    """``/delete #12`` (or a Delete button, the gallery's Delete): the generation, its files and the
    chat's messages that showed it, gone for good."""

    generation_id: int


@dataclass(frozen=True, slots=True)
class Hide:
    """``/hide #12`` (``hidden``) or ``/unhide #12``: the generation left out of the history, the gallery
    and "the last image", or shown again; its rows and files stay."""

    generation_id: int
    hidden: bool = True


@dataclass(frozen=True, slots=True)
class Cancel:
    """``/cancel``: the sender's waiting and running jobs in the chat, or only ``job_id`` of them
    (the web chat's Stop button on one request)."""

    job_id: int | None = None


@dataclass(frozen=True, slots=True)
class Confirm:
    """Go ahead with the request that was held back for its estimated cost."""


@dataclass(frozen=True, slots=True)
class Ignore:
    """Nothing to do (e.g. a group message not addressed to the bot)."""


@dataclass(frozen=True, slots=True)
class ScheduleCommand:
    """``/schedule add|list|remove|pause|resume|run ...``; see ``bot.core.schedules.commands``."""

    action: str
    args: str = ""


@dataclass(frozen=True, slots=True)
class BirthdayCommand:
    """``/birthday set|list|remove|template ...``; see ``bot.core.schedules.commands``."""

    action: str
    args: str = ""


Intent = (
    Generate
    | Edit
    | Reroll
    | Vary
    | Upscale
    | Status
    | History
    | Help
    | Settings
    | BanCommand
    | Delete
    | Hide
    | Cancel
    | Confirm
    | Ignore
    | ScheduleCommand
    | BirthdayCommand
)
JobIntent = Generate | Edit | Reroll | Vary | Upscale
"""The intents that become durable jobs."""
