"""The ``discord`` Platform: replies and job progress out, through an interaction or a channel.

A request that came as an interaction is answered through it: the first answer is the interaction
response (an ephemeral message for quick answers and errors, else a "thinking" deferral), later ones edit
the original response (status lines, then the result with its attachments, embed and buttons); errors
after a deferral replace it with an ephemeral follow-up. The token lives 15 minutes: a job that outlives
it (``issued_at`` in the target, by the injected clock), or whose interaction Discord no longer knows,
is answered in the channel instead, as are requests that came as messages (mentions, replies).
Where Easel may only answer (``extra["webhook_only"]``: a server that did not add Easel, other people's
DMs), there is no channel to fall back to: the answer fails (``DeliveryFailed``) and status lines are
dropped; Discord allows such an interaction 5 follow-ups, which a result (one message of at most 10
images within the upload limit) does not reach.

A reply keyed by the core (``Reply.extra[DELIVERY_KEY]``: a job's result or failure notice) is
posted in a channel with a nonce per message (:mod:`.nonces`) and ``enforce_nonce``: sent again by a process
restarted after a kill between Discord's answer and the delivery record, within Discord's few-minute
nonce window, it finds the message already made instead of posting a copy; for the same reason its
status message is deleted rather than edited into the result. Edits of an interaction's original
response are idempotent anyway; its webhook follow-ups take no nonce (a resend may repeat them).

Discord's errors arrive as ``DeliveryFailed`` (see :mod:`.discord_errors`); on a 403 (missing
permissions) the invoker is told why, privately, while the interaction still allows it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.core import i18n
from bot.core.errors import DeliveryFailed
from bot.core.i18n import N_, _
from bot.core.ports import Clock
from bot.core.types import DELIVERY_KEY, Done, Failed, GenerationRecord, JobEvent, Reply, Target
from bot.platforms.discord import files as discord_files
from bot.platforms.discord import http, render
from bot.platforms.discord.errors import MISSING_PERMISSIONS, attempt, call, forbidden, gone
from bot.platforms.discord.locales import locale_of
from bot.platforms.discord.nonces import nonced as _nonced
from bot.platforms.discord.views import result_view

log = logging.getLogger(__name__)
PLATFORM = "discord"
TOKEN_LIFETIME_S = 15 * 60
TOKEN_MARGIN_S = 60
"""A job answered later than 14 minutes after its interaction goes to the channel."""
DEFAULT_FILESIZE_LIMIT = 10 * 1024 * 1024
DELIVERED = 99
MEMORY_LIMIT = 10_000
NOTHING_TO_DO = N_("Nothing to do.")
NO_CHANNEL = "discord: the interaction can no longer be answered and Easel may not post here"

RecordLookup = Callable[[int], Awaitable[GenerationRecord | None]]


@dataclass
class Live:
    """An interaction being handled in this process; ``responded`` once Discord got its first answer."""

    interaction: discord.Interaction[Any]
    ephemeral: bool
    responded: bool = False


@dataclass
class Shown:
    stage: int
    text: str
    message_id: int | None = None
    """Channel mode: the status message."""


class DiscordDelivery:
    """Implements :class:`bot.core.ports.Platform` for one bot."""

    name = PLATFORM

    def __init__(self, client: discord.Client, *, clock: Clock) -> None:
        self._client = client
        self._clock = clock
        self.record: RecordLookup | None = None
        self._live: dict[str, Live] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._shown: dict[str, Shown] = {}
        self._dead: set[str] = set()
        """Tokens Discord no longer accepts: their answers go to the channel."""
        self._told: set[str] = set()

    # ---------------------------------------------------------------------------- live interactions

    def track(self, interaction: discord.Interaction[Any], *, ephemeral: bool) -> None:
        self._live[interaction.token] = Live(interaction, ephemeral)

    async def defer_if_silent(self, token: str) -> None:
        """Acknowledge now (thinking) when the service has not answered yet: the 3 s deadline."""
        async with self._lock(token):
            live = self._live.get(token)
            if live is not None and not live.responded:
                await self._defer(live)

    async def finish(self, token: str) -> None:
        """The handler is done: an interaction nobody answered gets a short ephemeral note."""
        async with self._lock(token):
            live = self._live.pop(token, None)
            if live is not None and not live.responded:
                with i18n.using(locale_of(live.interaction)):
                    nothing = _(NOTHING_TO_DO)
                await call(live.interaction.response.send_message(nothing, ephemeral=True))

    def forget(self, token: str) -> None:
        """The interaction's handler has ended: later answers go through the webhook."""
        self._live.pop(token, None)

    async def _defer(self, live: Live) -> None:
        try:
            await call(live.interaction.response.defer(thinking=True, ephemeral=live.ephemeral))
        except DeliveryFailed as exc:
            if isinstance(exc.__cause__, discord.NotFound):
                self._dead.add(live.interaction.token)  # too late: Discord dropped the interaction
            raise
        finally:
            live.responded = True

    # ------------------------------------------------------------------------------------------ send

    async def send(self, target: Target, reply: Reply) -> list[str]:
        key = self._key(target)
        async with self._lock(key):
            token = self._token(target)
            if token is not None:
                try:
                    return await self._send_interaction(target, token, reply)
                except DeliveryFailed as exc:
                    if not gone(exc):
                        raise
                    log.info(
                        "discord: interaction %s is gone (%s); answering in the channel",
                        target.extra.get("interaction_id"),
                        exc,
                    )
                    self._dead.add(token)
            if target.extra.get("webhook_only"):
                raise DeliveryFailed(NO_CHANNEL, permanent=True)
            return await self._send_channel(target, key, reply)

    async def _send_interaction(self, target: Target, token: str, reply: Reply) -> list[str]:
        live = self._live.get(token)
        if live is not None and not live.responded and not reply.images:
            live.responded = True  # a quick answer (or an error before any deferral): the response itself
            pieces = render.split_text(render.text_of(reply))
            ephemeral = live.ephemeral or reply.is_error
            await call(live.interaction.response.send_message(pieces[0], ephemeral=ephemeral))
            return await self._followups(token, pieces[1:], ephemeral=ephemeral)
        if live is not None and not live.responded:
            await self._defer(live)
        if reply.is_error:  # the deferral was public: replace it with an ephemeral notice
            self._shown.pop(self._key(target), None)
            await attempt(http.delete_original(self._client, token))
            pieces = render.split_text(render.text_of(reply))
            return await self._followups(token, pieces, ephemeral=True)
        if not reply.images:
            pieces = render.split_text(render.text_of(reply))
            data = await call(http.edit_original(self._client, token, content=pieces[0]))
            return [str(data["id"]), *await self._followups(token, pieces[1:], ephemeral=False)]
        return await self._deliver_result(target, token, reply)

    async def _deliver_result(self, target: Target, token: str, reply: Reply) -> list[str]:
        files, groups, embed, view = await self._result_parts(target, reply)
        first = [files[i] for i in groups[0]]
        self._shown[self._key(target)] = Shown(DELIVERED, "")
        data = await call(
            http.edit_original(
                self._client,
                token,
                content=None,
                embed=embed,
                attachments=discord_files.to_files(first),
                view=view,
            )
        )
        ids = [str(data["id"])]
        hook = http.followup(self._client, token)
        for number, group in enumerate(groups[1:], start=2):
            part = _part(reply.generation_id, number, len(groups))
            chunk = [files[i] for i in group]
            message = await call(hook.send(part, files=discord_files.to_files(chunk), wait=True))
            ids.append(str(message.id))
        return ids

    async def _followups(self, token: str, pieces: list[str], *, ephemeral: bool) -> list[str]:
        hook = http.followup(self._client, token)
        ids = []
        for piece in pieces:
            message = await call(hook.send(piece, ephemeral=ephemeral, wait=True))
            ids.append(str(message.id))
        return ids

    async def _send_channel(self, target: Target, key: str, reply: Reply) -> list[str]:
        channel = self._channel(target)
        shown = self._shown.pop(key, None)
        status = channel.get_partial_message(shown.message_id) if shown and shown.message_id else None
        reference = _reference(target)
        mention = f"<@{target.user_id}> " if target.extra.get("token") and target.user_id.isdigit() else ""
        mentions = discord.AllowedMentions(users=True, replied_user=True, everyone=False, roles=False)
        delivery_key = reply.extra.get(DELIVERY_KEY)
        keyed = isinstance(delivery_key, str) and bool(delivery_key)
        if not reply.images:
            if status is not None:
                await attempt(status.delete())
            ids = []
            for index, piece in enumerate(render.split_text(mention + render.text_of(reply))):
                sent = await call(
                    channel.send(piece, **_replying(reference, mentions) | _nonced(delivery_key, index))
                )
                ids.append(str(sent.id))
            return ids
        files, groups, embed, view = await self._result_parts(target, reply)
        self._shown[key] = Shown(DELIVERED, "")
        if keyed and status is not None:  # not edited into the result: a resend must find no copy
            await attempt(status.delete())
            status = None
        ids = []
        for index, group in enumerate(groups):
            chunk = discord_files.to_files([files[i] for i in group])
            last = index == len(groups) - 1
            content = mention or None if index == 0 else _part(reply.generation_id, index + 1, len(groups))
            if index == 0 and status is not None:
                edited = await call(
                    status.edit(content=content, embed=embed, attachments=chunk, view=view if last else None)
                )
                ids.append(str(edited.id))
                continue
            options: dict[str, Any] = {"files": chunk, "allowed_mentions": mentions}
            if index == 0:
                options["embed"] = embed
                if reference is not None:
                    options["reference"] = reference
            if last and view is not None:
                options["view"] = view
            sent = await call(channel.send(content, **options | _nonced(delivery_key, index)))
            ids.append(str(sent.id))
        return ids

    async def _result_parts(
        self, target: Target, reply: Reply
    ) -> tuple[list[tuple[str, bytes]], list[list[int]], discord.Embed, discord.ui.View | None]:
        limit = int(target.extra.get("filesize_limit") or DEFAULT_FILESIZE_LIMIT)
        named = await discord_files.prepare(
            reply.images, generation_id=reply.generation_id, limit=limit, spoiler=reply.spoiler
        )
        groups = discord_files.batches([len(data) for _, data in named], limit=limit)
        record = None
        if reply.generation_id is not None and self.record is not None:
            record = await self.record(reply.generation_id)
        embed = render.result_embed(reply, record)
        view = (
            result_view(reply.generation_id, reply.actions, len(reply.images))
            if reply.generation_id is not None and reply.actions
            else None
        )
        return named, groups, embed, view

    # ----------------------------------------------------------------------------------------- event

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        key = self._key(target)
        if isinstance(event, Done):
            self._shown.pop(key, None)
        if isinstance(event, Done | Failed):  # the result or the error notice is sent by ``send``
            return
        text = render.status_text(event)
        if text is None:
            return
        async with self._lock(key):
            shown = self._shown.get(key)
            if shown is not None and (shown.stage > render.stage(event) or shown.text == text):
                return
            token = self._token(target)
            if token is not None:
                try:
                    live = self._live.get(token)
                    if live is not None and not live.responded:
                        await self._defer(live)
                    await call(http.edit_original(self._client, token, content=text))
                    self._shown[key] = Shown(render.stage(event), text)
                    return
                except DeliveryFailed as exc:
                    if not gone(exc):
                        raise
                    self._dead.add(token)
            if target.extra.get("webhook_only"):
                return  # no channel to show it in
            await self._status_in_channel(target, key, shown, text, render.stage(event))

    async def _status_in_channel(
        self, target: Target, key: str, shown: Shown | None, text: str, stage: int
    ) -> None:
        channel = self._channel(target)
        if shown is not None and shown.message_id is not None:
            message = channel.get_partial_message(shown.message_id)
            await call(message.edit(content=text))
            shown.stage, shown.text = stage, text
            return
        quiet = discord.AllowedMentions.none()
        reference = _reference(target)
        sent = await call(channel.send(text, **_replying(reference, quiet)))
        self._shown[key] = Shown(stage, text, sent.id)

    async def delete(self, target: Target, message_ids: list[str]) -> None:
        """Delete the bot's messages in the target's channel (one already gone is skipped)."""
        if target.extra.get("webhook_only"):
            return  # no channel access: only the pressed message can go (through its interaction)
        channel = self._channel(target)
        for message_id in message_ids:
            if message_id.isascii() and message_id.isdigit():
                await attempt(channel.get_partial_message(int(message_id)).delete())

    # --------------------------------------------------------------------------------------- helpers

    def _key(self, target: Target) -> str:
        token = target.extra.get("token")
        if isinstance(token, str):
            return token
        return f"{target.chat_id}:{target.reply_to_message_id}"

    def _token(self, target: Target) -> str | None:
        """The interaction token while it can still be used, else None (answer in the channel)."""
        token = target.extra.get("token")
        if not isinstance(token, str) or token in self._dead:
            return None
        issued = target.extra.get("issued_at")
        if isinstance(issued, int | float):
            age = self._clock.now().timestamp() - issued
            if age > TOKEN_LIFETIME_S - TOKEN_MARGIN_S:
                return None
        return token

    def _channel(self, target: Target) -> discord.PartialMessageable:
        channel_id = int(target.extra.get("channel_id") or target.chat_id)
        return self._client.get_partial_messageable(channel_id)

    def _lock(self, key: str) -> asyncio.Lock:
        if len(self._locks) > MEMORY_LIMIT:  # forget finished conversations (tokens die in 15 minutes)
            self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            self._shown = {k: v for k, v in self._shown.items() if k in self._locks}
            self._dead.clear()
            self._told.clear()
        return self._locks.setdefault(key, asyncio.Lock())

    async def tell_forbidden(self, target: Target, exc: DeliveryFailed) -> None:
        """Missing permissions: tell the invoker privately (once per interaction) when we still can."""
        token = target.extra.get("token")
        if not forbidden(exc) or not isinstance(token, str):
            return
        if token in self._told or token in self._dead:
            return
        self._told.add(token)
        hook = http.followup(self._client, token)
        await attempt(hook.send(_(MISSING_PERMISSIONS), ephemeral=True, wait=True))


def _reference(target: Target) -> discord.MessageReference | None:
    message_id = target.extra.get("reply_to")
    channel_id = target.extra.get("channel_id") or target.chat_id
    if message_id is None:
        return None
    return discord.MessageReference(
        message_id=int(message_id), channel_id=int(channel_id), fail_if_not_exists=False
    )


def _replying(
    reference: discord.MessageReference | None, mentions: discord.AllowedMentions
) -> dict[str, Any]:
    options: dict[str, Any] = {"allowed_mentions": mentions}
    if reference is not None:
        options["reference"] = reference
    return options


def _part(generation_id: int | None, number: int, total: int) -> str:
    """The text of a result's later message (a set larger than one message takes), e.g. ``#12 · part 2/3``."""
    return _("#{id} · part {number}/{total}").format(id=generation_id, number=number, total=total)
