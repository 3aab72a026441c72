"""A loopback fake of a ComfyUI server (aiohttp.web on 127.0.0.1): queue, websocket, history, files.

Routes: ``POST /prompt`` (validates the API-format workflow like ComfyUI: known node classes, required
inputs, value types and ranges, links and their types, checkpoint and uploaded-image names, an output
node; 400 ``{"error", "node_errors"}`` otherwise), ``GET /ws?clientId=`` (status on connect, then
``execution_start``, ``executing``, ``progress``, binary previews, ``executed``, ``execution_success``,
``executing{node: null}``), ``GET /history/{id}``, ``GET|POST /queue``, ``POST /interrupt``,
``POST /upload/image`` (multipart), ``GET /view``, ``GET /system_stats``, ``GET /object_info/{class}``::

    async with FakeComfyUI(step_s=0.01) as fake:
        fake.fail_next(500)            # also malformed_next(), error_next(type, message), empty_next()
        fake.websocket = False         # /ws answers 404: clients must poll /history
        fake.expire_outputs = True     # /view answers 404 for finished files
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import os
import struct
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from PIL import Image as PILImage

from tests.fakes.providers.comfyui_nodes import CHECKPOINTS, OUTPUT_NODES, reason, validate

TICKS = 4


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None


@dataclass(eq=False)
class Job:
    prompt_id: str
    number: int
    prompt: dict[str, Any]
    client_id: str | None
    interrupted: bool = False
    error: tuple[str, str] | None = None
    empty: bool = False
    messages: list[list[Any]] = field(default_factory=list)


def make_png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


class FakeComfyUI:
    """The fake server; ``base_url`` is its root (``http://127.0.0.1:<port>``)."""

    def __init__(
        self, *, step_s: float = 0.0, checkpoints: tuple[str, ...] = CHECKPOINTS, host: str = "127.0.0.1"
    ) -> None:
        self.step_s = step_s
        self.checkpoints = checkpoints
        self.websocket = True
        self.expire_outputs = False
        self.history_delay_s = 0.0
        """How long after ``executing{node: null}`` the run appears in /history (a real race)."""
        self.requests: list[Recorded] = []
        self.prompts: list[dict[str, Any]] = []
        """Accepted /prompt bodies."""
        self.prompt_ids: list[str] = []
        self.uploads: dict[str, bytes] = {}
        self.files: dict[tuple[str, str, str], bytes] = {}
        self.served: list[bytes] = []
        """Output images written by SaveImage, in order."""
        self.history: dict[str, dict[str, Any]] = {}
        self.interrupts = 0
        self.deleted: list[str] = []
        self.faults: list[tuple[str, Any]] = []
        self.sockets: dict[str, web.WebSocketResponse] = {}
        self._host = host
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._pending: list[Job] = []
        self._current: Job | None = None
        self._worker: asyncio.Task[None] | None = None
        self._numbers = itertools.count()
        self._outputs = itertools.count(1)

    # ------------------------------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def __aenter__(self) -> FakeComfyUI:
        app = web.Application(middlewares=[self._record])
        app.router.add_post("/prompt", self._prompt)
        app.router.add_get("/ws", self._ws)
        app.router.add_get("/history/{prompt_id}", self._history)
        app.router.add_get("/queue", self._get_queue)
        app.router.add_post("/queue", self._post_queue)
        app.router.add_post("/interrupt", self._interrupt)
        app.router.add_post("/upload/image", self._upload)
        app.router.add_get("/view", self._view)
        app.router.add_get("/system_stats", self._system_stats)
        app.router.add_get("/object_info/{node_class}", self._object_info)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, 0).start()
        self._port = self._runner.addresses[0][1]
        self._worker = asyncio.create_task(self._work())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        for ws in list(self.sockets.values()):
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
        """The next run fails in the KSampler with ``execution_error``."""
        self.faults.append(("error", (exception_type, message)))

    def empty_next(self) -> None:
        """The next run succeeds without writing any image."""
        self.faults.append(("empty", None))

    # ------------------------------------------------------------------------------------------- HTTP

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = None
        if request.content_type == "application/json" and request.can_read_body:
            with contextlib.suppress(ValueError):
                body = json.loads(await request.read())
        self.requests.append(
            Recorded(
                request.method,
                request.path,
                dict(request.query),
                {k.lower(): v for k, v in request.headers.items()},
                body,
            )
        )
        origin = request.headers.get("Origin")
        if origin is not None and origin.split("://", 1)[-1] != request.headers.get("Host"):
            return web.Response(status=403)
        handled: web.StreamResponse = await handler(request)
        return handled

    async def _prompt(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.Response(status=500, text="500 Internal Server Error\n\nServer got itself in trouble")
        if self.faults and self.faults[0][0] in ("status", "malformed"):
            kind, arg = self.faults.pop(0)
            if kind == "malformed":
                return web.Response(text="<html>proxy error</html>", content_type="text/html")
            status, retry_after = arg
            headers = {"Retry-After": retry_after} if retry_after else {}
            return web.Response(
                status=status, text=f"{status}: Server got itself in trouble", headers=headers
            )
        if not isinstance(body, dict) or "prompt" not in body:
            error = reason("no_prompt", "No prompt provided", "No prompt provided")
            return web.json_response({"error": error, "node_errors": []}, status=400)
        prompt = body["prompt"]
        invalid = validate(prompt, checkpoints=self.checkpoints, uploads=self.uploads)
        if invalid is not None:
            return web.json_response(invalid, status=400)
        job = Job(str(uuid.uuid4()), next(self._numbers), prompt, body.get("client_id"))
        if self.faults and self.faults[0][0] in ("error", "empty"):
            kind, arg = self.faults.pop(0)
            job.error, job.empty = (arg, False) if kind == "error" else (None, True)
        self.prompts.append(body)
        self.prompt_ids.append(job.prompt_id)
        self._pending.append(job)
        await self._queue.put(job)
        return web.json_response({"prompt_id": job.prompt_id, "number": job.number, "node_errors": {}})

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if not self.websocket:
            return web.Response(status=404, text="404: Not Found")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sid = request.query.get("clientId") or uuid.uuid4().hex
        self.sockets[sid] = ws
        try:
            queue_remaining = len(self._pending) + (1 if self._current else 0)
            await ws.send_json(
                {
                    "type": "status",
                    "data": {"status": {"exec_info": {"queue_remaining": queue_remaining}}, "sid": sid},
                }
            )
            async for message in ws:
                if message.type is WSMsgType.ERROR:
                    break
        finally:
            if self.sockets.get(sid) is ws:
                del self.sockets[sid]
        return ws

    async def _history(self, request: web.Request) -> web.Response:
        prompt_id = request.match_info["prompt_id"]
        entry = self.history.get(prompt_id)
        return web.json_response({prompt_id: entry} if entry is not None else {})

    async def _get_queue(self, request: web.Request) -> web.Response:
        def item(job: Job) -> list[Any]:
            return [job.number, job.prompt_id, job.prompt, {"client_id": job.client_id}, ["9"]]

        running = [item(self._current)] if self._current else []
        return web.json_response(
            {"queue_running": running, "queue_pending": [item(j) for j in self._pending]}
        )

    async def _post_queue(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        for prompt_id in body.get("delete", []):
            self.deleted.append(prompt_id)
            self._pending = [job for job in self._pending if job.prompt_id != prompt_id]
        return web.Response(status=200)

    async def _interrupt(self, request: web.Request) -> web.Response:
        self.interrupts += 1
        if self._current is not None:
            self._current.interrupted = True
        return web.Response(status=200)

    async def _upload(self, request: web.Request) -> web.Response:
        if not request.content_type.startswith("multipart/form-data"):
            return web.Response(status=400)
        post = await request.post()
        image = post.get("image")
        if not isinstance(image, web.FileField) or not image.filename:
            return web.Response(status=400)
        upload_type = str(post.get("type") or "input")
        subfolder = str(post.get("subfolder") or "")
        name = os.path.basename(image.filename)
        data = image.file.read()
        overwrite = str(post.get("overwrite") or "") in ("true", "1")
        key = f"{subfolder}/{name}" if subfolder else name
        stem, ext = os.path.splitext(name)
        counter = 1
        while not overwrite and key in self.uploads and self.uploads[key] != data:
            name = f"{stem} ({counter}){ext}"
            key = f"{subfolder}/{name}" if subfolder else name
            counter += 1
        self.uploads[key] = data
        return web.json_response({"name": name, "subfolder": subfolder, "type": upload_type})

    async def _view(self, request: web.Request) -> web.Response:
        filename = request.query.get("filename", "")
        if not filename:
            return web.Response(status=404)
        if filename.startswith("/") or ".." in filename:
            return web.Response(status=400)
        subfolder = request.query.get("subfolder", "")
        if ".." in subfolder or subfolder.startswith("/"):
            return web.Response(status=403)
        data = self.files.get((request.query.get("type", "output"), subfolder, filename))
        if data is None or self.expire_outputs:
            return web.Response(status=404)
        return web.Response(
            body=data, content_type="image/png", headers={"Content-Disposition": f'filename="{filename}"'}
        )

    async def _system_stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "system": {
                    "os": "posix",
                    "ram_total": 64 << 30,
                    "ram_free": 32 << 30,
                    "comfyui_version": "0.3.40",
                    "python_version": "3.11",
                    "pytorch_version": "2.7.0",
                    "embedded_python": False,
                    "argv": ["main.py"],
                },
                "devices": [
                    {
                        "name": "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync",
                        "type": "cuda",
                        "index": 0,
                        "vram_total": 24 << 30,
                        "vram_free": 20 << 30,
                        "torch_vram_total": 0,
                        "torch_vram_free": 0,
                    }
                ],
            }
        )

    async def _object_info(self, request: web.Request) -> web.Response:
        node_class = request.match_info["node_class"]
        if node_class != "CheckpointLoaderSimple":
            return web.json_response({})
        info = {
            "input": {
                "required": {
                    "ckpt_name": [
                        list(self.checkpoints),
                        {"tooltip": "The name of the checkpoint (model) to load."},
                    ]
                }
            },
            "input_order": {"required": ["ckpt_name"]},
            "output": ["MODEL", "CLIP", "VAE"],
            "output_is_list": [False, False, False],
            "output_name": ["MODEL", "CLIP", "VAE"],
            "name": node_class,
            "display_name": "Load Checkpoint",
            "description": "",
            "category": "loaders",
            "output_node": False,
        }
        return web.json_response({node_class: info})

    # ------------------------------------------------------------------------------------- execution

    async def _send(self, job: Job, kind: str, data: dict[str, Any]) -> None:
        data = {**data, "prompt_id": job.prompt_id}
        if kind.startswith("execution_") or kind == "executed":
            job.messages.append([kind, {**data, "timestamp": int(time.time() * 1000)}])
        ws = self.sockets.get(job.client_id or "")
        if ws is not None and not ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json({"type": kind, "data": data})

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            if job not in self._pending:
                continue  # deleted from the queue
            self._pending.remove(job)
            self._current = job
            try:
                await self._execute(job)
            finally:
                self._current = None

    async def _execute(self, job: Job) -> None:
        prompt = job.prompt
        await self._send(job, "execution_start", {})
        await self._send(job, "execution_cached", {"nodes": []})
        outputs: dict[str, Any] = {}
        failed = False
        for node_id in _order(prompt):
            node = prompt[node_id]
            await self._send(job, "executing", {"node": node_id, "display_node": node_id})
            if node["class_type"] == "KSampler":
                failed = await self._sample(job, node_id)
                if failed:
                    break
            elif node["class_type"] in OUTPUT_NODES and not job.empty:
                images = self._save(job, prompt, node)
                outputs[node_id] = {"images": images}
                await self._send(
                    job, "executed", {"node": node_id, "display_node": node_id, "output": {"images": images}}
                )
        if not failed:
            await self._send(job, "execution_success", {})
            await self._send(job, "executing", {"node": None})
        if self.history_delay_s:
            await asyncio.sleep(self.history_delay_s)
        self.history[job.prompt_id] = {
            "prompt": [job.number, job.prompt_id, prompt, {"client_id": job.client_id}, list(outputs)],
            "outputs": outputs,
            "status": {
                "status_str": "error" if failed else "success",
                "completed": not failed,
                "messages": job.messages,
            },
            "meta": {
                nid: {"node_id": nid, "display_node": nid, "parent_node": None, "real_node_id": nid}
                for nid in outputs
            },
        }

    async def _sample(self, job: Job, node_id: str) -> bool:
        """The KSampler's steps with progress and previews; True when the run failed or was stopped."""
        for tick in range(1, TICKS + 1):
            await asyncio.sleep(self.step_s)
            if job.interrupted:
                await self._send(
                    job,
                    "execution_interrupted",
                    {"node_id": node_id, "node_type": "KSampler", "executed": []},
                )
                return True
            if job.error is not None and tick == 2:
                exc_type, message = job.error
                await self._send(
                    job,
                    "execution_error",
                    {
                        "node_id": node_id,
                        "node_type": "KSampler",
                        "executed": [],
                        "exception_message": message,
                        "exception_type": exc_type,
                        "traceback": ["Traceback (most recent call last):\n"],
                        "current_inputs": {},
                        "current_outputs": {},
                    },
                )
                return True
            await self._send(job, "progress", {"value": tick, "max": TICKS, "node": node_id})
            ws = self.sockets.get(job.client_id or "")
            if ws is not None and not ws.closed:
                preview = io.BytesIO()
                PILImage.new("RGB", (8, 8), (tick * 50, 0, 0)).save(preview, format="JPEG")
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.send_bytes(struct.pack(">II", 1, 1) + preview.getvalue())
        return False

    def _save(self, job: Job, prompt: dict[str, Any], node: dict[str, Any]) -> list[dict[str, str]]:
        width, height, seed = _canvas(prompt, self.uploads)
        data = make_png(width, height, (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256))
        kind = "output" if node["class_type"] == "SaveImage" else "temp"
        prefix = str(node["inputs"].get("filename_prefix", "ComfyUI")) if kind == "output" else "ComfyUI_temp"
        filename = f"{prefix}_{next(self._outputs):05d}_.png"
        self.files[(kind, "", filename)] = data
        if kind == "output":
            self.served.append(data)
        return [{"filename": filename, "subfolder": "", "type": kind}]


def _order(prompt: dict[str, Any]) -> list[str]:
    """Node ids with every node after the nodes it links from."""
    done: list[str] = []

    def visit(node_id: str) -> None:
        if node_id in done:
            return
        for value in prompt[node_id].get("inputs", {}).values():
            if isinstance(value, list) and len(value) == 2 and str(value[0]) in prompt:
                visit(str(value[0]))
        done.append(node_id)

    for node_id in prompt:
        visit(node_id)
    return done


def _canvas(prompt: dict[str, Any], uploads: dict[str, bytes]) -> tuple[int, int, int]:
    width, height, seed = 512, 512, 0
    for node in prompt.values():
        inputs = node.get("inputs", {})
        if node["class_type"] == "EmptyLatentImage":
            width, height = int(inputs["width"]), int(inputs["height"])
        elif node["class_type"] == "LoadImage" and inputs.get("image") in uploads:
            with PILImage.open(io.BytesIO(uploads[inputs["image"]])) as image:
                width, height = image.size
        elif node["class_type"] == "KSampler":
            seed = int(inputs["seed"])
    return width, height, seed
