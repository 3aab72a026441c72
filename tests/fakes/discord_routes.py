"""The fake Discord's REST endpoints: one handler per route, matched by method and path.

User-installable apps (docs.discord.com: Application Commands → Contexts and the bulk-overwrite JSON
params; Receiving and Responding → Create Followup Message; Opcodes and Status Codes): a command sync
is held to Discord's rules by :mod:`.discord_command_rules` (contexts, names, localizations); an
interaction only the user install authorized takes at most 5
follow-ups (40094 "This interaction has hit the maximum number of follow up messages"; [unv] HTTP 400);
the bot's channel calls where it is not (a guild that did not add Easel, other people's DMs, group DMs)
answer 403 Missing Access (50001).
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.discord_command_rules import check_command
from tests.fakes.discord_nonces import check_nonce
from tests.fakes.discord_rest import (
    ApiError,
    Upload,
    apply_message,
    json_response,
    validate_message,
)
from tests.fakes.discord_world import APP_ID, BOT_ID, DEFAULT_FILESIZE_LIMIT, EPHEMERAL, LOADING, Interaction

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord

Handler = Callable[[web.Request, Upload], Awaitable[web.StreamResponse]]
MAX_USER_INSTALL_FOLLOWUPS = 5


def route(fake: FakeDiscord, method: str, path: str) -> tuple[str, Handler]:
    for pattern, methods, name, make in _ROUTES:
        match = re.fullmatch(pattern, path)
        if match and method in methods:
            return name, make(fake, match)
    raise ApiError(404, "404: Not Found", 0)


def _authorised(fake: FakeDiscord, request: web.Request) -> None:
    if request.headers.get("Authorization") != f"Bot {fake.token}":
        raise ApiError(401, "401: Unauthorized", 0)


def _interaction(fake: FakeDiscord, app: str, token: str) -> Interaction:
    interaction = fake.world.interactions.get(token)
    if int(app) != APP_ID or interaction is None:
        raise ApiError(404, "Unknown Webhook", 10015)
    if interaction.expired:
        raise ApiError(401, "Invalid Webhook Token", 50027)
    if interaction.response_type is None:
        raise ApiError(404, "Unknown Webhook", 10015)
    return interaction


def _filesize_limit(fake: FakeDiscord, channel_id: int) -> int:
    guild_id = fake.world.channels[channel_id].guild_id
    guild = fake.world.guilds.get(guild_id) if guild_id is not None else None
    return guild.filesize_limit if guild else DEFAULT_FILESIZE_LIMIT


def _no_content(request: web.Request) -> web.Response:
    return web.Response(status=204)


# -------------------------------------------------------------------------------------- identity


def _me(fake: FakeDiscord, match: re.Match[str]) -> Handler:
    async def handle(request: web.Request, upload: Upload) -> web.StreamResponse:
        _authorised(fake, request)
        return json_response(fake.world.users[BOT_ID] | {"verified": True, "mfa_enabled": False, "flags": 0})

    return handle


def _application(fake: FakeDiscord, match: re.Match[str]) -> Handler:
    async def handle(request: web.Request, upload: Upload) -> web.StreamResponse:
        _authorised(fake, request)
        return json_response(
            {
                "id": str(APP_ID), "name": "Easel", "description": "", "icon": None, "bot_public": True,
                "bot_require_code_grant": False, "owner": fake.world.users[BOT_ID], "verify_key": "0" * 64,
                "flags": 0, "team": None, "summary": "", "rpc_origins": [],
                "integration_types_config": {"0": {}, "1": {}},
            }
        )  # fmt: skip

    return handle


def _gateway_info(fake: FakeDiscord, match: re.Match[str]) -> Handler:
    async def handle(request: web.Request, upload: Upload) -> web.StreamResponse:
        if not match["bot"]:
            return json_response({"url": fake.gateway_url})
        _authorised(fake, request)
        return json_response(fake.gateway.bot_info())

    return handle


def _commands(fake: FakeDiscord, match: re.Match[str]) -> Handler:
    async def handle(request: web.Request, upload: Upload) -> web.StreamResponse:
        _authorised(fake, request)
        if int(match["app"]) != APP_ID:
            raise ApiError(403, "Missing Access", 50001)
        guild = int(match["guild"]) if match["guild"] else None
        if guild is not None and guild not in fake.world.guilds:
            raise ApiError(403, "Missing Access", 50001)
        body = upload.payload
        assert isinstance(body, list), "command sync sends a JSON array"
        synced = []
        for index, command in enumerate(body):
            check_command(index, command)
            out = dict(command, id=str(fake.world.snowflake()), application_id=str(APP_ID), version="1")
            out.setdefault("type", 1)
            out.setdefault("description", "")
            out.setdefault("options", [])
            out.setdefault("nsfw", False)
            if out.get("default_member_permissions") is not None:  # Discord answers bit sets as strings
                out["default_member_permissions"] = str(out["default_member_permissions"])
            if guild is not None:
                out["guild_id"] = str(guild)
            synced.append(out)
        fake.commands[guild] = synced
        return json_response(synced)

    return handle


# ------------------------------------------------------------------------------------ interactions


def _callback(fake: FakeDiscord, match: re.Match[str]) -> Handler:
    async def handle(request: web.Request, upload: Upload) -> web.StreamResponse:
        interaction = fake.world.interactions.get(match["token"])
        if interaction is None or str(interaction.id) != match["id"]:
            raise ApiError(404, "Unknown interaction", 10062)
        fake.check_ack_window(interaction)
        kind = int(upload.payload["type"])
        data = upload.payload.get("data") or {}
        ephemeral = bool(int(data.get("flags") or 0) & EPHEMERAL) or interaction.forced_ephemeral
        message: dict[str, Any] | None = None
        if kind == 9:
            interaction.modal = data
        elif kind in (4, 5):
            if kind == 4:
                validate_message(data, upload, filesize_limit=interaction.filesize_limit)
            message = fake.world.message(
                interaction.channel_id,
                BOT_ID,
                flags=(LOADING if kind == 5 else 0) | (EPHEMERAL if ephemeral else 0),
                interaction=interaction,
                webhook=True,
            )
            if kind == 4:
                apply_message(fake.world, message, data, upload, fake.origin)
            interaction.original_id = int(message["id"])
        elif kind in (6, 7):
            if interaction.message_id is None:
                raise ApiError(400, "Interaction has no message to update", 50035)
            interaction.original_id = interaction.message_id
            if kind == 7:
                message = fake.world.messages[interaction.message_id]
                apply_message(fake.world, message, data, upload, fake.origin)
        elif kind == 8:
            pass  # autocomplete choices: kept in the call log
        else:
            raise ApiError(400, "Invalid interaction response type", 50035)
        interaction.response_type = kind
        interaction.ephemeral = ephemeral
        interaction.responded_at = time.monotonic()
        if "with_response" not in request.query:
            return _no_content(request)
        body: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_id": str(interaction.original_id) if interaction.original_id else None,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": ephemeral,
            },
            "resource": {"type": kind},
        }
        if message is not None:
            body["resource"]["message"] = message
        return json_response(body)

    return handle


def _webhook_message(fake: FakeDiscord, match: re.Match[str]) -> Handler:
    async def handle(request: web.Request, upload: Upload) -> web.StreamResponse:
        interaction = _interaction(fake, match["app"], match["token"])
        ident = match["message"]
        message_id = interaction.original_id if ident == "@original" else int(ident)
        if message_id is None or message_id in fake.world.deleted or message_id not in fake.world.messages:
            raise ApiError(404, "Unknown Message", 10008)
        if ident != "@original" and message_id not in interaction.followups:
            raise ApiError(404, "Unknown Message", 10008)
        message = fake.world.messages[message_id]
        if request.method == "GET":
            return json_response(message)
        if request.method == "DELETE":
            fake.world.deleted.add(message_id)
            return _no_content(request)
        validate_message(upload.payload, upload, filesize_limit=interaction.filesize_limit)
        apply_message(fake.world, message, upload.payload, upload, fake.origin)
        message["flags"] = message.get("flags", 0) & ~LOADING
        message["edited_timestamp"] = fake.now_iso()
        return json_response(message)

    return handle


def _followup(fake: FakeDiscord, match: re.Match[str]) -> Handler:
    async def handle(request: web.Request, upload: Upload) -> web.StreamResponse:
        interaction = _interaction(fake, match["app"], match["token"])
        payload = upload.payload
        validate_message(payload, upload, filesize_limit=interaction.filesize_limit)
        if interaction.user_install_only and len(interaction.followups) >= MAX_USER_INSTALL_FOLLOWUPS:
            raise ApiError(400, "This interaction has hit the maximum number of follow up messages", 40094)
        ephemeral = bool(int(payload.get("flags") or 0) & EPHEMERAL) or interaction.forced_ephemeral
        message = fake.world.message(
            interaction.channel_id,
            BOT_ID,
            flags=EPHEMERAL if ephemeral else 0,
            interaction=interaction,
            webhook=True,
        )
        apply_message(fake.world, message, payload, upload, fake.origin)
        interaction.followups.append(int(message["id"]))
        if request.query.get("wait") not in ("1", "true", "True"):
            return _no_content(request)
        return json_response(message)

    return handle


# ---------------------------------------------------------------------------------------- channels


def _channel_messages(fake: FakeDiscord, match: re.Match[str]) -> Handler:
    async def handle(request: web.Request, upload: Upload) -> web.StreamResponse:
        _authorised(fake, request)
        channel_id = int(match["channel"])
        channel = fake.world.channels.get(channel_id)
        if channel is None:
            raise ApiError(404, "Unknown Channel", 10003)
        if not fake.world.bot_can_see(channel_id):
            raise ApiError(403, "Missing Access", 50001)
        if channel.denied:
            raise ApiError(403, str(channel.denied["message"]), int(channel.denied["code"]))
        if request.method == "GET":
            return json_response(list(reversed(fake.channel_messages(channel_id, by_bot=False)))[:50])
        payload = upload.payload
        validate_message(payload, upload, filesize_limit=_filesize_limit(fake, channel_id))
        nonce = check_nonce(payload)
        if not (payload.get("content") or payload.get("embeds") or upload.files):
            raise ApiError(400, "Cannot send an empty message", 50006)
        enforced = nonce is not None and payload.get("enforce_nonce") is True
        if enforced and nonce is not None:
            earlier = fake.nonces.earlier(BOT_ID, channel_id, nonce)
            if earlier is not None and earlier in fake.world.deleted:
                raise ApiError(404, "Unknown Message", 10008)
            if earlier is not None:
                return json_response(fake.world.messages[earlier])  # the same message, nothing new
        reference = (payload.get("message_reference") or {}).get("message_id")
        message = fake.world.message(channel_id, BOT_ID, reference=int(reference) if reference else None)
        apply_message(fake.world, message, payload, upload, fake.origin)
        if nonce is not None:
            message["nonce"] = payload["nonce"]
            if enforced:
                fake.nonces.remember(BOT_ID, channel_id, nonce, int(message["id"]))
        if upload.files and (hold := fake.hold_uploads) is not None:
            await fake._notify()  # the message exists now: waiters see it while its answer is held
            await hold.wait()
        return json_response(message)

    return handle


def _channel_message(fake: FakeDiscord, match: re.Match[str]) -> Handler:
    async def handle(request: web.Request, upload: Upload) -> web.StreamResponse:
        _authorised(fake, request)
        channel_id, message_id = int(match["channel"]), int(match["message"])
        if channel_id in fake.world.channels and not fake.world.bot_can_see(channel_id):
            raise ApiError(403, "Missing Access", 50001)
        message = fake.world.messages.get(message_id)
        if message is None or message_id in fake.world.deleted or message["channel_id"] != str(channel_id):
            raise ApiError(404, "Unknown Message", 10008)
        if request.method == "GET":
            return json_response(message)
        if message["author"]["id"] != str(BOT_ID) and request.method == "PATCH":
            raise ApiError(403, "Cannot edit a message authored by another user", 50005)
        if request.method == "DELETE":
            fake.world.deleted.add(message_id)
            return _no_content(request)
        validate_message(upload.payload, upload, filesize_limit=_filesize_limit(fake, channel_id))
        apply_message(fake.world, message, upload.payload, upload, fake.origin)
        return json_response(message)

    return handle


_ROUTES: list[tuple[str, frozenset[str], str, Callable[[FakeDiscord, re.Match[str]], Handler]]] = [
    (r"/users/@me", frozenset({"GET"}), "me", _me),
    (r"/oauth2/applications/@me", frozenset({"GET"}), "application", _application),
    (r"/gateway(?P<bot>/bot)?", frozenset({"GET"}), "gateway", _gateway_info),
    (
        r"/applications/(?P<app>\d+)(?:/guilds/(?P<guild>\d+))?/commands",
        frozenset({"PUT"}),
        "commands",
        _commands,
    ),
    (r"/interactions/(?P<id>\d+)/(?P<token>[^/]+)/callback", frozenset({"POST"}), "callback", _callback),
    (
        r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<message>@original)",
        frozenset({"GET", "PATCH", "DELETE"}),
        "original",
        _webhook_message,
    ),
    (
        r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<message>\d+)",
        frozenset({"GET", "PATCH", "DELETE"}),
        "webhook_message",
        _webhook_message,
    ),
    (r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", frozenset({"POST"}), "followup", _followup),
    (
        r"/channels/(?P<channel>\d+)/messages",
        frozenset({"GET", "POST"}),
        "channel_messages",
        _channel_messages,
    ),
    (
        r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)",
        frozenset({"GET", "PATCH", "DELETE"}),
        "channel_message",
        _channel_message,
    ),
]
