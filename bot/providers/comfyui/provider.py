"""``comfyui``: a ComfyUI server (``/prompt``, ``/history``, ``/view``, ``/upload/image``, ``/ws``).

``base_url`` is the server root (``http://127.0.0.1:8188``) or a list of identical servers. Each image
is one workflow run: the API-format file in ``providers.comfyui.workflow`` (placeholders
``{{prompt}}``, ``{{negative}}``, ``{{seed}}``, ``{{width}}``, ``{{height}}``, ``{{steps}}``,
``{{image}}``, and also ``{{cfg}}``, ``{{sampler}}``, ``{{denoise}}``, ``{{model}}``) or a built-in
SDXL-style txt2img / img2img template whose checkpoint is ``providers.comfyui.model``.

Flow: upload the reference (edits) → open the websocket ``/ws?clientId=`` → ``POST /prompt`` → follow
``progress`` / ``executing`` / ``execution_*`` events (or poll ``GET /history/{id}`` when the socket
cannot be opened or drops) → ``GET /view`` for each output image. The seed is chosen here when the
request has none, so the one used is always known and recorded. An upscale is the same flow with the
workflow of :mod:`bot.providers.comfyui.upscale`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any

import aiohttp
import httpx

from bot.core.errors import ImageError, InvalidRequest, ProviderTimeout, Unavailable
from bot.core.i18n import _
from bot.core.imaging import image_size
from bot.core.ports import ProgressCallback
from bot.core.types import Capabilities, Image, ImageRequest, ProviderHealth
from bot.providers._http.backends import BackendPool
from bot.providers._http.client import USER_AGENT, max_response_bytes
from bot.providers._http.common import base_urls, is_edit
from bot.providers._http.errors import TIMEOUT_TEXT
from bot.providers._http.local_servers import check_all
from bot.providers._http.media import base_is_local
from bot.providers.comfyui.events import (
    CANCELLED_TEXT,
    FEATURE_FLAGS,
    follow,
    history_failure,
)
from bot.providers.comfyui.outputs import fetch_outputs
from bot.providers.comfyui.settings import ComfyUISettings
from bot.providers.comfyui.upscale import upscale_workflow
from bot.providers.comfyui.values import DEFAULT_CHECKPOINT, filled_workflow
from bot.providers.comfyui.wire import Wire, checkpoint_names
from bot.providers.comfyui.workflow import Workflows, placeholders

__all__ = ["ComfyUIProvider", "create"]

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 1.0
DEFAULT_WAIT_S = 300.0
SIDE_CALL_TIMEOUT_S = 10.0
WATCH_S = 15.0
"""Without an event about our prompt for this long, look for it in the queue and the history."""
HEARTBEAT_S = 10.0
"""Websocket ping interval; no pong within half of it and the server is taken as frozen."""


class ComfyUIProvider:
    """ComfyUI over httpx (requests) and aiohttp (the websocket), implementing the Provider protocol."""

    name = "comfyui"
    catalog: tuple[str, ...] = (DEFAULT_CHECKPOINT, "v1-5-pruned-emaonly.safetensors")
    """Common checkpoint file names; the installed ones come from :meth:`list_models`."""

    live_models_only = True
    """``easel providers`` shows :meth:`list_models` alone: what the server has is all it can load."""

    def __init__(
        self,
        settings: ComfyUISettings,
        *,
        client: httpx.AsyncClient,
        poll_interval_s: float = POLL_INTERVAL_S,
        watch_s: float = WATCH_S,
        heartbeat_s: float = HEARTBEAT_S,
        side_timeout_s: float = SIDE_CALL_TIMEOUT_S,
    ) -> None:
        urls = base_urls(settings, provider=self.name, example="http://127.0.0.1:8188")
        self.pool = BackendPool(urls, max_per_backend=settings.max_concurrency or 1)
        self.model = settings.model
        self._settings = settings
        self._poll_s = poll_interval_s
        self._watch_s = watch_s
        self._heartbeat_s = heartbeat_s
        self._side_timeout_s = side_timeout_s
        self._wait_s = settings.timeout_s or client.timeout.read or DEFAULT_WAIT_S
        self._max_ws_message = max_response_bytes(settings)  # the same cap as for HTTP answers
        local = base_is_local(settings.base_url)
        self._wire = Wire(client, provider=self.name, allow_private=local, side_timeout_s=side_timeout_s)
        self._workflows = Workflows.from_settings(
            settings.workflow, settings.edit_workflow, provider=self.name
        )
        used = self._workflows.placeholders()
        self.capabilities = Capabilities(
            edit=self._workflows.edit is not None,
            max_n=1,
            aspects=None,
            negative_prompt="negative" in used,
            seed="seed" in used,
            max_reference_images=1 if self._workflows.edit is not None else 0,
            upscale=True,  # ImageScaleBy is a core node: every server can
        )
        self._session: aiohttp.ClientSession | None = None
        self._running: dict[str, tuple[str, asyncio.Task[Mapping[str, Any]]]] = {}
        """prompt_id -> (backend, the task waiting for its result)."""
        self._abandoned: set[asyncio.Task[None]] = set()
        """Stops sent to a server that stopped answering (they land when it answers again)."""

    # ------------------------------------------------------------------------------------ the protocol

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """One workflow run (the chain splits n); fails over between backends on Unavailable."""
        edit = is_edit(request, provider=self.name)
        if edit and self._workflows.edit is None:
            raise InvalidRequest(
                f"{self.name}: no edit workflow (a {{{{image}}}} placeholder) is configured",
                provider=self.name,
                user_message=_("This ComfyUI workflow cannot edit images."),
            )
        if not edit and self._workflows.generate is None:
            raise InvalidRequest(
                f"{self.name}: the configured workflow needs an {{{{image}}}}",
                provider=self.name,
                user_message=_("This ComfyUI workflow edits images: send or reply to an image."),
            )
        seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
        images = await self.pool.call(lambda base: self._run(base, request, seed, on_progress, edit=edit))
        await on_progress(1.0, None)
        return images

    async def upscale(self, image: bytes, factor: int, *, on_progress: ProgressCallback) -> Image | None:
        """Upload, run the upscale workflow (ImageScaleBy, or ``upscale_model``), fetch; fails over
        between backends on Unavailable."""
        try:
            width, height = image_size(image)
        except ImageError as exc:
            raise InvalidRequest(
                f"{self.name}: the picture to upscale is not an image: {exc}", provider=self.name
            ) from exc
        model = self._settings.upscale_model

        async def run(base: str) -> Image:
            name = await self._wire.upload(base, image)
            workflow = upscale_workflow(name, factor, width=width, height=height, model=model)
            [result] = await self._outputs(base, workflow, on_progress, n=1, model=model, seed=None)
            return result

        result = await self.pool.call(run)
        await on_progress(1.0, None)
        return result

    async def check(self) -> ProviderHealth:
        """GET ``/system_stats`` on every backend: ok when any answers."""

        async def probe(base: str) -> str:
            stats = await self._wire.get_json(f"{base}/system_stats")
            devices = stats.get("devices") if isinstance(stats, dict) else None
            device = (
                devices[0].get("name")
                if isinstance(devices, list) and devices and isinstance(devices[0], dict)
                else None
            )
            return f"ok ({device})" if device else "ok"

        return await check_all(self.pool.urls, probe, provider=self.name)

    async def list_models(self) -> list[str]:
        """Checkpoints from ``GET /object_info/CheckpointLoaderSimple`` on the first backend that answers."""
        last: Exception | None = None
        for base in self.pool.urls:
            try:
                info = await self._wire.get_json(f"{base}/object_info/CheckpointLoaderSimple")
                return checkpoint_names(info)
            except Unavailable as exc:
                last = exc
        assert last is not None
        raise last

    async def interrupt(self) -> None:
        """Stop this provider's runs: drop them from the queue, interrupt the one executing, and end
        their waits (a run deleted while pending would never report back)."""
        runs = list(self._running.items())
        await asyncio.gather(*(self._wire.stop(base, prompt_id) for prompt_id, (base, _run) in runs))
        for _prompt, (_base, waiter) in runs:
            waiter.cancel()

    async def aclose(self) -> None:
        """Close the websocket session this provider opened (the HTTP client belongs to the app)."""
        for task in list(self._abandoned):
            task.cancel()  # the requests are sent; the server reads them when it answers again
        await asyncio.gather(*self._abandoned, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------------------------ one backend

    async def _run(
        self, base: str, request: ImageRequest, seed: int, on_progress: ProgressCallback, *, edit: bool
    ) -> list[Image]:
        """Upload, fill the workflow, then :meth:`_outputs`."""
        image_name = await self._wire.upload(base, request.reference_images[0]) if edit else None
        template = self._workflows.edit if edit else self._workflows.generate
        assert template is not None
        workflow = filled_workflow(
            template,
            request,
            self._settings,
            model=request.model or self.model or DEFAULT_CHECKPOINT,
            seed=seed,
            image=image_name,
        )
        model = (
            request.model or self.model or (DEFAULT_CHECKPOINT if self._workflows.builtin(template) else None)
        )
        used_seed = seed if "seed" in placeholders(template) else None
        return await self._outputs(base, workflow, on_progress, n=request.n, model=model, seed=used_seed)

    async def _outputs(
        self,
        base: str,
        workflow: Any,
        on_progress: ProgressCallback,
        *,
        n: int,
        model: str | None,
        seed: int | None,
    ) -> list[Image]:
        """Run ``workflow`` and fetch its first ``n`` images (:func:`fetch_outputs`)."""

        async def submit() -> Mapping[str, Any]:
            return await self._submit(base, workflow, on_progress)

        return await fetch_outputs(self._wire, base, submit, n=n, model=model, seed=seed, provider=self.name)

    async def _submit(self, base: str, workflow: Any, on_progress: ProgressCallback) -> Mapping[str, Any]:
        """One /prompt under our own prompt_id, followed until its history entry is there."""
        client_id, prompt_id = uuid.uuid4().hex, str(uuid.uuid4())
        body = {**self._extra_body(), "prompt": workflow, "client_id": client_id, "prompt_id": prompt_id}
        ws = await self._open_ws(base, client_id)
        try:
            try:
                prompt_id = await self._wire.queue(base, body)
            except (ProviderTimeout, Unavailable):
                self._abandon(base, prompt_id)  # it may have been queued before the answer was lost
                raise
            except asyncio.CancelledError:  # cancelled before the server's answer: it may be queued
                await asyncio.shield(self._wire.stop(base, prompt_id))
                raise
            waiter = asyncio.create_task(self._result(ws, base, prompt_id, on_progress))
            self._running[prompt_id] = (base, waiter)
            try:
                async with asyncio.timeout(self._wait_s):
                    return await waiter
            except TimeoutError as exc:
                await self._wire.stop(base, prompt_id)
                raise ProviderTimeout(
                    f"{self.name}: no result within {self._wait_s:.0f} s",
                    provider=self.name,
                    user_message=_(TIMEOUT_TEXT),
                ) from exc
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is None or task.cancelling():  # generate() itself was cancelled
                    await asyncio.shield(self._wire.stop(base, prompt_id))  # free the GPU for the next job
                    raise
                raise InvalidRequest(  # interrupt() called off the wait
                    f"{self.name}: the run was interrupted",
                    provider=self.name,
                    user_message=_(CANCELLED_TEXT),
                ) from None
            except (Unavailable, ProviderTimeout):
                self._abandon(base, prompt_id)  # given up on: it must not run later for nobody
                raise
            finally:
                self._running.pop(prompt_id, None)
                waiter.cancel()
        finally:
            if ws is not None:
                await ws.close()

    def _abandon(self, base: str, prompt_id: str) -> None:
        task = asyncio.create_task(self._wire.stop(base, prompt_id))
        self._abandoned.add(task)
        task.add_done_callback(self._abandoned.discard)

    async def _open_ws(self, base: str, client_id: str) -> aiohttp.ClientWebSocketResponse | None:
        """The job's websocket (heartbeat on; previews with metadata asked for), or None (then
        /history is polled) when it cannot be opened."""
        url = httpx.URL(base + "/ws").copy_with(scheme="wss" if base.startswith("https") else "ws")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._side_timeout_s),
                headers={"User-Agent": USER_AGENT},
            )
        try:
            async with asyncio.timeout(self._side_timeout_s):
                ws = await self._session.ws_connect(
                    str(url),
                    params={"clientId": client_id},
                    max_msg_size=self._max_ws_message,
                    autoping=True,
                    heartbeat=self._heartbeat_s,
                )
                await ws.send_json(FEATURE_FLAGS)
                return ws
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.info("comfyui: websocket on %s unavailable (%s); polling /history instead", base, exc)
            return None

    async def _result(
        self,
        ws: aiohttp.ClientWebSocketResponse | None,
        base: str,
        prompt_id: str,
        on_progress: ProgressCallback,
    ) -> Mapping[str, Any]:
        """Follow the websocket until the run ends (if there is one), then read its history entry."""

        async def watch() -> bool:
            return await self._still_there(base, prompt_id)

        if ws is not None:
            await follow(ws, prompt_id, on_progress, provider=self.name, watch=watch, watch_s=self._watch_s)
        return await self._poll_history(base, prompt_id)

    async def _still_there(self, base: str, prompt_id: str) -> bool:
        """True when the run is done; False while it is queued or running; raised when it is gone."""
        where = await self._wire.where(base, prompt_id)
        if where == "gone":
            raise InvalidRequest(
                f"{self.name}: prompt {prompt_id} is neither queued nor in the history on {base} "
                "(the queue was cleared or the prompt deleted by another client)",
                provider=self.name,
                user_message=_(
                    "The job was removed from the ComfyUI queue before it ran (someone cleared the queue); "
                    "send "
                    "the request again if you still want it."
                ),
            )
        return where == "done"

    async def _poll_history(self, base: str, prompt_id: str) -> Mapping[str, Any]:
        """GET /history/{id} until the run is there (checking the queue every ``watch_s``); its
        failure raised as the matching error."""
        checked = time.monotonic()
        while True:
            history = await self._wire.get_json(f"{base}/history/{prompt_id}")
            entry = history.get(prompt_id) if isinstance(history, dict) else None
            if isinstance(entry, dict):
                failure = history_failure(entry, provider=self.name)
                if failure is not None:
                    raise failure
                status = entry.get("status")
                if not (
                    isinstance(status, dict) and status.get("completed") is False and not entry.get("outputs")
                ):
                    return entry
            elif time.monotonic() - checked >= self._watch_s:
                await self._still_there(base, prompt_id)
                checked = time.monotonic()
            await asyncio.sleep(self._poll_s)

    def _extra_body(self) -> dict[str, Any]:
        """``settings.options`` go into the /prompt body (``extra_data``, ``front``, ...), minus ours."""
        return {
            k: v
            for k, v in self._settings.options.items()
            if k not in ("long_side", "prompt", "client_id", "prompt_id")
        }


def create(settings: ComfyUISettings, *, client: httpx.AsyncClient) -> ComfyUIProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return ComfyUIProvider(settings, client=client)
