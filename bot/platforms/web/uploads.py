"""Reading a chat message from the browser: its text, what it replies to and an optional image,
checked at the edge (size while streaming, type by signature, pixel count from the header) so that
a bad upload is a clear HTTP error and never reaches the core; a picture above the pixel budget
reaches it reduced (``bot.core.imaging.bound_upload``)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from aiohttp import BodyPartReader, web
from PIL import Image as PILImage

from bot.core import imaging
from bot.core.errors import ImageError
from bot.core.i18n import _
from bot.core.ids import ascii_int
from bot.core.messages import Attachment

MAX_TEXT_CHARS = 8_000
MAX_PIXELS = imaging.MAX_PIXELS
"""As ``bot.core.imaging.open_image``: larger images are refused as likely decompression bombs."""
FORM_OVERHEAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class Submission:
    text: str
    reply_to: int | None
    image: Attachment | None


class TooLarge(web.HTTPClientError):
    """413 without aiohttp's required sizes (the message says the limit)."""

    status_code = 413


def http_error(status: type[web.HTTPException], message: str) -> web.HTTPException:
    """An HTTP error whose JSON body ``{"error": message}`` the page shows to the user."""
    return status(text=json.dumps({"error": message}), content_type="application/json")


async def read_submission(request: web.Request, *, max_bytes: int) -> Submission:
    """The message in a JSON body or a multipart form (``text``, ``reply_to``, ``image``)."""
    if request.content_length is not None and request.content_length > max_bytes + FORM_OVERHEAD:
        raise http_error(TooLarge, _too_large(max_bytes))
    if request.content_type == "multipart/form-data":
        text, reply_to, image = await _read_form(request, max_bytes)
    elif request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise http_error(web.HTTPBadRequest, _("The request is not valid JSON.")) from exc
        if not isinstance(body, dict):
            raise http_error(web.HTTPBadRequest, _("Expected a JSON object."))
        text, reply_to, image = str(body.get("text") or ""), str(body.get("reply_to") or ""), None
    else:
        raise http_error(web.HTTPUnsupportedMediaType, _("Send JSON or a form."))
    text = text.strip()
    if len(text) > MAX_TEXT_CHARS:
        message = _("Messages are limited to {limit} characters.").format(limit=MAX_TEXT_CHARS)
        raise http_error(TooLarge, message)
    reply_to = reply_to.strip().lstrip("#")
    reply_id = ascii_int(reply_to) if reply_to else None
    if reply_to and reply_id is None:
        raise http_error(web.HTTPBadRequest, _("reply_to must be a picture number like 12."))
    attachment = await _check_image(image, max_bytes) if image is not None else None
    return Submission(text=text, reply_to=reply_id, image=attachment)


async def _read_form(request: web.Request, max_bytes: int) -> tuple[str, str, tuple[bytes, str] | None]:
    text, reply_to, image = "", "", None
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise http_error(web.HTTPBadRequest, _("Nested forms are not accepted."))
        if part.name == "text":
            text = (await _read_part(part, MAX_TEXT_CHARS * 4)).decode("utf-8", "replace")
        elif part.name == "reply_to":
            reply_to = (await _read_part(part, 64)).decode("ascii", "replace")
        elif part.name == "image" and image is None:
            data = await _read_part(part, max_bytes)
            if data:
                image = (data, part.filename or "upload")
        else:
            await part.release()
    return text, reply_to, image


async def _read_part(part: BodyPartReader, limit: int) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise http_error(TooLarge, _too_large(limit))
    return bytes(data)


async def _check_image(upload: tuple[bytes, str], max_bytes: int) -> Attachment:
    data, filename = upload
    try:
        imaging.sniff(data)  # the type first: a non-image is a 415, not a 400
    except ImageError as exc:
        raise http_error(web.HTTPUnsupportedMediaType, exc.user_message) from exc
    try:
        width, height = imaging.image_size(data)
    except ImageError as exc:
        if isinstance(exc.__cause__, PILImage.DecompressionBombError):
            raise http_error(TooLarge, _too_many_pixels()) from exc
        raise http_error(web.HTTPBadRequest, exc.user_message) from exc
    if width * height > MAX_PIXELS:
        raise http_error(TooLarge, _too_many_pixels())
    try:  # decode it once here: a truncated or corrupt file is the sender's 400, not a failed job
        bounded = await asyncio.to_thread(
            imaging.bound_upload, data, max_bytes=max_bytes, max_pixels=MAX_PIXELS
        )
    except ImageError as exc:
        raise http_error(web.HTTPBadRequest, exc.user_message) from exc
    # above imaging.PIXEL_BUDGET the core gets the reduced copy, never the full-size original
    return Attachment(data=bounded.data, filename=filename[:200], mime=bounded.mime)


def _too_large(limit: int) -> str:
    return _("That is too large: {mb} MB at most.").format(mb=f"{limit / 1_000_000:.0f}")


def _too_many_pixels() -> str:
    return _("That image has too many pixels ({mp} MP at most).").format(mp=MAX_PIXELS // 1_000_000)
