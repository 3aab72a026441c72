"""The REST half of the fake Discord: request parsing (JSON or multipart ``payload_json`` + ``files[n]``),
Discord's error bodies, and the limits the real API enforces on messages."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.discord_world import World

MAX_CONTENT = 2000
MAX_ATTACHMENTS = 10
MAX_EMBEDS = 10
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_TITLE = 256
MAX_CUSTOM_ID = 100
JSON = "application/json"
"""Exactly this: discord.py parses a body as JSON only when Content-Type is exactly application/json."""


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: int, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.message, self.code, self.errors = status, message, code, errors


def form_error(path: str, code: str, message: str) -> ApiError:
    """Discord's 400 Invalid Form Body with the nested ``errors`` object."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        errors = {part: errors}
    return ApiError(400, "Invalid Form Body", 50035, errors)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=json.dumps(body).encode(), status=status, headers={"Content-Type": JSON, **(headers or {})}
    )


def error_response(exc: ApiError) -> web.Response:
    body: dict[str, Any] = {"message": exc.message, "code": exc.code}
    if exc.errors is not None:
        body["errors"] = exc.errors
    return json_response(body, exc.status)


@dataclass
class Upload:
    """A request's JSON payload and its files (by index) as Discord reads a multipart body."""

    payload: dict[str, Any]
    files: dict[int, tuple[str, bytes, str]] = field(default_factory=dict)
    """index → (filename, bytes, content type)."""
    content_type: str = JSON

    @property
    def total_bytes(self) -> int:
        return sum(len(data) for _, data, _ in self.files.values())


async def read_upload(request: web.Request) -> Upload:
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        upload = Upload({}, content_type=request.content_type)
        while True:
            part = await reader.next()
            if part is None:
                break
            assert isinstance(part, aiohttp.BodyPartReader)
            name = part.name or ""
            if name == "payload_json":
                upload.payload = json.loads(await part.text())
            elif name.startswith("files[") and name.endswith("]"):
                data = bytes(await part.read())
                upload.files[int(name[6:-1])] = (
                    part.filename or "file",
                    data,
                    part.headers.get("Content-Type", "application/octet-stream"),
                )
            else:
                raise form_error(name or "body", "UNKNOWN_FIELD", f"Unknown multipart field {name!r}.")
        return upload
    body = await request.read()
    if not body:
        return Upload({}, content_type=request.content_type)
    if request.content_type != JSON:
        raise ApiError(400, "Cannot send an empty message", 50006)
    return Upload(json.loads(body), content_type=JSON)


def validate_message(payload: dict[str, Any], upload: Upload, *, filesize_limit: int) -> None:
    """The checks Discord applies to a message body (create or edit)."""
    content = payload.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT:
        raise form_error("content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length.")
    embeds = payload.get("embeds") or []
    if len(embeds) > MAX_EMBEDS:
        raise form_error("embeds", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBEDS} or fewer in length.")
    for index, embed in enumerate(embeds):
        if len(embed.get("description") or "") > MAX_EMBED_DESCRIPTION:
            raise form_error(
                f"embeds.{index}.description",
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {MAX_EMBED_DESCRIPTION} or fewer in length.",
            )
        if len(embed.get("title") or "") > MAX_EMBED_TITLE:
            raise form_error(
                f"embeds.{index}.title",
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {MAX_EMBED_TITLE} or fewer in length.",
            )
    for row in payload.get("components") or []:
        for component in row.get("components") or []:
            if len(component.get("custom_id") or "") > MAX_CUSTOM_ID:
                raise form_error("components", "BASE_TYPE_MAX_LENGTH", "custom_id must be 100 or fewer.")
    if len(upload.files) > MAX_ATTACHMENTS or len(payload.get("attachments") or []) > MAX_ATTACHMENTS:
        raise form_error(
            "attachments", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_ATTACHMENTS} or fewer in length."
        )
    if upload.total_bytes > filesize_limit:
        raise ApiError(413, "Request entity too large", 40005)


def apply_message(
    world: World, message: dict[str, Any], payload: dict[str, Any], upload: Upload, origin: str
) -> None:
    """Set the fields a create or edit body gives (``attachments`` lists what to keep and what is new)."""
    for key in ("content", "embeds", "components"):
        if key in payload:
            message[key] = payload[key] if payload[key] is not None else ([] if key != "content" else "")
    if "flags" in payload and payload["flags"] is not None:
        message["flags"] = int(payload["flags"]) & ~(1 << 7) | (message.get("flags", 0) & (1 << 6))
    if "attachments" in payload or upload.files:
        kept = {a["id"]: a for a in message.get("attachments", [])}
        out: list[dict[str, Any]] = []
        listed = payload.get("attachments")
        if listed is None:
            listed = [{"id": index} for index in sorted(upload.files)]
        for item in listed:
            ident = item.get("id")
            if str(ident) in kept:
                out.append(kept[str(ident)])
                continue
            index = int(ident) if ident is not None else -1
            if index not in upload.files:
                raise form_error("attachments", "ATTACHMENT_NOT_FOUND", f"Unknown attachment {ident!r}.")
            filename, data, content_type = upload.files[index]
            out.append(world.attachment(data, item.get("filename") or filename, content_type, origin))
        message["attachments"] = out
