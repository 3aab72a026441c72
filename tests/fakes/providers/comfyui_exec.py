"""The ComfyUI fake's executor, after ComfyUI 0.3.64's ``main.py`` (``prompt_worker``), ``execution.py``
(``PromptExecutor``, ``PromptQueue``), ``comfy_execution/caching.py`` and ``comfy_execution/progress.py``.

One prompt runs at a time, lowest ``number`` first. What a client sees, as upstream:

- Events go to the socket of the run's ``client_id``; a run queued without one sends ``progress``,
  ``progress_state``, legacy previews and ``execution_interrupted`` to **every** socket (and no
  ``execution_start`` / ``executing`` / ``executed`` / ``execution_success`` / ``execution_error``).
- Nodes whose input signature was in the previous run are cached: no ``executing`` for them, their
  ``executed`` repeats the old output, and the history lists the old file names (``POST /free
  {"free_memory": true}`` empties the cache after the current run). ``execution_cached`` lists them.
- ``executing`` is sent only for nodes that run; a stepping node (KSampler, EaselSteps) sends
  ``progress_state`` and ``progress`` per step and a preview: binary type 4 (metadata with
  ``prompt_id``) when the run's client said ``supports_preview_metadata``, else legacy type 1 (no id).
- The end: ``execution_success`` first, then (``history_delay_s`` later) the history entry is written
  and ``status`` broadcast, then ``executing {node: null, prompt_id}`` to the run's client.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import struct
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PIL import Image as PILImage

from tests.fakes.providers.comfyui_nodes import STEPPING, ancestors, is_link

if TYPE_CHECKING:
    from tests.fakes.providers.comfyui import FakeComfyUI

TICKS = 4
"""Steps a KSampler reports (its ``steps`` input is ignored: the fake does not sample)."""
PREVIEW_IMAGE, PREVIEW_IMAGE_WITH_METADATA = 1, 4


@dataclass(eq=False)
class Job:
    number: float
    prompt_id: str
    prompt: dict[str, Any]
    extra_data: dict[str, Any]
    outputs: list[str]
    error: tuple[str, str] | None = None
    empty: bool = False
    messages: list[list[Any]] = field(default_factory=list)

    @property
    def client_id(self) -> str | None:
        value = self.extra_data.get("client_id")
        return str(value) if value is not None else None

    def item(self) -> list[Any]:
        """The queue / history tuple: ``[number, prompt_id, prompt, extra_data, outputs_to_execute]``."""
        return [self.number, self.prompt_id, self.prompt, self.extra_data, self.outputs]


@dataclass(frozen=True)
class Pic:
    """What flows on an IMAGE or LATENT link: a size and one colour per image of the batch."""

    width: int
    height: int
    colours: tuple[tuple[int, int, int], ...]


class Interrupted(Exception):
    pass


class NodeFailed(Exception):
    pass


class Executor:
    def __init__(self, server: FakeComfyUI) -> None:
        self.server = server
        self.queue: list[Job] = []
        self.running: Job | None = None
        self.history: dict[str, dict[str, Any]] = {}
        self.cache: dict[str, tuple[Any, dict[str, Any] | None]] = {}
        self.flags: dict[str, Any] = {}
        self.interrupted = False
        self.last_node: str | None = None
        self.wake = asyncio.Event()
        self._counters: dict[tuple[str, str], int] = {}

    # ------------------------------------------------------------------------------------- the queue

    def put(self, job: Job) -> None:
        self.queue.append(job)
        self.server.status_changed()
        self.wake.set()

    def remaining(self) -> int:
        return len(self.queue) + (1 if self.running else 0)

    def delete(self, prompt_id: str) -> None:
        self.queue = [job for job in self.queue if job.prompt_id != prompt_id]
        self.server.status_changed()

    def wipe(self) -> None:
        self.queue = []
        self.server.status_changed()

    def set_flag(self, name: str, value: Any) -> None:
        self.flags[name] = value
        self.wake.set()

    async def work(self) -> None:
        while True:
            if not self.queue:
                self.wake.clear()
                await self.wake.wait()
            if self.queue:
                job = min(self.queue, key=lambda j: (j.number, j.prompt_id))
                self.queue.remove(job)
                self.running = job
                self.server.status_changed()
                try:
                    await self._execute(job)
                finally:
                    self.running = None
            if self.flags.pop("free_memory", False):
                self.cache.clear()
            self.flags.clear()

    # ------------------------------------------------------------------------------------- one run

    async def _message(self, job: Job, kind: str, data: dict[str, Any], *, broadcast: bool) -> None:
        data = {**data, "timestamp": int(time.time() * 1000)}
        job.messages.append([kind, data])
        if job.client_id is not None or broadcast:
            await self.server.send(kind, data, job.client_id)

    async def _execute(self, job: Job) -> None:
        self.interrupted = False
        sid, pid, prompt = job.client_id, job.prompt_id, job.prompt
        await self._message(job, "execution_start", {"prompt_id": pid}, broadcast=False)
        signatures = {nid: _signature(prompt, nid, self.server.uploads) for nid in prompt}
        self.cache = {key: value for key, value in self.cache.items() if key in signatures.values()}
        cached = [nid for nid in prompt if signatures[nid] in self.cache]
        await self._message(job, "execution_cached", {"nodes": cached, "prompt_id": pid}, broadcast=False)
        order = list(dict.fromkeys(nid for output in job.outputs for nid in ancestors(prompt, output)))
        values: dict[str, Any] = {}
        ui: dict[str, dict[str, Any]] = {}
        states: dict[str, dict[str, Any]] = {}
        executed: list[str] = []
        success = True
        for nid in order:
            if signatures[nid] in self.cache:
                values[nid], output = self.cache[signatures[nid]]
                if output is not None:
                    ui[nid] = output
                if sid is not None:
                    await self.server.send("executed", _executed(nid, output, pid), sid)
                await self._progress_state(job, states, nid, "finished", 1, 1)
                continue
            await self._progress_state(job, states, nid, "running", 0, 1)
            if sid is not None:
                self.last_node = nid
                await self.server.send("executing", {"node": nid, "display_node": nid, "prompt_id": pid}, sid)
            try:
                if self.interrupted:
                    raise Interrupted
                values[nid], output = await self._run(job, nid, values, states)
            except Interrupted:
                data = {
                    "prompt_id": pid,
                    "node_id": nid,
                    "node_type": prompt[nid]["class_type"],
                    "executed": executed,
                }
                await self._message(job, "execution_interrupted", data, broadcast=True)
                success = False
                break
            except NodeFailed as exc:
                exc_type, text = exc.args
                data = {
                    "prompt_id": pid,
                    "node_id": nid,
                    "node_type": prompt[nid]["class_type"],
                    "executed": executed,
                    "exception_message": text,
                    "exception_type": exc_type,
                    "traceback": ["Traceback (most recent call last):\n"],
                    "current_inputs": {},
                    "current_outputs": list(values),
                }
                await self._message(job, "execution_error", data, broadcast=False)
                success = False
                break
            self.cache[signatures[nid]] = (values[nid], output)
            if output is not None:
                ui[nid] = output
                if sid is not None:
                    await self.server.send("executed", _executed(nid, output, pid), sid)
            executed.append(nid)
            await self._progress_state(job, states, nid, "finished", 1, 1)
        else:
            await self._message(job, "execution_success", {"prompt_id": pid}, broadcast=False)
        self.last_node = None
        if self.server.history_delay_s:
            await asyncio.sleep(self.server.history_delay_s)
        self.history[pid] = {
            "prompt": job.item(),
            "outputs": ui,
            "status": {
                "status_str": "success" if success else "error",
                "completed": success,
                "messages": job.messages,
            },
            "meta": {
                nid: {"node_id": nid, "display_node": nid, "parent_node": None, "real_node_id": nid}
                for nid in ui
            },
        }
        self.server.status_changed()
        if sid is not None:
            await self.server.send("executing", {"node": None, "prompt_id": pid}, sid)

    async def _progress_state(
        self, job: Job, states: dict[str, dict[str, Any]], nid: str, state: str, value: float, maximum: float
    ) -> None:
        states[nid] = {
            "value": value,
            "max": maximum,
            "state": state,
            "node_id": nid,
            "prompt_id": job.prompt_id,
            "display_node_id": nid,
            "parent_node_id": None,
            "real_node_id": nid,
        }
        await self.server.send(
            "progress_state", {"prompt_id": job.prompt_id, "nodes": dict(states)}, job.client_id
        )

    async def _run(
        self, job: Job, nid: str, values: dict[str, Any], states: dict[str, dict[str, Any]]
    ) -> tuple[Any, dict[str, Any] | None]:
        node = job.prompt[nid]
        class_type, inputs = node["class_type"], node["inputs"]
        args = {k: values[str(v[0])][v[1]] if is_link(v) else v for k, v in inputs.items()}
        if class_type in STEPPING:
            await self._steps(job, nid, args, states)
        match class_type:
            case "CheckpointLoaderSimple":
                return ("model", "clip", "vae"), None
            case "CLIPTextEncode":
                return (args["text"],), None
            case "EmptyLatentImage":
                return (
                    Pic(int(args["width"]), int(args["height"]), ((0, 0, 0),) * int(args["batch_size"])),
                ), None
            case "KSampler":
                latent, seed = args["latent_image"], int(args["seed"])
                colours = tuple(_seed_colour(seed + i) for i in range(len(latent.colours)))
                return (Pic(latent.width, latent.height, colours),), None
            case "EmptyImage":
                colour = int(args["color"])
                rgb = ((colour >> 16) & 255, (colour >> 8) & 255, colour & 255)
                return (Pic(int(args["width"]), int(args["height"]), (rgb,) * int(args["batch_size"])),), None
            case "ImageInvert":
                pic = args["image"]
                return (
                    Pic(pic.width, pic.height, tuple(tuple(255 - c for c in rgb) for rgb in pic.colours)),
                ), None
            case "ImageScaleBy":
                pic, scale = args["image"], float(args["scale_by"])
                return (Pic(round(pic.width * scale), round(pic.height * scale), pic.colours),), None
            case "ImageScale":
                return (_scaled(args["image"], int(args["width"]), int(args["height"])),), None
            case "UpscaleModelLoader":
                return (self.server.upscale_models[str(args["model_name"])],), None
            case "ImageUpscaleWithModel":
                pic, scale = args["image"], int(args["upscale_model"])
                return (Pic(pic.width * scale, pic.height * scale, pic.colours),), None
            case "LoadImage":
                return (self._load(str(args["image"])), None), None
            case "SaveImage" | "PreviewImage":
                images = [] if job.empty else self._save(node, args["images"])
                return (), {"images": images}
            case _:  # VAEDecode, VAEEncode, ImageBlur, EaselSteps: the picture passes through
                first = next(iter(v for v in args.values() if isinstance(v, Pic)), None)
                return (first,), None

    async def _steps(
        self, job: Job, nid: str, args: dict[str, Any], states: dict[str, dict[str, Any]]
    ) -> None:
        """Steps with progress and previews; interruptible; ``error_next`` fails the second step."""
        stepper = job.prompt[nid]["class_type"] == "EaselSteps"
        total = int(args.get("steps", TICKS)) if stepper else TICKS
        pause = float(args.get("seconds", 0.0)) if stepper else self.server.step_s
        fail_at = int(args.get("fail_at", 0)) if stepper else 0
        for tick in range(1, total + 1):
            await asyncio.sleep(pause)
            await self.server.thawed.wait()
            if self.interrupted:
                raise Interrupted
            if job.error is not None and tick == 2:
                raise NodeFailed(*job.error)
            if tick == fail_at:
                raise NodeFailed("RuntimeError", f"EaselSteps failed at step {tick} as asked")
            await self._progress_state(job, states, nid, "running", tick, total)
            preview = io.BytesIO()
            PILImage.new("RGB", (8, 8), (tick * 50 % 256, 0, 0)).save(preview, format="JPEG")
            metadata = self.server.supports_metadata(job.client_id)
            if metadata:
                meta = {
                    "node_id": nid,
                    "prompt_id": job.prompt_id,
                    "display_node_id": nid,
                    "parent_node_id": None,
                }
                blob = json.dumps({**meta, "real_node_id": nid, "image_type": "image/jpeg"}).encode()
                frame = struct.pack(">II", PREVIEW_IMAGE_WITH_METADATA, len(blob)) + blob + preview.getvalue()
                await self.server.send_bytes(frame, job.client_id)
            progress = {"value": tick, "max": total, "prompt_id": job.prompt_id, "node": nid}
            await self.server.send("progress", progress, job.client_id)
            if not metadata:
                await self.server.send_bytes(
                    struct.pack(">II", PREVIEW_IMAGE, 1) + preview.getvalue(), job.client_id
                )

    def _load(self, name: str) -> Pic:
        with PILImage.open(io.BytesIO(self.server.uploads[name])) as image:
            frames = getattr(image, "n_frames", 1)
            colour = tuple(hashlib.sha256(self.server.uploads[name]).digest()[:3])
            return Pic(image.width, image.height, ((colour[0], colour[1], colour[2]),) * frames)

    def _save(self, node: dict[str, Any], pic: Pic) -> list[dict[str, str]]:
        """Files named as upstream: ``<prefix>_<counter:05>_.png`` in the prefix's folder (``subfolder``)."""
        if node["class_type"] == "SaveImage":
            kind, prefix = "output", os.path.normpath(str(node["inputs"].get("filename_prefix", "ComfyUI")))
        else:
            kind, prefix = "temp", "ComfyUI_temp_" + uuid.uuid4().hex[:5]
        subfolder, stem = os.path.dirname(prefix), os.path.basename(prefix)
        refs: list[dict[str, str]] = []
        for colour in pic.colours:
            counter = self._counters.get((subfolder, stem), 0) + 1
            self._counters[(subfolder, stem)] = counter
            filename = f"{stem}_{counter:05d}_.png"
            data = self.server.encode_output(pic.width, pic.height, colour)
            self.server.files[(kind, subfolder, filename)] = data
            if kind == "output":
                self.server.served.append(data)
            refs.append({"filename": filename, "subfolder": subfolder, "type": kind})
        return refs


def _executed(nid: str, output: dict[str, Any] | None, prompt_id: str) -> dict[str, Any]:
    return {"node": nid, "display_node": nid, "output": output, "prompt_id": prompt_id}


def _scaled(pic: Pic, width: int, height: int) -> Pic:
    """``ImageScale``: 0 for a side keeps the aspect ratio, 0 for both passes the picture through."""
    if width == 0 and height == 0:
        return pic
    if width == 0:
        width = max(1, round(pic.width * height / pic.height))
    elif height == 0:
        height = max(1, round(pic.height * width / pic.width))
    return Pic(width, height, pic.colours)


def _seed_colour(seed: int) -> tuple[int, int, int]:
    return seed * 37 % 256, seed * 91 % 256, seed * 53 % 256


def _signature(prompt: dict[str, Any], nid: str, uploads: dict[str, bytes]) -> str:
    """A node's cache key: its class and literal inputs, its ancestors' keys, and for LoadImage the
    uploaded file's hash (upstream's ``IS_CHANGED``)."""
    node = prompt[nid]
    parts: list[Any] = [node["class_type"]]
    for key in sorted(node["inputs"]):
        value = node["inputs"][key]
        if is_link(value) and str(value[0]) in prompt:
            parts.append([key, _signature(prompt, str(value[0]), uploads), value[1]])
        else:
            parts.append([key, value])
    if node["class_type"] == "LoadImage":
        parts.append(hashlib.sha256(uploads.get(str(node["inputs"].get("image")), b"")).hexdigest())
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
