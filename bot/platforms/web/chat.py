"""The chat's HTTP API: the browser's session, messages (with an optional image to edit), button
presses, one-off commands whose answers come back in the response, and the images themselves —
always looked up by generation id and position (or a reply's image id), never by a path."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.core.i18n import _, accept_language
from bot.core.ids import MAX_ROW_ID, ascii_int
from bot.core.imaging import EXTENSIONS
from bot.core.messages import Cancel, Incoming, Reroll, Vary
from bot.platforms.web import conversations
from bot.platforms.web.security import Session, set_session_cookie
from bot.platforms.web.thumbs import THUMB_MIME, ThumbnailCache, UploadThumbnails
from bot.platforms.web.uploads import http_error, read_submission

if TYPE_CHECKING:
    from bot.platforms.web.site import Site

PLATFORM = conversations.PLATFORM
CHAT = conversations.MAIN
"""The main conversation, shared by every browser (and scheduled posts to ``web``); a browser may
start one of its own (:mod:`.conversations`)."""
ACTIONS = frozenset({"reroll", "vary"})
_IMAGE_ID = re.compile(r"[0-9a-f]{32}")


def display_name(request: web.Request) -> str:
    """The sender's name in the gallery and in other browsers: ``Firefox on Windows``."""
    return conversations.browser_name(request.headers.get("User-Agent", ""))


def web_incoming(
    request: web.Request, session: Session, text: str, *, chat: str | None = None, **extra: Any
) -> Incoming:
    """A message from this browser, in its conversation (or ``chat``, another web conversation)."""
    return Incoming(
        platform=PLATFORM,
        chat_id=chat or conversations.current(request),
        user_id=session.user_id,
        display_name=display_name(request),
        text=text,
        message_id=f"w{uuid.uuid4().hex}",
        is_admin=True,  # the operator's own console: loopback, or behind web.auth_token
        locale=accept_language(request.headers.get("Accept-Language")),
        **extra,
    )


class ChatRoutes:
    def __init__(self, adapter: Site) -> None:
        self._adapter = adapter
        self._thumbnails = ThumbnailCache()
        self._uploads = UploadThumbnails()

    def register(self, app: web.Application) -> None:
        app.router.add_get("/api/session", self.session)
        app.router.add_post("/api/messages", self.message)
        app.router.add_post("/api/actions", self.action)
        app.router.add_post("/api/command", self.command)
        app.router.add_post("/api/cancel", self.cancel)
        app.router.add_get("/api/events", self.events)
        app.router.add_get("/images/{generation}/{index}", self.image)  # ids read by path_id
        app.router.add_get(r"/files/{image:[0-9a-f]{32}}", self.file)
        app.router.add_get(r"/uploads/{upload:[0-9a-f]{32}}", self.upload)

    def _incoming(self, request: web.Request, session: Session, text: str, **extra: Any) -> Incoming:
        return web_incoming(request, session, text, **extra)

    async def session(self, request: web.Request) -> web.Response:
        session = self._adapter.guard.session(request)
        chat = conversations.current(request)
        response = web.json_response(
            {
                "user_id": session.user_id,
                "name": display_name(request),
                "csrf": session.csrf,
                "chat": chat,
                "chat_label": conversations.label(chat),
                "max_upload_bytes": self._adapter.max_upload_bytes,
            }
        )
        response.headers["Cache-Control"] = "no-store"
        set_session_cookie(response, session)
        return response

    async def message(self, request: web.Request) -> web.Response:
        front = self._adapter.front
        session = self._adapter.guard.session(request)
        submission = await read_submission(request, max_bytes=self._adapter.max_upload_bytes)
        if not submission.text and submission.image is None:
            raise http_error(web.HTTPBadRequest, _("Type a prompt or add an image."))
        incoming = self._incoming(
            request,
            session,
            submission.text,
            reply_to_generation_id=submission.reply_to,
            attachments=(submission.image,) if submission.image else (),
        )
        image = None
        if submission.image is not None:  # the sender's photo, small, in their bubble
            image = {"url": f"/uploads/{await self._uploads.keep(submission.image.data)}"}
        self._adapter.hub.publish(
            {
                "type": "message",
                "chat": incoming.chat_id,
                "message_id": incoming.message_id,
                "user_id": session.user_id,
                "user": incoming.display_name,
                "text": submission.text,
                "has_image": submission.image is not None,
                "image": image,
                "reply_to": submission.reply_to,
            }
        )
        job_id = await front.handle(incoming)
        return web.json_response({"message_id": incoming.message_id, "job_id": job_id})

    async def action(self, request: web.Request) -> web.Response:
        """Reroll / Vary under an image: the same commands the Telegram buttons send."""
        front = self._adapter.front
        session = self._adapter.guard.session(request)
        body = await json_object(request)
        action, generation_id = str(body.get("action", "")), body.get("generation_id", "")
        if action not in ACTIONS:
            raise http_error(web.HTTPBadRequest, _("Unknown button."))
        generation = ascii_int(str(generation_id)) if isinstance(generation_id, int | str) else None
        if generation is None:
            raise http_error(web.HTTPBadRequest, _("generation_id must be a picture number like 12."))
        intent = (Reroll if action == "reroll" else Vary)(generation)
        incoming = self._incoming(request, session, f"/{action} #{generation}", intent=intent)
        self._adapter.hub.publish(
            {
                "type": "message",
                "chat": incoming.chat_id,
                "message_id": incoming.message_id,
                "user_id": session.user_id,
                "user": incoming.display_name,
                "text": action.capitalize(),
                "has_image": False,
                "image": None,
                "reply_to": generation,
            }
        )
        job_id = await front.handle(incoming)
        return web.json_response({"message_id": incoming.message_id, "job_id": job_id})

    async def command(self, request: web.Request) -> web.Response:
        """Run one command (``/status``, ``/schedule list`` …) and answer with its replies."""
        front = self._adapter.front
        session = self._adapter.guard.session(request)
        text = str((await json_object(request)).get("text", "")).strip()
        if not text.startswith("/") or len(text) > 4000:
            raise http_error(web.HTTPBadRequest, _("Commands start with /."))
        request_id = uuid.uuid4().hex
        with self._adapter.collect(request_id) as replies:
            job_id = await front.handle(self._incoming(request, session, text, extra={"request": request_id}))
        return web.json_response({"replies": replies, "job_id": job_id})

    async def cancel(self, request: web.Request) -> web.Response:
        """The Stop button of a job in progress: ``/cancel`` of that job (``{"job_id": n}``; the core
        stops it only if it is this browser's, in this conversation), or of all of this browser's
        requests here without one; answered in the chat."""
        session = self._adapter.guard.session(request)
        raw = (await json_object(request)).get("job_id")
        if raw is not None and not (isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 2**53):
            raise http_error(web.HTTPBadRequest, _("job_id must be a positive whole number."))
        intent = Cancel(job_id=raw)
        await self._adapter.front.handle(self._incoming(request, session, "/cancel", intent=intent))
        return web.json_response({"ok": True})

    async def events(self, request: web.Request) -> web.StreamResponse:
        """The live events of the browser's conversation."""
        return await self._adapter.hub.stream(request, chat=conversations.current(request))

    async def upload(self, request: web.Request) -> web.Response:
        thumb = self._uploads.get(request.match_info["upload"])
        if thumb is None:
            raise web.HTTPNotFound(text=_("No such image."))
        return _image_response(request, thumb, THUMB_MIME, "upload.webp")

    async def image(self, request: web.Request) -> web.Response:
        front = self._adapter.front
        generation_id = path_id(request, "generation")
        index = path_id(request, "index", max_digits=3)
        record = None
        if 0 < generation_id <= MAX_ROW_ID:
            record = await front.generation(generation_id)
        if record is None or index >= len(record.images):
            raise web.HTTPNotFound(text=_("No such image."))
        stored = record.images[index]
        if request.query.get("thumb"):
            thumb = await self._thumbnails.get(stored.id, lambda: front.image_bytes(stored))
            return _image_response(request, thumb, THUMB_MIME, f"easel-{generation_id}-{index + 1}.webp")
        data = await front.image_bytes(stored)
        name = f"easel-{generation_id}-{index + 1}.{EXTENSIONS.get(stored.mime, 'bin')}"
        return _image_response(request, data, stored.mime, name)

    async def file(self, request: web.Request) -> web.Response:
        stored = self._adapter.reply_image(request.match_info["image"])
        if stored is None:
            raise web.HTTPNotFound(text=_("No such image."))
        data = await self._adapter.front.image_bytes(stored)
        return _image_response(
            request, data, stored.mime, f"easel-{stored.id[:8]}.{EXTENSIONS.get(stored.mime, 'bin')}"
        )


def path_id(request: web.Request, name: str, *, max_digits: int = 12) -> int:
    """The number in the URL's ``{name}`` part; 400 unless it is written in ASCII digits."""
    number = ascii_int(request.match_info[name], max_digits=max_digits)
    if number is None:
        message = _("{name} in the address must be a number like 12.").format(name=name)
        raise http_error(web.HTTPBadRequest, message)
    return number


def _image_response(request: web.Request, data: bytes, mime: str, filename: str) -> web.Response:
    response = web.Response(body=data, content_type=mime)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    if request.query.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


async def json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise http_error(web.HTTPBadRequest, _("The request is not valid JSON.")) from exc
    if not isinstance(body, dict):
        raise http_error(web.HTTPBadRequest, _("Expected a JSON object."))
    return body
