"""The schedules page's API: this conversation's scheduled posts and birthday cards as a table
(``GET /api/schedules``, from ``FrontDoor.schedules``), the next runs of a "when" being typed
(``GET /api/schedules/preview``), and the page's buttons and form, which send ``/schedule`` commands
through the front door like a typed message, so the core decides who may do what."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.core.errors import InvalidInput
from bot.core.i18n import _
from bot.core.messages import Incoming, ScheduleCommand
from bot.core.schedules.board import ScheduleView
from bot.core.schedules.spec import parse_when
from bot.platforms.web import conversations
from bot.platforms.web.chat import json_object, path_id, web_incoming
from bot.platforms.web.uploads import http_error

if TYPE_CHECKING:
    from bot.platforms.web.site import Site

VERBS = frozenset({"pause", "resume", "run", "remove"})
MAX_WHEN = 200
MAX_PROMPT = 1_000
MAX_TZ = 64


def view_json(view: ScheduleView) -> dict[str, Any]:
    last = view.last_run
    return {
        "id": view.id,
        "kind": view.kind,
        "description": view.description,
        "tz": view.tz,
        "prompt": view.prompt,
        "enabled": view.enabled,
        "next_run": view.next_run.isoformat() if view.next_run else None,
        "next_run_local": view.next_run_local,
        "birthday_of": view.birthday_of,
        "last_run": None
        if last is None
        else {
            "status": last.status,
            "when": last.when.isoformat(),
            "error": last.error,
            "generation_id": last.generation_id,
            "thumb": f"/images/{last.generation_id}/0?thumb=1" if last.generation_id else None,
        },
    }


def _field(body: dict[str, Any], key: str, limit: int) -> str:
    value = body.get(key) or ""
    if not isinstance(value, str) or len(value) > limit:
        message = _("{key} must be text of at most {limit} characters.").format(key=key, limit=limit)
        raise http_error(web.HTTPBadRequest, message)
    return " ".join(value.split())  # one line: no flags or commands smuggled on a new line


class ScheduleRoutes:
    def __init__(self, adapter: Site) -> None:
        self._adapter = adapter

    def register(self, app: web.Application) -> None:
        app.router.add_get("/api/schedules", self.table)
        app.router.add_get("/api/schedules/preview", self.preview)
        app.router.add_post("/api/schedules", self.add)
        app.router.add_post("/api/schedules/{schedule}/{verb}", self.change)  # read by path_id

    def _message(self, request: web.Request, text: str = "", **extra: Any) -> Incoming:
        return web_incoming(request, self._adapter.guard.session(request), text, **extra)

    async def table(self, request: web.Request) -> web.Response:
        chat = conversations.current(request)
        views = await self._adapter.front.schedules.of_chat(self._message(request))
        return web.json_response(
            {"chat": chat, "label": conversations.label(chat), "schedules": [view_json(v) for v in views]},
            headers={"Cache-Control": "no-store"},
        )

    async def preview(self, request: web.Request) -> web.Response:
        when, tz = request.query.get("when", "").strip(), request.query.get("tz", "").strip()
        if not when or len(when) > MAX_WHEN or len(tz) > MAX_TZ:
            raise http_error(web.HTTPBadRequest, _("Say when, e.g. every day at 09:00."))
        try:
            found = self._adapter.front.schedules.preview(when, tz or None)
        except InvalidInput as exc:
            raise http_error(web.HTTPBadRequest, exc.user_message) from exc
        return web.json_response({"description": found.description, "tz": found.tz, "runs": list(found.runs)})

    async def add(self, request: web.Request) -> web.Response:
        """``{when, prompt, tz, target}``: ``/schedule add`` from the target conversation (this one by
        default; any web conversation is the operator's)."""
        body = await json_object(request)
        when, prompt = _field(body, "when", MAX_WHEN), _field(body, "prompt", MAX_PROMPT)
        tz, target = _field(body, "tz", MAX_TZ), _field(body, "target", 40)
        if not when or not prompt:
            raise http_error(web.HTTPBadRequest, _("Say when, and what to draw."))
        if target and not conversations.is_conversation(target):
            raise http_error(web.HTTPBadRequest, _("target must be a web conversation."))
        if " " in tz or tz.startswith("-"):
            raise http_error(web.HTTPBadRequest, _("tz must be a time zone like Europe/Berlin."))
        try:
            spec = parse_when(when, whole=True).spec
        except InvalidInput as exc:
            raise http_error(web.HTTPBadRequest, exc.user_message) from exc
        written = f'"{spec.cron}"' if spec.kind == "cron" else when  # a cron expression in quotes
        args = f"{written} {prompt}" + (f" --tz {tz}" if tz else "")
        return await self._run(request, ScheduleCommand("add", args), f"/schedule add {args}", chat=target)

    async def change(self, request: web.Request) -> web.Response:
        schedule_id = path_id(request, "schedule")
        verb = request.match_info["verb"]
        if verb not in VERBS:
            raise http_error(web.HTTPBadRequest, _("Unknown button."))
        intent = ScheduleCommand(verb, str(schedule_id))
        return await self._run(request, intent, f"/schedule {verb} {schedule_id}")

    async def _run(
        self, request: web.Request, intent: ScheduleCommand, text: str, *, chat: str | None = None
    ) -> web.Response:
        request_id = uuid.uuid4().hex
        with self._adapter.collect(request_id) as replies:
            message = self._message(
                request, text, chat=chat or None, intent=intent, extra={"request": request_id}
            )
            await self._adapter.front.handle(message)
        ok = bool(replies) and not any(reply["is_error"] for reply in replies)
        return web.json_response({"ok": ok, "replies": replies})
