"""The gallery's Delete, Hide and Unhide: the operator's ``/delete #12``, ``/hide #12`` and
``/unhide #12`` (the web chat is theirs, so any chat's picture), decided and done by the core as in a
chat; its answer comes back in the response. State-changing: the CSRF token and the Origin are
checked before (``security.Guard.same_origin``)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.core.i18n import _
from bot.core.ids import MAX_ROW_ID
from bot.platforms.web.chat import path_id, web_incoming
from bot.platforms.web.uploads import http_error

if TYPE_CHECKING:
    from bot.platforms.web.site import Site

VERBS = ("delete", "hide", "unhide")


class TakedownRoutes:
    def __init__(self, adapter: Site) -> None:
        self._adapter = adapter

    def register(self, app: web.Application) -> None:
        app.router.add_post("/api/generations/{generation}/delete", self.delete)  # ids read by path_id
        app.router.add_post("/api/generations/{generation}/hide", self.hide)
        app.router.add_post("/api/generations/{generation}/unhide", self.unhide)

    async def delete(self, request: web.Request) -> web.Response:
        generation_id, replies = await self._command(request, "delete")
        return web.json_response({"deleted": generation_id, "replies": replies})

    async def hide(self, request: web.Request) -> web.Response:
        generation_id, replies = await self._command(request, "hide")
        return web.json_response({"id": generation_id, "hidden": True, "replies": replies})

    async def unhide(self, request: web.Request) -> web.Response:
        generation_id, replies = await self._command(request, "unhide")
        return web.json_response({"id": generation_id, "hidden": False, "replies": replies})

    async def _command(self, request: web.Request, verb: str) -> tuple[int, list[dict[str, Any]]]:
        """``/<verb> #<id>`` through the core: its replies, or 404 (no such picture) or 409 with the
        core's refusal."""
        generation_id = path_id(request, "generation")
        front = self._adapter.front
        if not 0 < generation_id <= MAX_ROW_ID or await front.generation(generation_id) is None:
            raise http_error(web.HTTPNotFound, _("No such picture."))
        session = self._adapter.guard.session(request)
        request_id = uuid.uuid4().hex
        incoming = web_incoming(request, session, f"/{verb} #{generation_id}", extra={"request": request_id})
        with self._adapter.collect(request_id) as replies:
            await front.handle(incoming)
        refused = next((reply["text"] for reply in replies if reply.get("is_error")), None)
        if refused is not None:
            raise http_error(web.HTTPConflict, str(refused))
        return generation_id, replies
