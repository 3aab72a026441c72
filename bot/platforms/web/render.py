"""Replies and job events → the JSON the chat page renders (see ``bot/platforms/web/static/chat.js``)."""

from __future__ import annotations

import base64
from typing import Any

from bot.core.types import Action, Done, Failed, JobEvent, Progress, Queued, Reply, Started, Target

BUTTONS = {
    Action.REROLL: "reroll",
    Action.VARY: "vary",
    Action.UPSCALE: "upscale",
    Action.EDIT: "edit",
    Action.ORIGINAL: "download",
}
"""Buttons the web chat shows (Delete is Telegram's "remove these messages"; the web has no such thing)."""
MAX_PREVIEW_BYTES = 256_000


def reply_json(target: Target, reply: Reply, image_urls: list[str]) -> dict[str, Any]:
    return {
        "type": "reply",
        "chat": target.chat_id,
        "reply_to": target.reply_to_message_id,
        "text": reply.text,
        "is_error": reply.is_error,
        "generation_id": reply.generation_id,
        "images": [
            {"url": url, "width": image.width, "height": image.height}
            for url, image in zip(image_urls, reply.images, strict=True)
        ],
        "actions": [BUTTONS[a] for a in reply.actions if a in BUTTONS],
        "notes": list(reply.notes),
        "spoiler": reply.spoiler,  # the chat's content policy hides them: blurred until clicked
    }


def event_json(target: Target, job_id: int, event: JobEvent) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "job",
        "chat": target.chat_id,
        "job_id": job_id,
        "user_id": target.user_id,  # whose request: their page shows its Stop button
        "reply_to": target.reply_to_message_id,
    }
    match event:
        case Queued(position=position):
            data |= {"state": "queued", "position": position}
        case Started(provider=provider):
            data |= {"state": "started", "provider": provider}
        case Progress(fraction=fraction, preview=preview):
            data |= {"state": "progress", "fraction": round(fraction, 3)}
            if preview is not None and len(preview) <= MAX_PREVIEW_BYTES:
                data["preview"] = _data_url(preview)
        case Done(generation_id=generation_id):
            data |= {"state": "done", "generation_id": generation_id}
        case Failed(reason=reason):
            data |= {"state": "failed", "reason": reason}
    return data


def _data_url(image: bytes) -> str:
    mime = "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(image).decode()}"
