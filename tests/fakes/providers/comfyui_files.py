"""The ComfyUI fake's files: ``POST /upload/image`` and ``GET /view`` (after upstream's ``server.py``:
``image_upload`` renames a clashing name to ``name (1).png`` unless the bytes are the same or
``overwrite`` is true; ``/view`` answers 400 for ``..`` or an absolute name, 403 for a subfolder that
escapes, 404 for a missing file), and the fixed ``/system_stats`` answer."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.providers.comfyui import FakeComfyUI

SYSTEM_STATS: dict[str, Any] = {
    "system": {
        "os": "posix",
        "ram_total": 64 << 30,
        "ram_free": 32 << 30,
        "comfyui_version": "0.3.64",
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


async def upload(fake: FakeComfyUI, request: web.Request) -> web.Response:
    post = await request.post()  # over the app's client_max_size: aiohttp's 413
    image = post.get("image")
    if not isinstance(image, web.FileField) or not image.filename:
        return web.Response(status=400)
    upload_type = str(post.get("type") or "input")
    subfolder = str(post.get("subfolder") or "")
    name = os.path.basename(image.filename)
    data = image.file.read()
    overwrite = str(post.get("overwrite") or "") in ("true", "1")
    stem, ext = os.path.splitext(name)
    counter = 1
    while not overwrite and _key(subfolder, name) in fake.uploads:
        if fake.uploads[_key(subfolder, name)] == data:
            break  # the same bytes: not saved again, same name
        name = f"{stem} ({counter}){ext}"
        counter += 1
    fake.uploads[_key(subfolder, name)] = data
    fake.files[(upload_type, subfolder, name)] = data
    return web.json_response({"name": name, "subfolder": subfolder, "type": upload_type})


def view(fake: FakeComfyUI, request: web.Request) -> web.Response:
    filename = request.query.get("filename", "")
    if not filename:
        return web.Response(status=404)
    if filename.startswith("/") or ".." in filename:
        return web.Response(status=400)
    subfolder = request.query.get("subfolder", "")
    if ".." in subfolder or subfolder.startswith("/"):
        return web.Response(status=403)
    kind = request.query.get("type", "output")
    data = fake.files.get((kind, subfolder, os.path.basename(filename)))
    if data is None or (fake.expire_outputs and kind == "output"):
        return web.Response(status=404)
    headers = {"Content-Disposition": f'filename="{filename}"'}
    return web.Response(body=data, content_type="image/png", headers=headers)


def _key(subfolder: str, name: str) -> str:
    return f"{subfolder}/{name}" if subfolder else name
