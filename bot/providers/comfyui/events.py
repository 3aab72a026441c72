"""Reading what ComfyUI says about a run: websocket events, history status and outputs, rejected
workflows.

Websocket text frames are ``{"type", "data"}``: ``progress{value, max, prompt_id}`` → a fraction,
``executing{node: null, prompt_id}`` or ``execution_success`` → done, ``execution_error`` /
``execution_interrupted`` → failure. Binary frames are previews: a 4-byte big-endian event type
(1 = preview image), a 4-byte image format (1 = JPEG, 2 = PNG), then the image bytes.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.core.errors import InvalidRequest, ProviderError, Unavailable
from bot.core.ports import ProgressCallback
from bot.providers._http.errors import scrub

__all__ = [
    "CANCELLED_TEXT",
    "describe_rejection",
    "execution_failure",
    "follow",
    "history_failure",
    "output_images",
]

CANCELLED_TEXT = "The image was cancelled before it was finished."
PREVIEW_IMAGE = 1
_OUT_OF_MEMORY = ("outofmemory", "out of memory", "cuda error", "allocation on device")


async def follow(
    ws: aiohttp.ClientWebSocketResponse, prompt_id: str, on_progress: ProgressCallback, *, provider: str
) -> bool:
    """Report the run's progress until it ends: True when it finished, False when the socket closed
    first (the caller then polls /history). A failed or interrupted run is raised."""
    fraction = 0.0
    async for message in ws:
        if message.type is aiohttp.WSMsgType.BINARY:
            preview = _preview(message.data)
            if preview is not None:
                await on_progress(fraction, preview)
            continue
        if message.type is not aiohttp.WSMsgType.TEXT:
            break  # close, closing, error
        try:
            event = json.loads(message.data)
        except ValueError:
            continue
        if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
            continue
        kind, data = event.get("type"), event["data"]
        if data.get("prompt_id", prompt_id) != prompt_id:
            continue  # another run (the server also tells every client about the queue)
        if kind == "progress":
            value, maximum = data.get("value"), data.get("max")
            if _number(value) and _number(maximum) and maximum > 0:
                fraction = min(max(float(value) / float(maximum), 0.0), 0.99)
                await on_progress(fraction, None)
        elif kind == "execution_success" or (kind == "executing" and "node" in data and data["node"] is None):
            return True
        elif kind in ("execution_error", "execution_interrupted"):
            raise execution_failure(kind, data, provider=provider)
    return False


def execution_failure(kind: str, data: Mapping[str, Any], *, provider: str) -> ProviderError:
    """``execution_interrupted`` → InvalidRequest (cancelled); an out-of-memory error → Unavailable
    (another backend or a later try may fit); any other node error → InvalidRequest."""
    if kind == "execution_interrupted":
        return InvalidRequest(
            f"{provider}: the run was interrupted", provider=provider, user_message=CANCELLED_TEXT
        )
    exc_type = str(data.get("exception_type") or "error")
    text = str(data.get("exception_message") or "").strip()
    node = f"node {data.get('node_id')} ({data.get('node_type')})" if data.get("node_id") else "a node"
    message = f"{provider}: {node} failed: {exc_type}: {scrub(text)}"
    if any(marker in f"{exc_type} {text}".lower() for marker in _OUT_OF_MEMORY):
        return Unavailable(
            message,
            provider=provider,
            user_message="The ComfyUI server ran out of GPU memory; try again later or ask for a smaller "
            "image.",
        )
    return InvalidRequest(
        message,
        provider=provider,
        user_message=f"ComfyUI could not run the workflow: {scrub(text or exc_type, limit=160)}",
    )


def history_failure(entry: Mapping[str, Any], *, provider: str) -> ProviderError | None:
    """The error a finished /history entry reports, or None when it succeeded."""
    status = entry.get("status")
    if not isinstance(status, dict) or status.get("status_str") != "error":
        return None
    messages = status.get("messages")
    for item in messages if isinstance(messages, list) else ():
        if (
            isinstance(item, list)
            and len(item) == 2
            and item[0] in ("execution_error", "execution_interrupted")
            and isinstance(item[1], dict)
        ):
            return execution_failure(str(item[0]), item[1], provider=provider)
    return InvalidRequest(
        f"{provider}: the run failed (no error message in its history)",
        provider=provider,
        user_message="ComfyUI could not run the workflow.",
    )


def describe_rejection(body: Any) -> str:
    """A 400 from /prompt in a line: ``node 4 (CheckpointLoaderSimple): Value not in list: ckpt_name ...``."""
    if not isinstance(body, dict):
        return "invalid workflow"
    parts: list[str] = []
    node_errors = body.get("node_errors")
    for node_id, info in node_errors.items() if isinstance(node_errors, dict) else ():
        if not isinstance(info, dict):
            continue
        where = f"node {node_id} ({info.get('class_type', '?')})"
        for error in info.get("errors") or []:
            if isinstance(error, dict):
                details = f": {error['details']}" if error.get("details") else ""
                parts.append(f"{where}: {error.get('message', 'invalid')}{details}")
    if parts:
        return "; ".join(parts)
    error = body.get("error")
    if isinstance(error, dict):
        details = f": {error['details']}" if error.get("details") else ""
        return f"{error.get('message') or error.get('type') or 'invalid workflow'}{details}"
    return str(error or "invalid workflow")


def output_images(entry: Mapping[str, Any]) -> list[dict[str, str]]:
    """The run's saved images (``type`` output), else its previews; InvalidRequest when there are none."""
    found: list[dict[str, str]] = []
    outputs = entry.get("outputs")
    for node in (outputs or {}).values() if isinstance(outputs, dict) else ():
        for image in node.get("images", []) if isinstance(node, dict) else ():
            if isinstance(image, dict) and isinstance(image.get("filename"), str):
                found.append(
                    {
                        "filename": image["filename"],
                        "subfolder": str(image.get("subfolder") or ""),
                        "type": str(image.get("type") or "output"),
                    }
                )
    saved = [ref for ref in found if ref["type"] == "output"] or found
    if not saved:
        raise InvalidRequest(
            "comfyui: the workflow finished without any image",
            provider="comfyui",
            user_message="The ComfyUI workflow finished without an image (does it end in a SaveImage node?).",
        )
    return saved


def _preview(frame: bytes) -> bytes | None:
    if len(frame) <= 8:
        return None
    event, _format = struct.unpack(">II", frame[:8])
    return frame[8:] if event == PREVIEW_IMAGE else None


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
