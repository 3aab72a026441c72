"""A strict loopback fake of the Telegram Bot API, spoken to by the real python-telegram-bot.

It answers ``POST /bot<token>/<method>`` with Telegram's envelope and real status codes, enforces the
limits PTB does not (photo 10 MB, width + height <= 10000, ratio <= 20, caption 1024, text 4096, albums
of 2-10, callback data <= 64 bytes, "message is not modified", downloads <= 20 MB), long-polls
``getUpdates`` (offset, limit, timeout; parked polls are released on shutdown) and serves files under
``/file/bot<token>/<path>``. With a webhook set (``setWebhook`` checks ``secret_token``: 1-256 of
``A-Z a-z 0-9 _ -``; ``max_connections`` 1-100) updates are POSTed to it instead; ``push_webhook`` posts
one, to any replica's URL (as a load balancer would), and reports the status Telegram would see::

    async with FakeTelegram() as tg:            # tg.base_url / tg.base_file_url for PTB
        tg.say(42, 42, "/imagine a fox")        # a user writes to the bot (an Update is queued)
        await tg.wait_for(lambda: tg.photos(42))
        tg.fail_next("sendPhoto", 429, retry_after=1)   # or 403, 502, delay_s=...
        tg.press(42, message_id, 42, "r:1")     # a button press

State (chats, messages, files, updates) lives in :class:`tests.fakes.telegram_world.World`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

import aiohttp
from aiohttp import web

from tests.fakes.telegram_world import (
    BOT_ID,
    BOT_USER,
    BOT_USERNAME,
    MAX_DOWNLOAD_BYTES,
    World,
    image_size,
    user_json,
)

TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_CAPTION = 1024
MAX_TEXT = 4096
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "media",
        "commands",
        "allowed_updates",
        "scope",
        "message_ids",
        "results",
        "button",
    }
)
_INT_FIELDS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "timeout", "user_id", "message_thread_id", "max_connections"}
)
_ADMIN_RIGHTS = (
    "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
    "can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users",
    "can_post_stories", "can_edit_stories", "can_delete_stories",
)  # fmt: skip
DEFAULT_UPDATES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post", "inline_query",
        "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query", "poll",
        "poll_answer", "my_chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
    }
)  # fmt: skip
"""Update kinds sent when ``allowed_updates`` was never given (chat_member and reactions need asking)."""
MAX_INLINE_RESULTS = 50
MAX_RESULT_ID_BYTES = 64
NO_INLINE_UPLOAD = "Bad Request: can't upload a file to an inline message"
"""editMessageMedia on an inline message with an upload (``attach://``): the Bot API documents that a new
file cannot be uploaded there; this description's exact wording is the fake's."""
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    content_type: str


@dataclass
class Fault:
    method: str | None
    status: int = 0
    description: str = ""
    parameters: dict[str, Any] | None = None
    delay_s: float = 0.0
    gate: asyncio.Event | None = None
    answer_after_s: float = 0.0
    """The call takes effect at once (a photo is visible in the chat), its answer comes this much later."""


@dataclass
class Webhook:
    url: str
    secret_token: str | None
    statuses: list[int] = field(default_factory=list)


class FakeTelegram:
    """Start with ``async with``; see the module docstring."""

    def __init__(self, *, token: str = TOKEN) -> None:
        self.token = token
        self.world = World()
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.commands: list[dict[str, Any]] = []
        self.commands_by_language: dict[str, list[dict[str, Any]]] = {}
        """setMyCommands per ``language_code`` ("" for everyone's default list, also ``commands``)."""
        self.webhook: Webhook | None = None
        self.sent: list[dict[str, Any]] = []
        """Every message the bot sent (or re-sent by editing media), in order."""
        self.answered: dict[str, dict[str, Any]] = {}
        """Callback query id → answerCallbackQuery parameters."""
        self.inline_answers: dict[str, dict[str, Any]] = {}
        """Inline query id → answerInlineQuery parameters."""
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATES
        """The update kinds the bot asked for (getUpdates / setWebhook ``allowed_updates``); Telegram
        does not keep the others for the bot."""
        self.inline_feedback = True
        """@BotFather's /setinlinefeedback: chosen inline results are sent to the bot."""
        self._changed = asyncio.Condition()
        self._closing = False
        self._poll_generation = 0
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._session: aiohttp.ClientSession | None = None

    # ---------------------------------------------------------------------------------- lifecycle

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.origin}/file/bot"

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self._port = server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        async with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -------------------------------------------------------------------------------- test driving

    def say(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """A user sends text (entities for /commands and @mentions included)."""
        message = self.world.user_message(chat_id, user_id, text=text, reply_to=reply_to, thread_id=thread_id)
        self._updated()
        return message

    def send_photo_from_user(
        self,
        chat_id: int,
        user_id: int,
        photo: bytes,
        caption: str | None = None,
        *,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        message = self.world.user_message(chat_id, user_id, photo=photo, caption=caption, reply_to=reply_to)
        self._updated()
        return message

    def press(self, chat_id: int, message_id: int, user_id: int, data: str) -> str:
        """A user presses an inline button; returns the callback query id."""
        query_id = self.world.callback(chat_id, message_id, user_id, data)
        self._updated()
        return query_id

    def press_inline(self, inline_message_id: str, user_id: int, data: str, *, forged: bool = False) -> str:
        """A user presses a button of an inline message (``forged``: data no button of it has, as a
        modified client can send); returns the callback query id."""
        query_id = self.world.inline_callback(inline_message_id, user_id, data, forged=forged)
        self._updated()
        return query_id

    def inline(self, user_id: int, query: str) -> str:
        """A user types ``@bot <query>`` in some chat; returns the inline query id."""
        query_id = self.world.inline_query(user_id, query)
        self._updated()
        return query_id

    def choose(self, query_id: str, index: int = 0) -> str | None:
        """The user taps result ``index`` of the bot's answer to that query; returns the new inline
        message's id (the bot hears it only if the result has an inline keyboard)."""
        answer = self.inline_answers[query_id]
        inline_message_id = self.world.chosen_inline_result(
            self.world.inline_queries[query_id], answer["results"][index], feedback=self.inline_feedback
        )
        if self.inline_feedback:
            self._updated()
        return inline_message_id

    def inline_message(self, inline_message_id: str) -> dict[str, Any]:
        """An inline message as it is now (after edits)."""
        return self.world.inline_messages[inline_message_id]

    def group(self, chat_id: int, *, admins: tuple[int, ...] = (), forum: bool = False) -> None:
        chat = self.world.chat(chat_id)
        chat.type, chat.is_forum, chat.admins = "supergroup", forum, set(admins)

    def block(self, chat_id: int) -> None:
        """The user of a private chat blocks the bot: every send there answers 403."""
        self.world.chat(chat_id).blocked = True

    def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group becomes a supergroup with a new id (sends to the old id answer 400 + the new id)."""
        old = self.world.chat(old_chat_id)
        old.migrated_to = new_chat_id
        new = self.world.chat(new_chat_id)
        new.admins |= old.admins

    def fail_next(
        self,
        method: str | None,
        status: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next call(s) of ``method`` (None: any but getUpdates) fail with Telegram's error body."""
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after}",
                403: "Forbidden: bot was blocked by the user",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(status, "Bad Request: something is wrong")
        for _ in range(times):
            self.faults.append(Fault(method, status, description, parameters))

    def delay_next(self, method: str, seconds: float) -> None:
        """The next call of ``method`` is answered (normally) after ``seconds``."""
        self.faults.append(Fault(method, delay_s=seconds))

    def answer_late(self, method: str, seconds: float) -> None:
        """The next call of ``method`` takes effect at once but is answered ``seconds`` later (a big
        upload: the photo shows in the chat before the bot hears back)."""
        self.faults.append(Fault(method, answer_after_s=seconds))

    def hold_next(self, method: str) -> asyncio.Event:
        """The next call of ``method`` is answered (normally) once the returned event is set."""
        gate = asyncio.Event()
        self.faults.append(Fault(method, gate=gate))
        return gate

    async def wait_for(self, predicate: Callable[[], object], within_s: float = 15.0) -> None:
        """Until ``predicate()`` is true (checked after every call the bot makes and every injection)."""

        async def waiting() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: bool(predicate()))

        await asyncio.wait_for(waiting(), within_s)

    async def push_webhook(
        self,
        update: dict[str, Any],
        *,
        secret: str | None = None,
        url: str | None = None,
        timeout_s: float | None = None,
    ) -> int:
        """POST one update to the registered webhook as Telegram does; return the HTTP status.
        ``url``: post to that replica instead (what a load balancer in front of several does);
        ``timeout_s``: give up waiting for the answer (Telegram then counts it as failed: 0)."""
        assert self.webhook is not None, "no webhook set"
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"Content-Type": "application/json"}
        token = secret if secret is not None else self.webhook.secret_token
        if token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        try:
            async with self._session.post(
                url or self.webhook.url, data=json.dumps(update), headers=headers, timeout=timeout
            ) as resp:
                status = resp.status
        except TimeoutError:
            status = 0
        self.webhook.statuses.append(status)
        return status

    # ---------------------------------------------------------------------------------- inspection

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["chat"]["id"] == chat_id]

    def photos(self, chat_id: int) -> list[dict[str, Any]]:
        """Photo messages the bot sent to the chat that still exist."""
        return [
            m
            for m in self.sent_to(chat_id)
            if "photo" in m and self.world.get_message(chat_id, m["message_id"]) is m
        ]

    def documents(self, chat_id: int) -> list[dict[str, Any]]:
        """Document messages the bot sent to the chat that still exist."""
        return [
            m
            for m in self.sent_to(chat_id)
            if "document" in m and self.world.get_message(chat_id, m["message_id"]) is m
        ]

    def texts(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sent_to(chat_id) if "text" in m]

    def file_bytes(self, message: dict[str, Any]) -> bytes:
        """The bytes of a message's photo (largest size) or document."""
        file_id = message["photo"][-1]["file_id"] if "photo" in message else message["document"]["file_id"]
        return self.world.files[file_id].data

    def current(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A message as it is now (after edits), or None when deleted."""
        return self.world.get_message(chat_id, message_id)

    # ------------------------------------------------------------------------------------- serving

    def _updated(self) -> None:
        asyncio.get_running_loop().create_task(self._notify())
        if not self._wanted(self.world.updates[-1]):
            self.world.updates.pop()  # not asked for: Telegram does not keep it for the bot
            return
        if self.webhook is not None:
            update = self.world.updates.pop()
            asyncio.get_running_loop().create_task(self.push_webhook(update))

    def _wanted(self, update: dict[str, Any]) -> bool:
        return any(kind in self.allowed_updates for kind in update if kind != "update_id")

    def _ask_for(self, params: dict[str, Any]) -> None:
        """``allowed_updates`` given: from now on only those kinds (an empty list: the default)."""
        kinds = params.get("allowed_updates")
        if isinstance(kinds, list):
            self.allowed_updates = frozenset(map(str, kinds)) or DEFAULT_UPDATES

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        try:
            params, files = await _read_params(request)
            self.calls.append(Call(method, params, files, request.content_type))
            await self._notify()
            fault = self._take_fault(method)
            if fault is not None and fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault is not None and fault.gate is not None:
                await fault.gate.wait()
            if fault is not None and fault.status:
                raise ApiError(fault.status, fault.description, fault.parameters)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params, files)
            if fault is not None and fault.answer_after_s:
                await self._notify()
                await asyncio.sleep(fault.answer_after_s)
        except ApiError as exc:
            return _error(exc)
        finally:
            await self._notify()
        return web.json_response({"ok": True, "result": result})

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method or (fault.method is None and method != "getUpdates"):
                self.faults.remove(fault)
                return fault
        return None

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        stored = self.world.files_by_path.get(request.match_info["path"])
        if stored is None:
            return _error(ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # ------------------------------------------------------------------------------------- methods

    async def _m_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return BOT_USER | {"can_join_groups": True, "can_read_all_group_messages": False}

    async def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self.world.updates.clear()
        return True

    async def _m_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        url = str(params.get("url") or "")
        if not url.startswith(("https://", "http://127.0.0.1")):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None:
            secret = str(secret)
            if len(secret) > 256:
                raise bad("secret token is too long")
            if not re.fullmatch(r"[A-Za-z0-9_-]*", secret):
                raise bad("secret token contains unallowed characters")
        connections = params.get("max_connections", 40)
        if not isinstance(connections, int) or not 1 <= connections <= 100:
            raise bad("max_connections must be between 1 and 100")
        self._ask_for(params)
        self.webhook = Webhook(url, secret or None)
        return True

    async def _m_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset, limit, timeout = (
            int(params.get("offset", 0)),
            int(params.get("limit", 100)),
            params.get("timeout"),
        )
        if not 1 <= limit <= 100:
            limit = 100
        self._ask_for(params)
        if offset:
            self.world.updates[:] = [u for u in self.world.updates if u["update_id"] >= offset]
        self._poll_generation += 1
        mine = self._poll_generation
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(
                        lambda: bool(self.world.updates) or self._closing or self._poll_generation != mine
                    ),
                    float(timeout or 0),
                )
        if self._poll_generation != mine:
            raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one "
                           "bot instance is running")  # fmt: skip
        return self.world.updates[:limit]

    async def _m_setMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            name, description = str(command.get("command", "")), str(command.get("description", ""))
            if not (1 <= len(name) <= 32 and name.islower() and name.replace("_", "").isalnum()):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        language = params.get("language_code") or ""
        # "A two-letter ISO 639-1 language code. If empty, commands will be applied to all users"
        if language and not (isinstance(language, str) and len(language) == 2 and language.isalpha()
                             and language.isascii() and language.islower()):  # fmt: skip
            raise bad("invalid language code specified")  # [unv] the exact wording of the error
        self.commands_by_language[language] = commands
        if not language:
            self.commands = commands
        return True

    async def _m_getChatMember(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._chat(params)
        user_id = int(params["user_id"])
        user = user_json(user_id)
        if chat.type == "private":
            return {"status": "member", "user": user}
        if user_id in chat.admins:
            return {"status": "administrator", "user": user} | dict.fromkeys(_ADMIN_RIGHTS, False)
        return {"status": "member", "user": user}

    async def _m_sendChatAction(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self._writable_chat(params)
        if params.get("action") not in {"typing", "upload_photo", "upload_document", "record_video"}:
            raise bad("wrong parameter action in request")
        return True

    async def _m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._writable_chat(params)
        text = str(params.get("text", ""))
        _check_text(text)
        return self._bot_message(chat.id, params, text=text)

    async def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._writable_chat(params)
        caption = _caption(params)
        photo = self._photo_sizes(params.get("photo"), files)
        return self._bot_message(chat.id, params, photo=photo, caption=caption, **_spoiler(params))

    async def _m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._writable_chat(params)
        caption = _caption(params)
        data = files.get("document")
        if data is None:
            raise bad("there is no document in the request")
        if len(data) > MAX_UPLOAD_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        name = str(params.get("__filename_document") or "file")
        document = self.world.document(data, name, _mime_of(name))
        return self._bot_message(chat.id, params, document=document, caption=caption)

    async def _m_sendMediaGroup(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._writable_chat(params)
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad("wrong number of media in the album: must be between 2 and 10")
        kinds = {item.get("type") for item in media if isinstance(item, dict)}
        if not (kinds <= {"photo"} or kinds == {"document"}):  # documents group with documents only
            raise bad("MEDIA_INVALID")
        prepared = []
        for item in media:
            caption = item.get("caption")
            if caption is not None and len(caption) > MAX_CAPTION:
                raise bad("message caption is too long")
            if item.get("type") == "document":
                prepared.append(
                    {"document": self._document(item.get("media"), params, files)} | {"caption": caption}
                )
            else:
                photo = self._photo_sizes(item.get("media"), files)
                prepared.append({"photo": photo, "caption": caption, **_spoiler(item)})
        group_id = self.world.media_group_id()
        return [
            self._bot_message(chat.id, params, media_group_id=group_id, **content) for content in prepared
        ]

    async def _m_answerInlineQuery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        query_id = str(params.get("inline_query_id"))
        if query_id not in self.world.inline_queries or query_id in self.inline_answers:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        results = params.get("results")
        if not isinstance(results, list):
            raise bad("Expected an Array of inline query results")
        if len(results) > MAX_INLINE_RESULTS:
            raise bad("Too many inline query results specified")
        ids = [_inline_result(result) for result in results]
        if len(set(ids)) != len(ids):
            raise bad("RESULT_ID_DUPLICATE")
        button = params.get("button")
        if button is not None:
            _inline_button(button)
        cache_time = params.get("cache_time", 300)
        if not str(cache_time).isdigit() or int(cache_time) > 86_400:
            raise bad("cache_time must be 0-86400")
        if len(str(params.get("next_offset") or "").encode()) > 64:
            raise bad("NEXT_OFFSET_INVALID")
        self.inline_answers[query_id] = params
        return True

    async def _m_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if "inline_message_id" in params:
            return self._edit_inline_text(params)
        message = self._own_message(params)
        text = str(params.get("text", ""))
        _check_text(text)
        if "text" not in message:
            raise bad("there is no text in the message to edit")
        markup = params.get("reply_markup")
        if message["text"] == text and message.get("reply_markup") == markup:
            raise bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        return self._edit(message, text=text, reply_markup=markup)

    async def _m_editMessageCaption(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if "inline_message_id" in params:
            return self._edit_inline_caption(params)
        message = self._own_message(params)
        caption = _caption(params)
        markup = params.get("reply_markup")
        if message.get("caption") == caption and message.get("reply_markup") == markup:
            raise bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        return self._edit(message, caption=caption, reply_markup=markup)

    async def _m_editMessageMedia(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if "inline_message_id" in params:
            return self._edit_inline_media(params)
        message = self._own_message(params)
        media = params.get("media")
        if not isinstance(media, dict) or media.get("type") != "photo":
            raise bad("MEDIA_INVALID")
        caption = media.get("caption")
        if caption is not None and len(caption) > MAX_CAPTION:
            raise bad("message caption is too long")
        photo = self._photo_sizes(media.get("media"), files)
        return self._edit(message, photo=photo, caption=caption, reply_markup=params.get("reply_markup"))

    async def _m_deleteMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._chat(params)
        key = (chat.id, int(params["message_id"]))
        if key not in self.world.messages:
            raise bad("message to delete not found")
        if not self._may_delete(chat, self.world.messages[key]):
            raise bad("message can't be deleted")
        del self.world.messages[key]
        return True

    async def _m_deleteMessages(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        """Messages that are not found (or not the bot's to delete) are skipped, as Telegram does."""
        chat = self._chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100 or not all(isinstance(i, int) for i in ids):
            raise bad("message_ids must be an array of 1-100 message identifiers")
        for message_id in ids:
            message = self.world.messages.get((chat.id, message_id))
            if message is not None and self._may_delete(chat, message):
                del self.world.messages[(chat.id, message_id)]
        return True

    @staticmethod
    def _may_delete(chat: Any, message: dict[str, Any]) -> bool:
        """The bot's own messages anywhere; others' in private chats, or where the bot is an admin."""
        return message["from"]["id"] == BOT_ID or chat.type == "private" or BOT_ID in chat.admins

    async def _m_getChatAdministrators(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat = self._chat(params)
        if chat.type == "private":
            raise bad("there are no administrators in the private chat")
        rights = dict.fromkeys(_ADMIN_RIGHTS, False)
        return [{"status": "administrator", "user": user_json(user_id)} | rights for user_id in chat.admins]

    async def _m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        query_id = str(params.get("callback_query_id"))
        if query_id not in self.world.callback_ids or query_id in self.answered:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text") or "")) > 200:
            raise bad("MESSAGE_TOO_LONG")
        self.answered[query_id] = params
        return True

    async def _m_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        stored = self.world.files.get(str(params.get("file_id")))
        if stored is None:
            raise bad("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": len(stored.data),
            "file_path": stored.path,
        }

    # ------------------------------------------------------------------------------ inline messages

    def _inline_message(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.world.inline_messages.get(str(params["inline_message_id"]))
        if message is None:
            raise bad("MESSAGE_ID_INVALID")
        markup = params.get("reply_markup")
        for row in markup.get("inline_keyboard", []) if isinstance(markup, dict) else []:
            for key in row:
                data = key.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise bad("BUTTON_DATA_INVALID")
        return message

    def _edit_inline_text(self, params: dict[str, Any]) -> bool:
        """An inline message's text (it must still be a text message); True, as Telegram answers."""
        message = self._inline_message(params)
        text = str(params.get("text", ""))
        _check_text(text)
        if "text" not in message:
            raise bad("there is no text in the message to edit")
        markup = params.get("reply_markup")
        if message["text"] == text and message.get("reply_markup") == markup:
            raise bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        message["text"] = text
        if isinstance(markup, dict):
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return True

    def _edit_inline_caption(self, params: dict[str, Any]) -> bool:
        """An inline message's caption (it must show a photo or document); True, as Telegram answers."""
        message = self._inline_message(params)
        if "photo" not in message and "document" not in message:
            raise bad("there is no caption in the message to edit")
        caption = _caption(params)
        markup = params.get("reply_markup")
        if message.get("caption") == caption and message.get("reply_markup") == markup:
            raise bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        if caption is None:
            message.pop("caption", None)
        else:
            message["caption"] = caption
        if isinstance(markup, dict):
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return True

    def _edit_inline_media(self, params: dict[str, Any]) -> bool:
        """An inline message (text or media) becomes a photo or document of a file already on Telegram
        (a file_id): inline messages cannot take an upload. True, as Telegram answers."""
        message = self._inline_message(params)
        media = params.get("media")
        if not isinstance(media, dict) or media.get("type") not in ("photo", "document"):
            raise bad("MEDIA_INVALID")
        ref = media.get("media")
        if isinstance(ref, str) and ref.startswith("attach://"):
            raise ApiError(400, NO_INLINE_UPLOAD)
        stored = self.world.files.get(str(ref))
        if stored is None:
            raise bad("wrong file identifier/HTTP URL specified")
        kind = stored.path.split("/")[0].removesuffix("s")
        if kind != media["type"]:
            raise bad(f"can't use file of type {kind.capitalize()} as {media['type'].capitalize()}")
        caption = media.get("caption")
        if caption is not None and len(caption) > MAX_CAPTION:
            raise bad("message caption is too long")
        for key in ("text", "photo", "document", "caption", "reply_markup"):
            message.pop(key, None)
        if kind == "photo":
            message["photo"] = self.world.photo_sizes_of(stored)
        else:
            message["document"] = self.world.document_of(stored)
        if caption is not None:
            message["caption"] = caption
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        return True

    # ------------------------------------------------------------------------------------- helpers

    def _chat(self, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise bad("chat not found")
        if chat_id not in self.world.chats:
            raise bad("chat not found")
        return self.world.chats[chat_id]

    def _writable_chat(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode()) <= 64:
                        raise bad("BUTTON_DATA_INVALID")
        return chat

    def _own_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        message = self.world.get_message(chat.id, int(params.get("message_id", 0)))
        if message is None:
            raise bad("message to edit not found")
        if message["from"]["id"] != BOT_ID:
            raise bad("message can't be edited")
        return message

    def _document(self, media: Any, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        """An album's document: an ``attach://`` part (at most 50 MB) or a known document's file_id."""
        if isinstance(media, str) and media.startswith("attach://"):
            name = media.removeprefix("attach://")
            data = files.get(name)
            if data is None:
                raise bad("there is no document in the request")
            if len(data) > MAX_UPLOAD_BYTES:
                raise ApiError(413, "Request Entity Too Large")
            filename = str(params.get(f"__filename_{name}") or "file")
            return self.world.document(data, filename, _mime_of(filename))
        raise bad("wrong file identifier/HTTP URL specified")

    def _photo_sizes(self, media: Any, files: dict[str, bytes]) -> list[dict[str, Any]]:
        if isinstance(media, str) and media.startswith("attach://"):
            data = files.get(media.removeprefix("attach://"))
        elif isinstance(media, str) and media in self.world.files:
            data = self.world.files[media].data
        elif media is None:
            data = files.get("photo")
        else:
            raise bad("wrong file identifier/HTTP URL specified")
        if data is None:
            raise bad("there is no photo in the request")
        if len(data) > MAX_PHOTO_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        size = image_size(data)
        if size is None:
            raise bad("IMAGE_PROCESS_FAILED")
        width, height = size
        if width + height > 10_000 or max(width, height) / max(1, min(width, height)) > 20:
            raise bad("PHOTO_INVALID_DIMENSIONS")
        return self.world.photo_sizes(data)

    def _bot_message(self, chat_id: int, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat = self.world.chat(chat_id)
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            replied = self.world.get_message(chat_id, int(reply.get("message_id", 0)))
            if replied is None and not reply.get("allow_sending_without_reply"):
                raise bad("message to be replied not found")
            if replied is not None:
                content["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        message = self.world.new_message(
            chat, dict(BOT_USER), thread_id=params.get("message_thread_id"), **content
        )
        self.sent.append(message)
        return message

    def _edit(self, message: dict[str, Any], **changes: Any) -> dict[str, Any]:
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = message["date"]
        if "photo" in changes:
            self.sent.append(message)
        return message


def _mime_of(filename: str) -> str:
    """Telegram sets a document's ``mime_type`` from its file name."""
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _inline_result(result: Any) -> str:
    """Check one InlineQueryResult as the Bot API parses it; return its id."""
    if not isinstance(result, dict):
        raise bad("Can't parse inline query result: Inline query result must be an object")
    kind, result_id = result.get("type"), result.get("id")
    if not isinstance(kind, str) or not isinstance(result_id, str):
        raise bad('Can\'t parse inline query result: Field "type" and "id" must be strings')
    if not 1 <= len(result_id.encode()) <= MAX_RESULT_ID_BYTES:
        raise bad("RESULT_ID_INVALID")
    if kind.lower() != "article":
        raise bad(f"Can't parse inline query result: Unsupported by this fake: {kind}")
    if not result.get("title"):
        raise bad("Can't parse inline query result: Can't find field \"title\"")
    content = result.get("input_message_content")
    if not isinstance(content, dict) or not str(content.get("message_text") or "").strip():
        raise bad("Can't parse inline query result: Message text is empty")
    if len(str(content["message_text"])) > MAX_TEXT:
        raise bad("MESSAGE_TOO_LONG")
    return result_id


def _inline_button(button: Any) -> None:
    """InlineQueryResultsButton: a text and exactly one of start_parameter (1-64 of A-Z a-z 0-9 _ -)
    and web_app."""
    if not isinstance(button, dict) or not button.get("text"):
        raise bad("Can't parse inline query results button JSON object")
    start = button.get("start_parameter")
    if (start is None) == (button.get("web_app") is None):
        raise bad("InlineQueryResultsButton must have exactly one optional field")
    if start is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(start)):
        raise bad("START_PARAM_INVALID")


def _check_text(text: str) -> None:
    if not text.strip():
        raise bad("message text is empty")
    if len(text) > MAX_TEXT:
        raise bad("message is too long")


def _caption(params: dict[str, Any]) -> str | None:
    caption = params.get("caption")
    if caption is not None and len(str(caption)) > MAX_CAPTION:
        raise bad("message caption is too long")
    return None if caption is None else str(caption)


def _error(exc: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
    if exc.parameters:
        body["parameters"] = exc.parameters
    return web.json_response(body, status=exc.status)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Form fields (urlencoded or multipart, as PTB sends them) decoded; file parts as bytes."""
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            params = dict(await request.json())
        else:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files[name] = value.file.read()
                    params[f"__filename_{name}"] = value.filename
                else:
                    params[name] = _decode(name, str(value))
    return params, files


def _decode(name: str, value: str) -> Any:
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError as exc:
            raise bad(f"can't parse {name} JSON object") from exc
    if name in _INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value
    if value in ("true", "false"):
        return value == "true"
    return value


__all__ = ["BOT_ID", "BOT_USERNAME", "TOKEN", "Call", "FakeTelegram"]


def _spoiler(params: dict[str, Any]) -> dict[str, Any]:
    """``has_spoiler`` (a Boolean; multipart sends it as text) → the message's ``has_media_spoiler``."""
    value = params.get("has_spoiler")
    if value is None:
        return {}
    if value not in (True, False, "true", "false", "True", "False"):
        raise bad("can't parse has_spoiler: a Boolean is expected")
    return {"has_media_spoiler": True} if value in (True, "true", "True") else {}
