"""A loopback fake of a ComfyUI 0.3.64 server (aiohttp.web on 127.0.0.1), after upstream's ``server.py``.

Every route is also served under ``/api/``: ``POST /prompt`` (client-chosen ``prompt_id``, ``number``,
``front``; validation per output as ``comfyui_nodes``: 200 with ``node_errors`` for dropped outputs,
400 when none is left; a body that is not a JSON object, or a prompt that is not one, is 500 text/plain
as an unhandled exception is), ``GET /prompt`` (queue info), ``GET /ws?clientId=`` (``status`` on
connect; a first ``feature_flags`` message is answered with the server's), ``GET /history[/{id}]``,
``POST /history`` (clear/delete), ``GET|POST /queue`` (``clear``, ``delete``), ``POST /interrupt``
(with ``prompt_id``: only when that prompt runs), ``POST /free``, ``POST /upload/image`` (multipart,
100 MiB body limit as ``--max-upload-size``), ``GET /view``, ``GET /system_stats``, ``GET /features``,
``GET /object_info[/{class}]``. What runs and which events are sent: ``comfyui_exec``::

    async with FakeComfyUI(step_s=0.01) as fake:
        fake.fail_next(500)            # also malformed_next(), error_next(type, message), empty_next()
        fake.websocket = False         # /ws answers 404: clients must poll /history
        fake.expire_outputs = True     # /view answers 404 for finished files (delete_outputs(): once)
        fake.freeze()                  # as SIGSTOP: nothing is read or answered until thaw()
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web
from PIL import Image as PILImage

from tests.fakes.providers.comfyui_exec import Executor, Job
from tests.fakes.providers.comfyui_files import SYSTEM_STATS, upload, view
from tests.fakes.providers.comfyui_nodes import (
    CHECKPOINTS,
    NODES,
    UPSCALE_MODELS,
    object_info,
    reason,
    validate,
)

MAX_UPLOAD_MB = 100
CRASH = "500 Internal Server Error\n\nServer got itself in trouble"


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None


def make_png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


class FakeComfyUI:
    """The fake server; ``base_url`` is its root (``http://127.0.0.1:<port>``)."""

    def __init__(
        self,
        *,
        step_s: float = 0.0,
        checkpoints: tuple[str, ...] = CHECKPOINTS,
        host: str = "127.0.0.1",
        max_upload_mb: float = MAX_UPLOAD_MB,
    ) -> None:
        self.step_s = step_s
        self.checkpoints = checkpoints
        """What ``models/checkpoints`` holds (may be empty: a model-free server)."""
        self.upscale_models = dict(UPSCALE_MODELS)
        """What ``models/upscale_models`` holds: file name -> the model's fixed scale."""
        self.websocket = True
        self.expire_outputs = False
        self.history_delay_s = 0.0
        self.prompt_answer_delay_s = 0.0
        """How long a queued /prompt waits before it is answered (a slow link or proxy)."""
        """Between ``execution_success`` and the history entry (upstream: ~1 s of clean-up)."""
        self.output_padding = 0
        """Bytes added to every saved PNG (to make outputs over a client's size cap)."""
        self.max_upload_mb = max_upload_mb
        self.preview_metadata = True
        """False: an older server that ignores ``feature_flags`` (legacy previews only)."""
        self.ignore_free = False
        """True: POST /free answers 200 but the cache stays (to test a client's last resort)."""
        self.requests: list[Recorded] = []
        self.prompts: list[dict[str, Any]] = []
        """Accepted /prompt bodies."""
        self.prompt_ids: list[str] = []
        self.uploads: dict[str, bytes] = {}
        self.files: dict[tuple[str, str, str], bytes] = {}
        self.served: list[bytes] = []
        """Output images written by SaveImage, in order."""
        self.interrupts = 0
        """Interrupts that stopped a running prompt."""
        self.deleted: list[str] = []
        """Ids asked to be deleted from the queue (POST /queue {"delete"})."""
        self.frees: list[dict[str, Any]] = []
        self.faults: list[tuple[str, Any]] = []
        self.sockets: dict[str, web.WebSocketResponse] = {}
        self.features: dict[str, dict[str, Any]] = {}
        """Each socket's feature flags, as it sent them."""
        self.thawed = asyncio.Event()
        self.thawed.set()
        self.executor = Executor(self)
        self._number = 0
        self._host = host
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._worker: asyncio.Task[None] | None = None
        self._transports: list[asyncio.BaseTransport] = []

    # ------------------------------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def history(self) -> dict[str, dict[str, Any]]:
        return self.executor.history

    async def __aenter__(self) -> FakeComfyUI:
        app = web.Application(
            middlewares=[self._record], client_max_size=round(self.max_upload_mb * 1024 * 1024)
        )
        routes = [
            ("POST", "/prompt", self._post_prompt),
            ("GET", "/prompt", self._get_prompt),
            ("GET", "/ws", self._ws),
            ("GET", "/history", self._get_history),
            ("GET", "/history/{prompt_id}", self._history_of),
            ("POST", "/history", self._post_history),
            ("GET", "/queue", self._get_queue),
            ("POST", "/queue", self._post_queue),
            ("POST", "/interrupt", self._interrupt),
            ("POST", "/free", self._free),
            ("POST", "/upload/image", self._upload),
            ("GET", "/view", self._view),
            ("GET", "/system_stats", self._system_stats),
            ("GET", "/features", self._features),
            ("GET", "/object_info", self._object_info_all),
            ("GET", "/object_info/{node_class}", self._object_info),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, "/api" + path, handler)
            app.router.add_route(method, path, handler)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, 0).start()
        self._port = self._runner.addresses[0][1]
        self._worker = asyncio.create_task(self.executor.work())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.thaw()
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        for ws in list(self.sockets.values()):
            with contextlib.suppress(Exception):
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -------------------------------------------------------------------------------------- scripting

    def fail_next(self, status: int = 500, *, retry_after: str | None = None) -> None:
        """The next /prompt gets ``status`` (aiohttp's plain-text error page, as ComfyUI crashes give)."""
        self.faults.append(("status", (status, retry_after)))

    def malformed_next(self) -> None:
        self.faults.append(("malformed", None))

    def error_next(self, exception_type: str = "RuntimeError", message: str = "boom") -> None:
        """The next run fails in its first stepping node (KSampler, EaselSteps) with ``execution_error``."""
        self.faults.append(("error", (exception_type, message)))

    def empty_next(self) -> None:
        """The next run succeeds without writing any image."""
        self.faults.append(("empty", None))

    def delete_outputs(self) -> None:
        """Someone empties the output folder (the cache still names the old files)."""
        self.files = {key: data for key, data in self.files.items() if key[0] != "output"}

    def freeze(self) -> None:
        """As SIGSTOP: open connections are not read (no pongs), requests and the run hang."""
        self.thawed.clear()
        for transport in self._transports:
            with contextlib.suppress(Exception):
                transport.pause_reading()  # type: ignore[attr-defined]

    def thaw(self) -> None:
        for transport in self._transports:
            with contextlib.suppress(Exception):
                transport.resume_reading()  # type: ignore[attr-defined]
        self.thawed.set()

    async def queue_prompt(self, prompt: dict[str, Any], *, client_id: str | None = None) -> str:
        """Another client queues ``prompt`` (without a client id unless given): its prompt_id."""
        body: dict[str, Any] = {"prompt": prompt}
        if client_id is not None:
            body["client_id"] = client_id
        answer = self._accept(body)
        assert answer.status == 200, answer.text
        return str(json.loads(answer.text or "{}")["prompt_id"])

    # ----------------------------------------------------------------------------------- the socket

    def supports_metadata(self, sid: str | None) -> bool:
        return sid is not None and self.features.get(sid, {}).get("supports_preview_metadata") is True

    def status_changed(self) -> None:
        info = {"status": {"exec_info": {"queue_remaining": self.executor.remaining()}}}
        asyncio.get_running_loop().create_task(self.send("status", info, None))

    async def send(self, kind: str, data: dict[str, Any], sid: str | None) -> None:
        """To ``sid``'s socket, or to every socket when ``sid`` is None (upstream's ``send_json``)."""
        await self.thawed.wait()
        for ws in self._targets(sid):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json({"type": kind, "data": data})

    async def send_bytes(self, frame: bytes, sid: str | None) -> None:
        await self.thawed.wait()
        for ws in self._targets(sid):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_bytes(frame)

    def _targets(self, sid: str | None) -> list[web.WebSocketResponse]:
        sockets = (
            list(self.sockets.values()) if sid is None else [self.sockets[sid]] if sid in self.sockets else []
        )
        return [ws for ws in sockets if not ws.closed]

    def encode_output(self, width: int, height: int, colour: tuple[int, int, int]) -> bytes:
        return make_png(width, height, colour) + b"\0" * self.output_padding

    # ------------------------------------------------------------------------------------------- HTTP

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.transport is not None and request.transport not in self._transports:
            self._transports.append(request.transport)
        await self.thawed.wait()
        body: Any = None
        if request.content_type == "application/json" and request.can_read_body:
            with contextlib.suppress(ValueError):
                body = json.loads(await request.read())
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(Recorded(request.method, request.path, dict(request.query), headers, body))
        origin = request.headers.get("Origin")
        if origin is not None and origin.split("://", 1)[-1] != request.headers.get("Host"):
            return web.Response(status=403)
        handled: web.StreamResponse = await handler(request)
        return handled

    async def _post_prompt(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.Response(status=500, text=CRASH)
        if self.faults and self.faults[0][0] in ("status", "malformed"):
            kind, arg = self.faults.pop(0)
            if kind == "malformed":
                return web.Response(text="<html>proxy error</html>", content_type="text/html")
            status, retry_after = arg
            headers = {"Retry-After": retry_after} if retry_after else {}
            return web.Response(
                status=status, text=f"{status}: Server got itself in trouble", headers=headers
            )
        answer = self._accept(body)
        if self.prompt_answer_delay_s:  # queued already; the answer is late
            await asyncio.sleep(self.prompt_answer_delay_s)
        return answer

    def _accept(self, body: Any) -> web.Response:
        if not isinstance(body, dict):
            return web.Response(status=500, text=CRASH)  # upstream: json_data.get(...) raises
        if "number" in body:
            number = float(body["number"])
        else:
            number = -self._number if body.get("front") else self._number
            self._number += 1
        if "prompt" not in body:
            error = reason("no_prompt", "No prompt provided", "No prompt provided")
            return web.json_response({"error": error, "node_errors": {}}, status=400)
        prompt = body["prompt"]
        if not isinstance(prompt, dict):
            return web.Response(status=500, text=CRASH)  # upstream: prompt[x] on a non-object raises
        prompt_id = str(body.get("prompt_id") or uuid.uuid4())
        targets = body.get("partial_execution_targets")
        valid, error, outputs, node_errors = validate(
            prompt,
            checkpoints=self.checkpoints,
            uploads=self.uploads,
            targets=targets,
            upscalers=tuple(self.upscale_models),
        )
        if not valid:
            return web.json_response({"error": error, "node_errors": node_errors}, status=400)
        extra = dict(body.get("extra_data") or {})
        if "client_id" in body:
            extra["client_id"] = body["client_id"]
        job = Job(number, prompt_id, prompt, extra, outputs)
        if self.faults and self.faults[0][0] in ("error", "empty"):
            kind, arg = self.faults.pop(0)
            job.error, job.empty = (arg, False) if kind == "error" else (None, True)
        self.prompts.append(body)
        self.prompt_ids.append(prompt_id)
        self.executor.put(job)
        return web.json_response({"prompt_id": prompt_id, "number": number, "node_errors": node_errors})

    async def _get_prompt(self, request: web.Request) -> web.Response:
        return web.json_response({"exec_info": {"queue_remaining": self.executor.remaining()}})

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if not self.websocket:
            return web.Response(status=404, text="404: Not Found")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sid = request.query.get("clientId") or uuid.uuid4().hex
        self.sockets[sid] = ws
        self.features[sid] = {}
        try:
            info = {"exec_info": {"queue_remaining": self.executor.remaining()}}
            await ws.send_json({"type": "status", "data": {"status": info, "sid": sid}})
            running = self.executor.running
            if running is not None and running.client_id == sid and self.executor.last_node is not None:
                await ws.send_json({"type": "executing", "data": {"node": self.executor.last_node}})
            first = True
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    with contextlib.suppress(ValueError, AttributeError):
                        data = json.loads(message.data)
                        if first and data.get("type") == "feature_flags" and self.preview_metadata:
                            self.features[sid] = dict(data.get("data") or {})
                            await ws.send_json({"type": "feature_flags", "data": self._server_features()})
                    first = False
        finally:
            if self.sockets.get(sid) is ws:
                del self.sockets[sid]
                self.features.pop(sid, None)
        return ws

    async def _get_history(self, request: web.Request) -> web.Response:
        max_items = int(request.query["max_items"]) if "max_items" in request.query else None
        offset = int(request.query.get("offset", -1))
        items = list(self.history.items())
        if offset < 0 and max_items is not None:
            offset = len(items) - max_items
        items = items[max(offset, 0) :]
        return web.json_response(dict(items[:max_items] if max_items is not None else items))

    async def _history_of(self, request: web.Request) -> web.Response:
        prompt_id = request.match_info["prompt_id"]
        entry = self.history.get(prompt_id)
        return web.json_response({prompt_id: entry} if entry is not None else {})

    async def _post_history(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clear"):
            self.history.clear()
        for prompt_id in body.get("delete", []):
            self.history.pop(prompt_id, None)
        return web.Response(status=200)

    async def _get_queue(self, request: web.Request) -> web.Response:
        running = [self.executor.running.item()] if self.executor.running else []
        pending = [job.item() for job in self.executor.queue]
        return web.json_response({"queue_running": running, "queue_pending": pending})

    async def _post_queue(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clear"):
            self.executor.wipe()
        for prompt_id in body.get("delete", []):
            self.deleted.append(prompt_id)
            self.executor.delete(prompt_id)
        return web.Response(status=200)

    async def _interrupt(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        running = self.executor.running
        wanted = body.get("prompt_id") if isinstance(body, dict) else None
        if running is not None and (not wanted or running.prompt_id == wanted):
            self.executor.interrupted = True
            self.interrupts += 1
        return web.Response(status=200)

    async def _free(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.frees.append(body)
        for flag in () if self.ignore_free else ("unload_models", "free_memory"):
            if body.get(flag):
                self.executor.set_flag(flag, body[flag])
        return web.Response(status=200)

    async def _upload(self, request: web.Request) -> web.Response:
        return await upload(self, request)

    async def _view(self, request: web.Request) -> web.Response:
        return view(self, request)

    async def _system_stats(self, request: web.Request) -> web.Response:
        return web.json_response(SYSTEM_STATS)

    def _server_features(self) -> dict[str, Any]:
        return {"supports_preview_metadata": True, "max_upload_size": round(self.max_upload_mb * 1024 * 1024)}

    async def _features(self, request: web.Request) -> web.Response:
        return web.json_response(self._server_features())

    async def _object_info_all(self, request: web.Request) -> web.Response:
        models = tuple(self.upscale_models)
        return web.json_response({name: object_info(name, self.checkpoints, models) for name in NODES})

    async def _object_info(self, request: web.Request) -> web.Response:
        node_class = request.match_info["node_class"]
        if node_class not in NODES:
            return web.json_response({})
        info = object_info(node_class, self.checkpoints, tuple(self.upscale_models))
        return web.json_response({node_class: info})
