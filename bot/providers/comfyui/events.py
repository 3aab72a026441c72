"""Reading what ComfyUI says about a run: websocket events, history status and outputs, rejected
workflows.

Websocket text frames are ``{"type", "data"}``; only those whose ``data.prompt_id`` is ours count
(a run queued by another client without a client id is broadcast to every socket). ``progress{value,
max}`` → a fraction; ``execution_success`` means the nodes are done but the history is not written yet:
the run ends on ``executing{node: null}`` (sent after the history); ``execution_error`` /
``execution_interrupted`` → failure. Binary frames are previews, a 4-byte big-endian event type then:
type 4 (sent when we declared ``supports_preview_metadata``) a 4-byte metadata length, metadata JSON
with the ``prompt_id``, the image; legacy type 1 a 4-byte image format and the image, with no prompt
id, so accepted only while our own prompt executes (the server runs one prompt at a time).
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp

from bot.core.errors import InvalidRequest, ProviderError, Unavailable
from bot.core.i18n import N_, _
from bot.core.ports import ProgressCallback
from bot.providers._http.errors import scrub

__all__ = [
    "CANCELLED_TEXT",
    "FEATURE_FLAGS",
    "cached_outputs",
    "describe_rejection",
    "execution_failure",
    "follow",
    "history_failure",
    "output_images",
]

CANCELLED_TEXT = N_("The image was cancelled before it was finished.")
PREVIEW_IMAGE = 1
PREVIEW_IMAGE_WITH_METADATA = 4
FEATURE_FLAGS = {"type": "feature_flags", "data": {"supports_preview_metadata": True}}
_OUT_OF_MEMORY = ("outofmemory", "out of memory", "cuda error", "allocation on device")
_STARTED = ("execution_start", "execution_cached", "executing", "progress", "progress_state", "executed")

Watch = Callable[[], Awaitable[bool]]
"""Called after ``watch_s`` without an event for our prompt: True when the run is over (its history is
there); raises when the prompt is gone; False to keep waiting."""


async def follow(
    ws: aiohttp.ClientWebSocketResponse,
    prompt_id: str,
    on_progress: ProgressCallback,
    *,
    provider: str,
    watch: Watch,
    watch_s: float,
) -> bool:
    """Report the run's progress until it ends: True when it finished, False when the socket closed
    first (the caller then polls /history). A failed or interrupted run is raised, and so is a server
    that stopped answering the socket's heartbeat. After ``watch_s`` without an event for our prompt,
    ``watch`` looks for it in the queue and the history."""
    run = _Run(prompt_id, on_progress, provider)
    quiet_since = time.monotonic()
    receiving: asyncio.Task[aiohttp.WSMessage] | None = None
    try:
        while True:
            receiving = receiving or asyncio.ensure_future(ws.receive())
            done, _pending = await asyncio.wait(
                {receiving}, timeout=max(quiet_since + watch_s - time.monotonic(), 0)
            )
            if not done:
                if await watch():
                    return True
                quiet_since = time.monotonic()
                continue
            message, receiving = receiving.result(), None
            outcome = await run.take(message)
            if outcome is not None:
                return outcome
            if run.heard:
                quiet_since, run.heard = time.monotonic(), False
    finally:
        if receiving is not None:
            receiving.cancel()


class _Run:
    """One prompt's events: progress and previews reported, the end or the failure recognised."""

    def __init__(self, prompt_id: str, on_progress: ProgressCallback, provider: str) -> None:
        self.prompt_id = prompt_id
        self.on_progress = on_progress
        self.provider = provider
        self.fraction = 0.0
        self.executing = False
        """Our prompt is the one running: legacy previews (no prompt id) are ours."""
        self.heard = False
        """Something about our prompt arrived (the silence watch restarts)."""

    async def take(self, message: aiohttp.WSMessage) -> bool | None:
        """True: the run ended; False: the socket closed; None: keep reading."""
        if message.type is aiohttp.WSMsgType.BINARY:
            preview = _preview(message.data, self.prompt_id, legacy_ok=self.executing)
            if preview is not None:
                self.heard = True
                await self.on_progress(self.fraction, preview)
            return None
        if message.type is aiohttp.WSMsgType.ERROR and isinstance(message.data, TimeoutError):
            raise Unavailable(
                f"{self.provider}: the server stopped answering the websocket heartbeat",
                provider=self.provider,
                user_message=_("The ComfyUI server stopped responding."),
            )
        if message.type is not aiohttp.WSMsgType.TEXT:
            return False  # close, closing, error
        try:
            event = json.loads(message.data)
        except ValueError:
            return None
        if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
            return None
        kind, data = event.get("type"), event["data"]
        if data.get("prompt_id") != self.prompt_id:
            return None  # another run, or the queue status every client is told about
        self.heard = True
        self.executing = self.executing or kind in _STARTED
        if kind == "progress":
            value, maximum = data.get("value"), data.get("max")
            if _number(value) and _number(maximum) and maximum > 0:
                self.fraction = min(max(float(value) / float(maximum), 0.0), 0.99)
                await self.on_progress(self.fraction, None)
        elif kind == "execution_success":
            self.executing = False  # nodes done; the history follows, then executing {node: null}
        elif kind == "executing" and "node" in data and data["node"] is None:
            return True
        elif kind in ("execution_error", "execution_interrupted"):
            raise execution_failure(kind, data, provider=self.provider)
        return None


def execution_failure(kind: str, data: Mapping[str, Any], *, provider: str) -> ProviderError:
    """``execution_interrupted`` → InvalidRequest (cancelled); an out-of-memory error → Unavailable
    (another backend or a later try may fit); any other node error → InvalidRequest."""
    if kind == "execution_interrupted":
        return InvalidRequest(
            f"{provider}: the run was interrupted", provider=provider, user_message=_(CANCELLED_TEXT)
        )
    exc_type = str(data.get("exception_type") or "error")
    text = str(data.get("exception_message") or "").strip()
    node = f"node {data.get('node_id')} ({data.get('node_type')})" if data.get("node_id") else "a node"
    message = f"{provider}: {node} failed: {exc_type}: {scrub(text)}"
    if any(marker in f"{exc_type} {text}".lower() for marker in _OUT_OF_MEMORY):
        return Unavailable(
            message,
            provider=provider,
            user_message=_(
                "The ComfyUI server ran out of GPU memory; try again later or ask for a smaller image."
            ),
        )
    return InvalidRequest(
        message,
        provider=provider,
        user_message=_("ComfyUI could not run the workflow: {reason}").format(
            reason=scrub(text or exc_type, limit=160)
        ),
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
        user_message=_("ComfyUI could not run the workflow."),
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
            user_message=_(
                "The ComfyUI workflow finished without an image (does it end in a SaveImage node?)."
            ),
        )
    return saved


def cached_outputs(entry: Mapping[str, Any]) -> set[str]:
    """The output nodes ComfyUI did not run but answered from its cache (their files are old)."""
    status = entry.get("status")
    messages = status.get("messages") if isinstance(status, dict) else None
    cached: set[str] = set()
    for item in messages if isinstance(messages, list) else ():
        if (
            isinstance(item, list)
            and len(item) == 2
            and item[0] == "execution_cached"
            and isinstance(item[1], dict)
        ):
            nodes = item[1].get("nodes")
            cached |= {str(n) for n in nodes} if isinstance(nodes, list) else set()
    outputs = entry.get("outputs")
    return cached & set(outputs) if isinstance(outputs, dict) else set()


def _preview(frame: bytes, prompt_id: str, *, legacy_ok: bool) -> bytes | None:
    if len(frame) <= 8:
        return None
    event, second = struct.unpack(">II", frame[:8])
    if event == PREVIEW_IMAGE:
        return frame[8:] if legacy_ok else None
    if event != PREVIEW_IMAGE_WITH_METADATA or len(frame) <= 8 + second:
        return None
    try:
        metadata = json.loads(frame[8 : 8 + second])
    except ValueError:
        return None
    if not isinstance(metadata, dict) or metadata.get("prompt_id") != prompt_id:
        return None
    return frame[8 + second :]


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
