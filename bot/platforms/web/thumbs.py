"""Small previews for the gallery grid: a stored image scaled to fit ``THUMB_SIDE`` and encoded as
WebP, made in a thread and kept in a bounded in-memory cache (stored images never change)."""

from __future__ import annotations

import asyncio
import io
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from PIL import Image as PILImage

from bot.core import imaging

THUMB_SIDE = 384
THUMB_MIME = "image/webp"
CACHED = 1_000
"""About 20 kB each: a cache of some 20 MB at most."""


def make_thumbnail(data: bytes, side: int = THUMB_SIDE) -> bytes:
    """``data`` scaled down (never up) to fit ``side`` x ``side``, as WebP. CPU-bound: run in a thread."""
    # decode at no more than twice the thumbnail's size (JPEG at 1/2..1/8 scale), then resample
    picture = imaging.open_image(data, max_bytes=max(len(data), 20_000_000), budget=(2 * side) ** 2)
    picture.thumbnail((side, side), PILImage.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="WEBP", quality=80, method=4)
    return buffer.getvalue()


class ThumbnailCache:
    def __init__(self, limit: int = CACHED) -> None:
        self._limit = limit
        self._cache: OrderedDict[str, bytes] = OrderedDict()

    async def get(self, key: str, load: Callable[[], Awaitable[bytes]]) -> bytes:
        """The thumbnail for ``key`` (an image id), made from ``load()`` the first time."""
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        thumb = await asyncio.to_thread(make_thumbnail, await load())
        self._cache[key] = thumb
        while len(self._cache) > self._limit:
            self._cache.popitem(last=False)
        return thumb


UPLOAD_SIDE = 256
KEPT_UPLOADS = 200
"""About 10 kB each."""


class UploadThumbnails:
    """Small copies of photos browsers sent to edit, shown in the sender's bubble (``/uploads/<id>``):
    in memory, newest kept; after a restart the bubble says only that a photo came with it."""

    def __init__(self, limit: int = KEPT_UPLOADS) -> None:
        self._limit = limit
        self._kept: OrderedDict[str, bytes] = OrderedDict()

    async def keep(self, data: bytes) -> str:
        """A random id for the thumbnail of ``data`` (a checked image)."""
        thumb = await asyncio.to_thread(make_thumbnail, data, UPLOAD_SIDE)
        key = secrets.token_hex(16)
        self._kept[key] = thumb
        while len(self._kept) > self._limit:
            self._kept.popitem(last=False)
        return key

    def get(self, key: str) -> bytes | None:
        return self._kept.get(key)
