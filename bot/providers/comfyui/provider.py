"""``comfyui``: a ComfyUI server (``/prompt``, ``/history``, ``/view``, ``/upload/image``, ``/ws``).

``base_url`` is the server root (``http://127.0.0.1:8188``) or a list of identical servers. Each image
is one workflow run: the API-format file in ``providers.comfyui.workflow`` (placeholders
``{{prompt}}``, ``{{negative}}``, ``{{seed}}``, ``{{width}}``, ``{{height}}``, ``{{steps}}``,
``{{image}}``, and also ``{{cfg}}``, ``{{sampler}}``, ``{{denoise}}``, ``{{model}}``) or a built-in
SDXL-style txt2img / img2img template whose checkpoint is ``providers.comfyui.model``.

Flow: upload the reference (edits) → open the websocket ``/ws?clientId=`` → ``POST /prompt`` → follow
``progress`` / ``executing`` / ``execution_*`` events (or poll ``GET /history/{id}`` when the socket
cannot be opened or drops) → ``GET /view`` for each output image. The seed is chosen here when the
request has none, so the one used is always known and recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx

from bot.core.errors import InvalidRequest, Misconfigured, ProviderTimeout, Unavailable
from bot.core.imaging import EXTENSIONS
from bot.core.ports import ProgressCallback
from bot.core.types import Capabilities, GenerationKind, Image, ImageRequest, ProviderHealth
from bot.providers._http.backends import BackendPool
from bot.providers._http.client import USER_AGENT, max_response_bytes
from bot.providers._http.common import base_urls, diffusion_prompt, is_edit, read_json, reference_mime
from bot.providers._http.errors import raise_for_response, scrub, transport_errors
from bot.providers._http.local_servers import canvas_for, check_all
from bot.providers._http.media import base_is_local, download, to_image
from bot.providers.comfyui.events import (
    CANCELLED_TEXT,
    describe_rejection,
    follow,
    history_failure,
    output_images,
)
from bot.providers.comfyui.settings import ComfyUISettings
from bot.providers.comfyui.workflow import IMG2IMG, TXT2IMG, fill, load_workflow, placeholders

__all__ = ["ComfyUIProvider", "create"]

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINT = "sd_xl_base_1.0.safetensors"
DEFAULT_STEPS = 25
DEFAULT_CFG = 7.0
DEFAULT_SAMPLER = "euler"
EDIT_DENOISE = 0.55
VARY_DENOISE = 0.35
POLL_INTERVAL_S = 1.0
DEFAULT_WAIT_S = 300.0
SIDE_CALL_TIMEOUT_S = 10.0


class ComfyUIProvider:
    """ComfyUI over httpx (requests) and aiohttp (the websocket), implementing the Provider protocol."""

    name = "comfyui"
    catalog: tuple[str, ...] = (DEFAULT_CHECKPOINT, "v1-5-pruned-emaonly.safetensors")
    """Common checkpoint file names; the installed ones come from :meth:`list_models`."""

    def __init__(
        self,
        settings: ComfyUISettings,
        *,
        client: httpx.AsyncClient,
        poll_interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        urls = base_urls(settings, provider=self.name, example="http://127.0.0.1:8188")
        self.pool = BackendPool(urls, max_per_backend=settings.max_concurrency or 1)
        self.model = settings.model
        self._settings = settings
        self._client = client
        self._poll_s = poll_interval_s
        self._wait_s = settings.timeout_s or client.timeout.read or DEFAULT_WAIT_S
        self._allow_private = base_is_local(settings.base_url)
        self._max_ws_message = max_response_bytes(settings)  # the same cap as for HTTP answers
        self._custom = load_workflow(settings.workflow, provider=self.name) if settings.workflow else None
        used = placeholders(self._custom) if self._custom is not None else {"negative", "seed", "image"}
        self._used = used
        self.capabilities = Capabilities(
            edit="image" in used,
            max_n=1,
            aspects=None,
            negative_prompt="negative" in used,
            seed="seed" in used,
            max_reference_images=1 if "image" in used else 0,
        )
        self._session: aiohttp.ClientSession | None = None
        self._running: dict[str, tuple[str, asyncio.Task[Mapping[str, Any]]]] = {}
        """prompt_id -> (backend, the task waiting for its result)."""

    # ------------------------------------------------------------------------------------ the protocol

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """One workflow run (the chain splits n); fails over between backends on Unavailable."""
        edit = is_edit(request, provider=self.name)
        if edit and not self.capabilities.edit:
            raise InvalidRequest(
                f"{self.name}: the configured workflow has no {{{{image}}}} placeholder",
                provider=self.name,
                user_message="This ComfyUI workflow cannot edit images.",
            )
        if not edit and self._custom is not None and "image" in self._used:
            raise InvalidRequest(
                f"{self.name}: the configured workflow needs an {{{{image}}}}",
                provider=self.name,
                user_message="This ComfyUI workflow edits images: send or reply to an image.",
            )
        seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
        images = await self.pool.call(lambda base: self._run(base, request, seed, on_progress, edit=edit))
        await on_progress(1.0, None)
        return images

    async def check(self) -> ProviderHealth:
        """GET ``/system_stats`` on every backend: ok when any answers."""

        async def probe(base: str) -> str:
            stats = await self._get_json(f"{base}/system_stats")
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
                info = await self._get_json(f"{base}/object_info/CheckpointLoaderSimple")
                return _checkpoints(info)
            except Unavailable as exc:
                last = exc
        assert last is not None
        raise last

    async def interrupt(self) -> None:
        """Stop this provider's runs: drop them from the queue, interrupt the one executing, and end
        their waits (a run deleted while pending would never report back)."""
        runs = list(self._running.items())
        await asyncio.gather(*(self._stop(base, prompt_id) for prompt_id, (base, _) in runs))
        for _, (_, waiter) in runs:
            waiter.cancel()

    async def aclose(self) -> None:
        """Close the websocket session this provider opened (the HTTP client belongs to the app)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------------------------ one backend

    async def _run(
        self, base: str, request: ImageRequest, seed: int, on_progress: ProgressCallback, *, edit: bool
    ) -> list[Image]:
        image_name = await self._upload(base, request.reference_images[0]) if edit else None
        workflow = self._workflow(request, seed, image_name, edit=edit)
        client_id = uuid.uuid4().hex
        ws = await self._open_ws(base, client_id)
        try:
            prompt_id = await self._queue(base, workflow, client_id)
            waiter = asyncio.create_task(self._result(ws, base, prompt_id, on_progress))
            self._running[prompt_id] = (base, waiter)
            try:
                async with asyncio.timeout(self._wait_s):
                    entry = await waiter
            except TimeoutError as exc:
                await self._stop(base, prompt_id)
                raise ProviderTimeout(
                    f"{self.name}: no result within {self._wait_s:.0f} s",
                    provider=self.name,
                    user_message="The image service took too long to answer.",
                ) from exc
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is None or task.cancelling():  # generate() itself was cancelled
                    await asyncio.shield(self._stop(base, prompt_id))  # free the GPU for the next job
                    raise
                raise InvalidRequest(  # interrupt() called off the wait
                    f"{self.name}: the run was interrupted", provider=self.name, user_message=CANCELLED_TEXT
                ) from None
            finally:
                self._running.pop(prompt_id, None)
                waiter.cancel()
        finally:
            if ws is not None:
                await ws.close()
        model = request.model or self.model or (DEFAULT_CHECKPOINT if self._custom is None else None)
        used_seed = seed if "seed" in self._used else None
        return [await self._view(base, ref, model, used_seed) for ref in output_images(entry)]

    def _workflow(self, request: ImageRequest, seed: int, image: str | None, *, edit: bool) -> Any:
        settings = self._settings
        model = request.model or self.model or DEFAULT_CHECKPOINT
        width, height = canvas_for(request.aspect, model, settings.options)
        default_denoise = EDIT_DENOISE if request.kind is GenerationKind.EDIT else VARY_DENOISE
        values: dict[str, str | int | float] = {
            "prompt": diffusion_prompt(request),
            "negative": request.negative or "",
            "seed": seed,
            "width": width,
            "height": height,
            "steps": settings.steps or DEFAULT_STEPS,
            "cfg": settings.cfg_scale if settings.cfg_scale is not None else DEFAULT_CFG,
            "sampler": settings.sampler or DEFAULT_SAMPLER,
            "denoise": settings.denoising_strength
            if settings.denoising_strength is not None
            else default_denoise,
            "model": model,
        }
        if image is not None:
            values["image"] = image
        template = self._custom if self._custom is not None else (IMG2IMG if edit else TXT2IMG)
        return fill(template, values)

    async def _upload(self, base: str, data: bytes) -> str:
        """POST /upload/image (multipart); the name to put in a LoadImage node."""
        mime = reference_mime(data, provider=self.name)
        filename = f"easel-{hashlib.sha256(data).hexdigest()[:20]}.{EXTENSIONS[mime]}"
        url = f"{base}/upload/image"
        with transport_errors(provider=self.name, url=url):
            response = await self._client.post(
                url, files={"image": (filename, data, mime)}, data={"type": "input", "overwrite": "true"}
            )
        raise_for_response(response, provider=self.name)
        answer = read_json(response, provider=self.name)
        name = answer.get("name") if isinstance(answer, dict) else None
        if not isinstance(name, str) or not name:
            raise Unavailable(f"{self.name}: upload answer has no name", provider=self.name)
        subfolder = answer.get("subfolder") or ""
        return f"{subfolder}/{name}" if isinstance(subfolder, str) and subfolder else name

    async def _queue(self, base: str, workflow: Any, client_id: str) -> str:
        body = {**self._extra_body(), "prompt": workflow, "client_id": client_id}
        url = f"{base}/prompt"
        with transport_errors(provider=self.name, url=url):
            response = await self._client.post(url, json=body)
        if response.status_code == 400:
            summary = describe_rejection(_json_or_none(response))
            raise InvalidRequest(
                f"{self.name}: HTTP 400: workflow rejected: {summary}",
                provider=self.name,
                user_message=f"ComfyUI rejected the workflow: {scrub(summary, limit=240)}",
            )
        raise_for_response(response, provider=self.name)
        answer = read_json(response, provider=self.name)
        prompt_id = answer.get("prompt_id") if isinstance(answer, dict) else None
        if not isinstance(prompt_id, str) or not prompt_id:
            raise Unavailable(f"{self.name}: /prompt answer has no prompt_id", provider=self.name)
        return prompt_id

    async def _open_ws(self, base: str, client_id: str) -> aiohttp.ClientWebSocketResponse | None:
        """The job's websocket, or None (then /history is polled) when it cannot be opened."""
        url = httpx.URL(base + "/ws").copy_with(scheme="wss" if base.startswith("https") else "ws")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=SIDE_CALL_TIMEOUT_S),
                headers={"User-Agent": USER_AGENT},
            )
        try:
            async with asyncio.timeout(SIDE_CALL_TIMEOUT_S):
                return await self._session.ws_connect(
                    str(url), params={"clientId": client_id}, max_msg_size=self._max_ws_message, autoping=True
                )
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
        if ws is not None:
            await follow(ws, prompt_id, on_progress, provider=self.name)
        return await self._poll_history(base, prompt_id)

    async def _poll_history(self, base: str, prompt_id: str) -> Mapping[str, Any]:
        """GET /history/{id} until the run is there; its failure raised as the matching error."""
        while True:
            history = await self._get_json(f"{base}/history/{prompt_id}")
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
            await asyncio.sleep(self._poll_s)

    async def _view(self, base: str, ref: Mapping[str, str], model: str | None, seed: int | None) -> Image:
        url = f"{base}/view?" + urlencode(ref)
        try:
            data, mime = await download(
                self._client, url, provider=self.name, allow_private=self._allow_private
            )
        except (Misconfigured, Unavailable) as exc:  # a 404/403 (the file is gone) or a dropped fetch
            raise Unavailable(
                f"{self.name}: output {ref.get('filename')} cannot be fetched: {exc}",
                provider=self.name,
                user_message="The image was made but could not be fetched from ComfyUI; please try again.",
            ) from exc
        return to_image(data, provider=self.name, model=model, seed=seed, mime=mime)

    async def _stop(self, base: str, prompt_id: str) -> None:
        """Best effort: delete the run from the queue; interrupt it when it is the one executing."""
        try:
            with transport_errors(provider=self.name):
                await self._client.post(
                    f"{base}/queue", json={"delete": [prompt_id]}, timeout=SIDE_CALL_TIMEOUT_S
                )
                queue = await self._client.get(f"{base}/queue", timeout=SIDE_CALL_TIMEOUT_S)
                running = _json_or_none(queue)
                items = running.get("queue_running") if isinstance(running, dict) else None
                ours = not isinstance(items, list) or any(
                    isinstance(item, list) and len(item) > 1 and item[1] == prompt_id for item in items
                )
                if ours:
                    await self._client.post(
                        f"{base}/interrupt", json={"prompt_id": prompt_id}, timeout=SIDE_CALL_TIMEOUT_S
                    )
        except (Unavailable, ProviderTimeout, Misconfigured) as exc:
            log.warning("comfyui: could not stop %s on %s: %s", prompt_id, base, exc)

    async def _get_json(self, url: str) -> Any:
        with transport_errors(provider=self.name, url=url):
            response = await self._client.get(url, timeout=SIDE_CALL_TIMEOUT_S)
        raise_for_response(response, provider=self.name)
        return read_json(response, provider=self.name)

    def _extra_body(self) -> dict[str, Any]:
        """``settings.options`` go into the /prompt body (``extra_data``, ``front``, ...), minus ours."""
        return {
            k: v for k, v in self._settings.options.items() if k not in ("long_side", "prompt", "client_id")
        }


# ------------------------------------------------------------------------------------------ helpers


def _checkpoints(info: Any) -> list[str]:
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


def _json_or_none(response: httpx.Response) -> Any:
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        return json.loads(response.content)
    return None


def create(settings: ComfyUISettings, *, client: httpx.AsyncClient) -> ComfyUIProvider:
    """The registry's entry point: build the provider on the client the app made for it."""
    return ComfyUIProvider(settings, client=client)
