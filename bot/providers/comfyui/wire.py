"""The ComfyUI HTTP calls one run makes, besides its websocket: upload, queue, where-is-my-prompt,
view, stop, free (and the checkpoint names in /object_info). Every answer is checked and every
failure is one of Easel's errors.

- ``POST /prompt`` carries a ``prompt_id`` we chose (ComfyUI ≥ 0.3.4x keeps it), so a prompt can be
  deleted by its id even when the answer to /prompt never came. A 200 may still list, in
  ``node_errors``, outputs that failed validation and were dropped: they are logged.
- ``where``: a prompt is ``running`` / ``pending`` in ``GET /queue``, ``done`` in ``GET /history/{id}``,
  or ``gone`` (someone cleared the queue or deleted it). The queue is read first: a prompt leaves it
  only once its history is written.
- ``stop``: ``POST /queue {"delete": [id]}`` and ``POST /interrupt {"prompt_id": id}`` (which upstream
  ignores unless that prompt is the one running): neither can stop another client's work.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from bot.core.errors import InvalidRequest, Misconfigured, ProviderTimeout, Unavailable
from bot.core.i18n import _
from bot.core.imaging import EXTENSIONS
from bot.core.types import Image
from bot.providers._http.common import read_json, reference_mime
from bot.providers._http.errors import raise_for_response, scrub, transport_errors
from bot.providers._http.media import download, to_image
from bot.providers.comfyui.events import describe_rejection

__all__ = ["OutputGone", "Wire", "checkpoint_names"]

log = logging.getLogger(__name__)

Where = Literal["running", "pending", "done", "gone"]


class OutputGone(Unavailable):
    """``/view`` answered 404/403: the output file is not there (deleted, or never written)."""


class Wire:
    """One provider's HTTP calls to its backends (``base`` is the server root)."""

    def __init__(
        self, client: httpx.AsyncClient, *, provider: str, allow_private: bool, side_timeout_s: float
    ) -> None:
        self._client = client
        self._provider = provider
        self._allow_private = allow_private
        self._side_timeout_s = side_timeout_s

    async def upload(self, base: str, data: bytes) -> str:
        """POST /upload/image (multipart); the name to put in a LoadImage node."""
        name = self._provider
        mime = reference_mime(data, provider=name)
        filename = f"easel-{hashlib.sha256(data).hexdigest()[:20]}.{EXTENSIONS[mime]}"
        url = f"{base}/upload/image"
        with transport_errors(provider=name, url=url):
            response = await self._client.post(
                url, files={"image": (filename, data, mime)}, data={"type": "input", "overwrite": "true"}
            )
        raise_for_response(response, provider=name)
        answer = read_json(response, provider=name)
        uploaded = answer.get("name") if isinstance(answer, dict) else None
        if not isinstance(uploaded, str) or not uploaded:
            raise Unavailable(f"{name}: upload answer has no name", provider=name)
        subfolder = answer.get("subfolder") or ""
        return f"{subfolder}/{uploaded}" if isinstance(subfolder, str) and subfolder else uploaded

    async def queue(self, base: str, body: Mapping[str, Any]) -> str:
        """POST /prompt: the prompt_id the server runs it under; dropped outputs are logged."""
        name = self._provider
        url = f"{base}/prompt"
        with transport_errors(provider=name, url=url):
            response = await self._client.post(url, json=dict(body))
        if response.status_code == 400:
            summary = describe_rejection(_json_or_none(response))
            raise InvalidRequest(
                f"{name}: HTTP 400: workflow rejected: {summary}",
                provider=name,
                user_message=_("ComfyUI rejected the workflow: {reason}").format(
                    reason=scrub(summary, limit=240)
                ),
            )
        raise_for_response(response, provider=name)
        answer = read_json(response, provider=name)
        prompt_id = answer.get("prompt_id") if isinstance(answer, dict) else None
        if not isinstance(prompt_id, str) or not prompt_id:
            raise Unavailable(f"{name}: /prompt answer has no prompt_id", provider=name)
        if isinstance(answer.get("node_errors"), dict) and answer["node_errors"]:
            log.warning(
                "%s: ComfyUI dropped outputs of the workflow that failed validation (the others run): %s",
                name,
                scrub(describe_rejection(answer), limit=600),
            )
        return prompt_id

    async def where(self, base: str, prompt_id: str) -> Where:
        queue = await self.get_json(f"{base}/queue")
        for state, key in (("running", "queue_running"), ("pending", "queue_pending")):
            items = queue.get(key) if isinstance(queue, dict) else None
            if isinstance(items, list) and any(
                isinstance(item, list) and len(item) > 1 and item[1] == prompt_id for item in items
            ):
                return state  # type: ignore[return-value]
        history = await self.get_json(f"{base}/history/{prompt_id}")
        return "done" if isinstance(history, dict) and prompt_id in history else "gone"

    async def view(self, base: str, ref: Mapping[str, str], model: str | None, seed: int | None) -> Image:
        name = self._provider
        url = f"{base}/view?" + urlencode(ref)
        try:
            data, mime = await download(self._client, url, provider=name, allow_private=self._allow_private)
        except (Misconfigured, Unavailable) as exc:  # a 404/403 (the file is gone) or a dropped fetch
            raise OutputGone(
                f"{name}: output {ref.get('filename')} cannot be fetched: {exc}",
                provider=name,
                user_message=_("The image was made but could not be fetched from ComfyUI; please try again."),
            ) from exc
        return to_image(data, provider=name, model=model, seed=seed, mime=mime)

    async def stop(self, base: str, prompt_id: str) -> None:
        """Best effort: delete our prompt from the queue and interrupt it if it is the one running."""
        timeout = self._side_timeout_s
        try:
            with transport_errors(provider=self._provider):
                await asyncio.gather(
                    self._client.post(f"{base}/queue", json={"delete": [prompt_id]}, timeout=timeout),
                    self._client.post(f"{base}/interrupt", json={"prompt_id": prompt_id}, timeout=timeout),
                )
        except (Unavailable, ProviderTimeout, Misconfigured) as exc:
            log.warning("%s: could not stop %s on %s: %s", self._provider, prompt_id, base, exc)

    async def free(self, base: str) -> None:
        """POST /free: ComfyUI drops its cached node results (after the prompt it is running)."""
        url = f"{base}/free"
        with transport_errors(provider=self._provider, url=url):
            response = await self._client.post(url, json={"free_memory": True}, timeout=self._side_timeout_s)
        raise_for_response(response, provider=self._provider)

    async def get_json(self, url: str) -> Any:
        with transport_errors(provider=self._provider, url=url):
            response = await self._client.get(url, timeout=self._side_timeout_s)
        raise_for_response(response, provider=self._provider)
        return read_json(response, provider=self._provider)


def _json_or_none(response: httpx.Response) -> Any:
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        return json.loads(response.content)
    return None


def checkpoint_names(info: Any) -> list[str]:
    """``ckpt_name``'s choices: ``[[names...], {...}]`` (older) or ``["COMBO", {"options": [...]}]``."""
    try:
        spec = info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"]
    except (KeyError, TypeError) as exc:
        raise Unavailable("comfyui: unexpected /object_info shape", provider="comfyui") from exc
    choices: object = None
    if isinstance(spec, list) and spec:
        if isinstance(spec[0], list):
            choices = spec[0]
        elif len(spec) > 1 and isinstance(spec[1], dict):
            choices = spec[1].get("options")
    if not isinstance(choices, list):
        raise Unavailable("comfyui: unexpected ckpt_name shape in /object_info", provider="comfyui")
    return [str(name) for name in choices]
