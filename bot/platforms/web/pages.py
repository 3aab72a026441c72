"""The web chat's pages and read-only endpoints: static files (loaded once from the package, served
by name from memory; the pages rendered once per language, :mod:`.localize`), the login form, the
gallery and status APIs, ``/healthz`` and ``/metrics`` (the gallery's Delete and Hide: :mod:`.takedown`)."""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.core.content.policy import recorded_as_spoiler
from bot.core.errors import StorageError
from bot.core.gallery import GalleryItem
from bot.core.i18n import _
from bot.core.ids import MAX_ROW_ID, ascii_int
from bot.platforms.web import conversations
from bot.platforms.web.chat import path_id
from bot.platforms.web.conversations import chat_label_of, user_label
from bot.platforms.web.localize import page_language, render_pages
from bot.platforms.web.uploads import http_error

if TYPE_CHECKING:
    from bot.platforms.web.site import Site

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGES = {
    "/": "chat.html",
    "/gallery": "gallery.html",
    "/schedules": "schedules.html",
    "/status": "status.html",
    "/login": "login.html",
}
STATIC_TYPES = {".html", ".css", ".js", ".svg", ".png", ".ico"}


def load_static(directory: Path = STATIC_DIR) -> dict[str, tuple[bytes, str]]:
    """Every asset by file name. Requests pick from this table; their path never reaches the disk."""
    files: dict[str, tuple[bytes, str]] = {}
    for path in sorted(directory.iterdir()):
        if path.is_file() and path.suffix in STATIC_TYPES:
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            files[path.name] = (path.read_bytes(), kind)
    return files


def item_json(item: GalleryItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "status": item.status,
        "prompt": item.prompt,
        "negative": item.negative,
        "params": item.params,
        "spoiler": recorded_as_spoiler(item.params),  # the chat was sent it hidden: blurred until clicked
        "provider": item.provider,
        "model": item.model,
        "parent_id": item.parent_id,
        "created_at": item.created_at.isoformat(),
        "chat": item.chat,
        "chat_label": chat_label_of(item.chat),
        "user": item.user,
        "hidden": item.hidden,
        "images": [
            {
                "url": f"/images/{item.id}/{image.index}",
                "thumb": f"/images/{item.id}/{image.index}?thumb=1",
                "width": image.width,
                "height": image.height,
            }
            for image in item.images
        ],
    }


def _optional_int(query: Mapping[str, str], key: str) -> int | None:
    value = query.get(key, "")
    if not value:
        return None
    number = ascii_int(value)
    if number is None:
        raise http_error(web.HTTPBadRequest, _("{key} must be a number like 12.").format(key=key))
    return number


class PageRoutes:
    def __init__(self, adapter: Site, static: dict[str, tuple[bytes, str]]) -> None:
        """``static``: :func:`load_static`'s table; its pages are served rendered (never as templates)."""
        self._adapter = adapter
        self._static = {name: found for name, found in static.items() if not name.endswith(".html")}
        templates = {name: body.decode() for name, (body, _kind) in static.items() if name.endswith(".html")}
        scripts = {name: body.decode() for name, (body, _kind) in static.items() if name.endswith(".js")}
        self._pages = render_pages(templates, scripts)

    def register(self, app: web.Application) -> None:
        for path in PAGES:
            app.router.add_get(path, self.page)
        app.router.add_post("/login", self.login)
        app.router.add_get(r"/static/{name:[a-z0-9_-]{1,40}\.[a-z]{2,4}}", self.asset)
        app.router.add_get("/api/gallery", self.gallery)
        app.router.add_get("/api/gallery/facets", self.facets)
        app.router.add_get("/api/generations/{generation}", self.generation)  # read by path_id
        app.router.add_get("/api/status", self.status)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)

    def _file(self, name: str) -> web.Response:
        found = self._static.get(name)
        if found is None:
            raise web.HTTPNotFound(text=_("Not found."))
        body, kind = found
        response = web.Response(body=body, content_type=kind)
        response.headers["Cache-Control"] = "no-cache"
        return response

    async def page(self, request: web.Request) -> web.Response:
        """The page in the chat's ``/settings language``, else the browser's (``?lang=`` wins)."""
        name = PAGES[request.path]
        chat = None
        if name != "login.html":  # the login page knows no chat (and may be shown before the token)
            chat = await self._adapter.chat_language(conversations.current(request))
        language = page_language(request.query, request.headers.get("Accept-Language"), chat)
        response = web.Response(body=self._pages[(name, language)], content_type="text/html", charset="utf-8")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Content-Language"] = language
        response.headers["Vary"] = "Accept-Language, Cookie"
        return response

    async def asset(self, request: web.Request) -> web.Response:
        return self._file(request.match_info["name"])

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        token = str(form.get("token", ""))
        if not self._adapter.guard.attempt(request, token):
            raise web.HTTPSeeOther(location="/login?failed=1")
        response = web.HTTPSeeOther(location="/")
        self._adapter.guard.remember_login(response)
        raise response

    async def gallery(self, request: web.Request) -> web.Response:
        query = request.query
        chat_id, user_id = _optional_int(query, "chat"), _optional_int(query, "user")
        before_id = _optional_int(query, "before")
        if any(key is not None and key > MAX_ROW_ID for key in (chat_id, user_id)):
            return web.json_response({"items": []})  # no chat or user has such an id
        items = await self._adapter.gallery.browse(
            chat_id=chat_id,
            user_id=user_id,
            provider=query.get("provider") or None,
            before_id=None if before_id is None else min(before_id, MAX_ROW_ID),
            limit=_optional_int(query, "limit") or 30,
            include_hidden=query.get("include_hidden") in ("1", "true"),
        )
        return web.json_response({"items": [item_json(item) for item in items]})

    async def facets(self, request: web.Request) -> web.Response:
        facets = await self._adapter.gallery.facets()
        return web.json_response(
            {
                "chats": [{"id": i, "label": chat_label_of(label)} for i, label in facets.chats],
                "users": [{"id": i, "label": user_label(label)} for i, label in facets.users],
                "providers": list(facets.providers),
            }
        )

    async def generation(self, request: web.Request) -> web.Response:
        generation_id = path_id(request, "generation")
        lineage = None
        if 0 < generation_id <= MAX_ROW_ID:
            lineage = await self._adapter.gallery.lineage(generation_id)
        if lineage is None:
            raise http_error(web.HTTPNotFound, _("No such picture."))
        return web.json_response(
            {
                **item_json(lineage.item),
                "error": lineage.item.error,
                "parent": item_json(lineage.parent) if lineage.parent else None,
                "children": [item_json(child) for child in lineage.children],
            }
        )

    async def status(self, request: web.Request) -> web.Response:
        status = self._adapter.front.status()
        errors = await self._adapter.gallery.recent_errors(limit=10)
        return web.json_response(
            {
                "providers": [{"name": name, "state": state} for name, state in status.providers],
                "queue": {
                    "waiting": status.waiting,
                    "running": status.running,
                    "max_waiting": status.max_waiting,
                    "workers": status.workers,
                },
                "limits": dict(status.limits),
                "scheduler": self._adapter.scheduler_state(),
                "recent_errors": [
                    {"job_id": e.job_id, "when": e.when.isoformat(), "platform": e.platform, "error": e.error}
                    for e in errors
                ],
            }
        )

    async def healthz(self, request: web.Request) -> web.Response:
        """200 when the database answers and the scheduler (if any) is alive, else 503."""
        database = "ok"
        try:
            await self._adapter.gallery.ping()
        except (StorageError, web.HTTPException) as exc:
            database = "unavailable"
            log.warning("health check: database unavailable: %s", exc)
        scheduler = self._adapter.scheduler_state()
        healthy = database == "ok" and scheduler != "stopped"
        return web.json_response(
            {"status": "ok" if healthy else "unhealthy", "database": database, "scheduler": scheduler},
            status=200 if healthy else 503,
            headers={"Cache-Control": "no-store"},
        )

    async def metrics(self, request: web.Request) -> web.Response:
        metrics = self._adapter.metrics
        if metrics is None:
            raise web.HTTPNotFound(text=_("Metrics are not enabled."))
        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = metrics.content_type
        return response
