"""Helpers for upload-budget tests: tiny files declaring huge images, built row by row (the raster never
exists in the test's memory), and what Easel kept of an upload."""

from __future__ import annotations

import functools
import io
import json
import zlib
from pathlib import Path
from typing import Any

from PIL import Image


def _chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


@functools.cache
def solid_png(width: int, height: int, *, rgb: bool = False, level: int = 9) -> bytes:
    """A valid PNG of one colour: palette (1 byte a pixel, ~60 kB at 7000x7000) or RGB (~160 kB)."""
    colour_type, pixel = (2, bytes((200, 120, 40))) if rgb else (3, b"\x01")
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, colour_type, 0, 0, 0])
    palette = b"" if rgb else _chunk(b"PLTE", bytes((0, 0, 0, 40, 120, 200)))
    row = b"\x00" + pixel * width
    packer = zlib.compressobj(level)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + palette + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def png_claiming(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose IHDR was rewritten (with a valid CRC) to claim another size."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + data[24:29]
    data[16:29] = ihdr
    data[29:33] = zlib.crc32(b"IHDR" + ihdr).to_bytes(4, "big")
    return bytes(data)


def stored_uploads(media_dir: Path) -> list[dict[str, Any]]:
    """The sidecars of the uploads Easel kept (``"upload": true``), each with the kept file's real size."""
    found = []
    for path in Path(media_dir).rglob("*.json"):
        sidecar: dict[str, Any] = json.loads(path.read_text())
        if sidecar.get("upload"):
            with Image.open(sidecar["path"]) as kept:
                sidecar["file_size_px"] = kept.size
            found.append(sidecar)
    return found
