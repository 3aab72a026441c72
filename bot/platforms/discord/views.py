"""The result buttons (persistent: a ``DynamicItem`` matched by custom id, registered at start, so a
button pressed days later or after a restart still works) and the modal that asks how to edit an image."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import discord

from bot.core import i18n
from bot.core.i18n import N_, _
from bot.core.texts import UNEXPECTED
from bot.core.types import Action
from bot.platforms.discord import render
from bot.platforms.discord.locales import locale_of

log = logging.getLogger(__name__)


class ButtonHandler(Protocol):
    async def on_button(self, interaction: discord.Interaction[Any], button: render.Button) -> None: ...


IDENTIFY_WINDOW_S = 5.0
"""Discord takes ``max_concurrency`` IDENTIFYs per 5 s, one per bucket (``shard_id % max_concurrency``)."""


class EaselClient(discord.Client):
    """A ``discord.Client`` that knows who handles button presses and messages."""

    button_handler: ButtonHandler | None = None
    message_handler: Callable[[discord.Message], Awaitable[None]] | None = None

    async def on_message(self, message: discord.Message) -> None:
        if self.message_handler is not None:
            await self.message_handler(message)


class EaselShardedClient(EaselClient, discord.AutoShardedClient):
    """The same over a range of shards (``discord.shard_count`` / ``shard_ids``), one connection each.

    Shards identify as fast as Discord allows: ``max_concurrency`` (from ``GET /gateway/bot``'s
    ``session_start_limit``, set before connecting) IDENTIFYs per 5 s, one per bucket, instead of
    discord.py's fixed 5 s between any two."""

    max_concurrency = 1

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._buckets: dict[int, tuple[asyncio.Lock, list[float]]] = {}

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        bucket = (shard_id or 0) % max(1, self.max_concurrency)
        lock, last = self._buckets.setdefault(bucket, (asyncio.Lock(), []))
        async with lock:
            loop = asyncio.get_running_loop()
            if last:
                wait = last[0] + IDENTIFY_WINDOW_S - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            last[:] = [loop.time()]


NO_LONGER_WORKS = N_("This button no longer works.")
PER_ROW = 5
"""Discord: at most 5 buttons in a row, 5 rows in a message."""
MAX_ROWS = 5
MAX_PER_IMAGE = (MAX_ROWS - 1) // (len(render.PER_IMAGE_ACTIONS) - 1) * PER_ROW
"""Sets up to 10 images get per-image buttons (two rows each of Vary k and Edit k, one of the rest);
sets of up to 5 also a row of Upscale k (three rows and one of the rest)."""


class ResultButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=render.BUTTON_TEMPLATE):
    def __init__(self, button: render.Button | None, *, row: int | None = None, custom_id: str = "") -> None:
        """``button`` None: a custom id of our shape that names nothing (forged, or an impossible id)."""
        if button is None:
            item: discord.ui.Button[Any] = discord.ui.Button(label="?", custom_id=custom_id or "easel:?")
        else:
            name, emoji, style = render.label(button.action, button.image)
            item = discord.ui.Button(
                label=name, emoji=emoji, style=style, custom_id=render.encode(button), row=row
            )
        super().__init__(item)
        self.button = button

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> ResultButton:
        return cls(render.decode(match["data"]), custom_id=match.string)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        handler = client.button_handler if isinstance(client, EaselClient) else None
        if handler is None:
            return
        with i18n.using(locale_of(interaction)):  # the presser's language (the chat's is the core's)
            if self.button is None:
                await interaction.response.send_message(_(NO_LONGER_WORKS), ephemeral=True)
                return
            try:
                await handler.on_button(interaction, self.button)
            except Exception:
                log.exception("discord: the %s button failed", self.button.action.value)
                await apologise(interaction)


async def apologise(interaction: discord.Interaction[Any]) -> None:
    """Tell the user (ephemeral, in the current language) that something went wrong on our side; it
    has been logged."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(_(UNEXPECTED), ephemeral=True)
        else:
            await interaction.response.send_message(_(UNEXPECTED), ephemeral=True)
    except discord.HTTPException as exc:
        log.info("discord: could not tell the user about the error: %s", exc)


def result_view(generation_id: int, actions: tuple[Action, ...], count: int = 1) -> discord.ui.View:
    """One image: Reroll, Vary, Upscale, Edit, Delete in a row. A set of ``count`` (up to 10): a row
    of Vary 1…n, one of Upscale 1…n (up to 5 images) and one of Edit 1…n (two each of Vary and Edit
    above 5 images), then Reroll and Delete."""
    view = discord.ui.View(timeout=None)
    shown = [action for action in render.SHOWN_ACTIONS if action in actions]
    if not 1 < count <= MAX_PER_IMAGE:
        for action in shown:
            view.add_item(ResultButton(render.Button(action, generation_id)))
        return view
    row = 0
    per_image = [a for a in shown if a in render.PER_IMAGE_ACTIONS]
    if count > PER_ROW:  # two rows each of Vary and Edit: no room for rows of Upscale k as well
        per_image = [a for a in per_image if a is not Action.UPSCALE]
    for action in per_image:
        for start in range(0, count, PER_ROW):
            for image in range(start, min(count, start + PER_ROW)):
                view.add_item(ResultButton(render.Button(action, generation_id, image), row=row))
            row += 1
    for action in (a for a in shown if a not in render.PER_IMAGE_ACTIONS):
        view.add_item(ResultButton(render.Button(action, generation_id), row=row))
    return view


Submit = Callable[[discord.Interaction[Any], str], Awaitable[None]]


EDIT_IMAGE = N_("Edit image")
EDIT_IMAGE_K = N_("Edit image {number}")
HOW_TO_CHANGE = N_("How should I change it?")
CHANGE_EXAMPLES = N_("make it warmer, add a hat, at night…")


class EditModal(discord.ui.Modal):
    """Asks "How should I change it?"; ``on_submit`` gets the answer. Its texts are in the current
    language (a result button's press runs in the presser's, see :meth:`ResultButton.callback`)."""

    def __init__(
        self, *, custom_id: str, submit: Submit, title: str | None = None, image: int | None = None
    ) -> None:
        """``title`` None: "Edit image" (``image`` None) or "Edit image k" (``image`` k-1), translated."""
        if title is None:
            title = _(EDIT_IMAGE) if image is None else _(EDIT_IMAGE_K).format(number=image + 1)
        super().__init__(title=title, custom_id=custom_id, timeout=15 * 60)
        self.instruction: discord.ui.TextInput[EditModal] = discord.ui.TextInput(
            label=_(HOW_TO_CHANGE),
            placeholder=_(CHANGE_EXAMPLES),
            style=discord.TextStyle.paragraph,
            min_length=1,
            max_length=1000,
        )
        self.add_item(self.instruction)
        self._submit = submit

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self._submit(interaction, self.instruction.value)

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]  # Modal narrows it
        log.error("discord: the edit form failed", exc_info=error)
        with i18n.using(locale_of(interaction)):
            await apologise(interaction)
