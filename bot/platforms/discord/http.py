"""Where discord.py connects, and the interaction-webhook calls Easel makes from a stored token.

discord.py reads its REST root from the class attribute ``discord.http.Route.BASE`` each time it builds a
route (bot calls, interaction callbacks and webhooks alike) and its gateway from
``DiscordWebSocket.DEFAULT_GATEWAY`` (``Client`` never asks ``GET /gateway``). Both are per process:
:class:`Endpoints` sets them for the adapter's lifetime, restores them afterwards, and refuses a second
adapter that wants different ones in the same process.

A job may outlive the live ``discord.Interaction`` (a restart): its answer is then sent with the token
kept in the job's target. discord.py offers ``@original`` only on a live ``Interaction``, so
:func:`edit_original` and :func:`delete_original` make the very calls ``Interaction.edit_original_response``
makes (same parameter handling, same webhook rate-limit and 429/5xx handling).
"""

from __future__ import annotations

from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route, handle_message_parameters
from discord.utils import MISSING
from discord.webhook.async_ import async_context

from bot.core.errors import ConfigError

_active: list[tuple[str, str]] = []
_defaults: tuple[str, yarl.URL] | None = None


class Endpoints:
    def __init__(self, api_base_url: str, gateway_url: str) -> None:
        self.api_base_url = api_base_url.rstrip("/")
        self.gateway_url = gateway_url
        self._on = False

    def apply(self) -> None:
        global _defaults
        wanted = (self.api_base_url, self.gateway_url)
        if _active and _active[0] != wanted:
            raise ConfigError(
                "Another Discord adapter in this process uses other endpoints "
                f"({_active[0][0]}); discord.py supports one REST root and gateway per process."
            )
        if not _active:
            _defaults = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
            Route.BASE = self.api_base_url
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        _active.append(wanted)
        self._on = True

    def restore(self) -> None:
        if not self._on:
            return
        self._on = False
        _active.remove((self.api_base_url, self.gateway_url))
        if not _active and _defaults is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = _defaults


async def edit_original(
    client: discord.Client,
    token: str,
    *,
    content: str | None = MISSING,
    embed: discord.Embed | None = MISSING,
    attachments: list[discord.File] = MISSING,
    view: discord.ui.View | None = MISSING,
) -> dict[str, Any]:
    """PATCH ``/webhooks/{app}/{token}/messages/@original``; the edited message's JSON."""
    assert client.application_id is not None
    hook = discord.Webhook.partial(client.application_id, token, client=client)
    with handle_message_parameters(
        content=content, embed=embed, attachments=attachments, view=view, allowed_mentions=None
    ) as params:
        data: Any = await async_context.get().edit_original_interaction_response(
            client.application_id,
            token,
            session=hook.session,
            proxy=hook.proxy,
            proxy_auth=hook.proxy_auth,
            payload=params.payload,
            multipart=params.multipart,
            files=params.files,
        )
    return dict(data)


async def delete_original(client: discord.Client, token: str) -> None:
    """DELETE ``/webhooks/{app}/{token}/messages/@original``."""
    assert client.application_id is not None
    hook = discord.Webhook.partial(client.application_id, token, client=client)
    await async_context.get().delete_original_interaction_response(
        client.application_id, token, session=hook.session, proxy=hook.proxy, proxy_auth=hook.proxy_auth
    )


def followup(client: discord.Client, token: str) -> discord.Webhook:
    """The interaction's followup webhook (``POST /webhooks/{app}/{token}``), built as
    ``Interaction.followup`` builds it: an application webhook (type 3), which may send ephemerals."""
    assert client.application_id is not None
    data: Any = {"id": client.application_id, "type": 3, "token": token}
    return discord.Webhook.from_state(data=data, state=client._connection)
