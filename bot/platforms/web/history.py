"""The conversation as the database remembers it, so it survives a restart: ``GET /api/history`` pages
a web conversation's pictures newest first (``before`` a generation id, for older ones), each as the
request that made it and the reply the chat showed (images, caption, buttons, what it was made from);
the page shows them oldest at the top. What happened since the server started comes from the event
hub's replay instead (it has the text answers too), so those pictures are left out here.

``/api/conversations`` lists the web conversations and switches the browser to one (or a new one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.core.content.policy import recorded_as_spoiler
from bot.core.i18n import _
from bot.core.ids import MAX_ROW_ID, ascii_int
from bot.core.jobs.delivery import RESULT_ACTIONS
from bot.core.texts import caption
from bot.core.types import GenerationKind, GenerationRecord, Reply, Target
from bot.platforms.web import conversations
from bot.platforms.web.render import reply_json
from bot.platforms.web.uploads import http_error

if TYPE_CHECKING:
    from bot.platforms.web.site import Site

PAGE = 20
MAX_PAGE = 50
REMEMBERED_CHATS = 1_000
_REQUEST_TEXT = {GenerationKind.REROLL: "Reroll", GenerationKind.VARY: "Vary"}


def request_json(chat: str, record: GenerationRecord, user: str) -> dict[str, Any]:
    """The user's bubble for a remembered picture, as the live ``message`` event draws it."""
    return {
        "type": "message",
        "chat": chat,
        "message_id": None,
        "user_id": None,
        "user": user,
        "mine": True,  # a web conversation's requests are the operator's (or their schedules')
        "text": _REQUEST_TEXT.get(record.kind, record.prompt),
        "has_image": record.kind == GenerationKind.EDIT and record.parent_id is None,
        "image": None,  # an uploaded photo is not kept with the picture made from it
        "reply_to": record.parent_id,
    }


def result_json(chat: str, record: GenerationRecord) -> dict[str, Any]:
    """The result's bubble, as it was delivered (``bot.core.jobs.delivery``)."""
    reply = Reply(
        text=caption(record),
        images=record.images,
        generation_id=record.id,
        actions=RESULT_ACTIONS,
        notes=tuple(record.params.get("notes") or ()),
        spoiler=recorded_as_spoiler(record.params),  # sent hidden then: still hidden after a reload
    )
    urls = [f"/images/{record.id}/{index}" for index in range(len(record.images))]
    return reply_json(Target(conversations.PLATFORM, chat), reply, urls)


class HistoryRoutes:
    def __init__(self, adapter: Site) -> None:
        self._adapter = adapter
        self._chat_rows: dict[str, int] = {}

    def register(self, app: web.Application) -> None:
        app.router.add_get("/api/history", self.history)
        app.router.add_get("/api/conversations", self.list_conversations)
        app.router.add_post("/api/conversations", self.switch)

    async def _known(self) -> dict[str, int]:
        """Web conversation id → its chat row id, for those the database has (read from the gallery's
        filter choices; a chat's row id never changes, so found ones are kept)."""
        facets = await self._adapter.gallery.facets()
        found: dict[str, int] = {}
        for row_id, raw in facets.chats:
            platform, _, external = raw.partition(":")
            if platform == conversations.PLATFORM and conversations.is_conversation(external):
                found[external] = row_id
        if len(self._chat_rows) < REMEMBERED_CHATS:
            self._chat_rows.update(found)
        return found

    async def _chat_row(self, chat: str) -> int | None:
        if chat not in self._chat_rows:
            return (await self._known()).get(chat)
        return self._chat_rows[chat]

    async def history(self, request: web.Request) -> web.Response:
        """``?before=<generation id>&limit=<n>``: one page, oldest first, and where the next one starts."""
        chat = conversations.current(request)
        before = _number(request, "before")
        limit = min(max(_number(request, "limit") or PAGE, 1), MAX_PAGE)
        row = await self._chat_row(chat)
        items = []
        if row is not None:
            items = await self._adapter.gallery.browse(
                chat_id=row, before_id=None if before is None else min(before, MAX_ROW_ID), limit=limit
            )
        live = {
            event.data.get("generation_id")
            for event in self._adapter.hub.recent(chat=chat)
            if event.data.get("type") == "reply"
        }
        entries = []
        for item in reversed(items):
            if item.id in live:
                continue  # the hub's replay shows it, with the request that asked for it
            record = await self._adapter.front.generation(item.id)
            if record is not None:
                request_bubble = request_json(chat, record, item.user)
                entries.append({"request": request_bubble, "reply": result_json(chat, record)})
        more = items[-1].id if len(items) == limit else None
        response = web.json_response({"chat": chat, "items": entries, "before": more})
        response.headers["Cache-Control"] = "no-store"
        return response

    async def list_conversations(self, request: web.Request) -> web.Response:
        chat = conversations.current(request)
        known = set(await self._known()) | {conversations.MAIN, chat}
        ordered = sorted(known - {conversations.MAIN}, reverse=True)  # ids start with their time
        listed = [conversations.MAIN, *ordered]
        return web.json_response(
            {
                "current": chat,
                "conversations": [{"id": c, "label": conversations.label(c)} for c in listed],
            },
            headers={"Cache-Control": "no-store"},
        )

    async def switch(self, request: web.Request) -> web.Response:
        """``{"chat": "new"}`` starts a conversation; ``{"chat": "<id>"}`` goes back to one."""
        try:
            body = await request.json()
        except ValueError as exc:
            raise http_error(web.HTTPBadRequest, _("The request is not valid JSON.")) from exc
        wanted = body.get("chat") if isinstance(body, dict) else None
        if wanted == "new":
            chat = conversations.new_conversation()
        elif isinstance(wanted, str) and conversations.is_conversation(wanted):
            chat = wanted
        else:
            raise http_error(web.HTTPBadRequest, _('chat must be "new" or a conversation id.'))
        response = web.json_response({"chat": chat, "label": conversations.label(chat)})
        conversations.remember(response, chat)
        return response


def _number(request: web.Request, key: str) -> int | None:
    value = request.query.get(key, "")
    if not value:
        return None
    number = ascii_int(value)
    if number is None:
        raise http_error(web.HTTPBadRequest, _("{key} must be a number like 12.").format(key=key))
    return number
