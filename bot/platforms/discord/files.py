"""Result images → Discord attachments: re-encoded when one alone is over the upload limit, named by
their real type, grouped into messages of at most 10 files and the limit's bytes."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence

import discord

from bot.core import imaging, imaging_fit
from bot.core.types import StoredImage

MAX_FILES = 10


SPOILER_PREFIX = "SPOILER_"
"""Discord shows an attachment whose file name starts with it blurred until clicked."""


async def prepare(
    images: Sequence[StoredImage], *, generation_id: int | None, limit: int, spoiler: bool = False
) -> list[tuple[str, bytes]]:
    """(file name, bytes) for each image, each within ``limit`` bytes (CPU work in threads); with
    ``spoiler``, named ``SPOILER_…`` so Discord hides them until clicked."""
    blobs = await asyncio.gather(*(asyncio.to_thread(fitted, image, limit) for image in images))
    prefix = SPOILER_PREFIX if spoiler else ""
    return [
        (f"{prefix}easel-{generation_id or 0}-{i}.{extension(data)}", data) for i, data in enumerate(blobs, 1)
    ]


def fitted(image: StoredImage, limit: int) -> bytes:
    """The image's bytes, re-encoded smaller when it is over the upload limit on its own."""
    data = image.path.read_bytes()
    if len(data) <= limit:
        return data
    limits = imaging_fit.PhotoLimits(max_bytes=limit, max_side_sum=100_000, max_ratio=1e6)
    return imaging_fit.fit_photo(data, limits)


def extension(data: bytes) -> str:
    return imaging.EXTENSIONS.get(imaging.sniff(data), "bin")


def batches(sizes: Sequence[int], *, limit: int, max_files: int = MAX_FILES) -> list[list[int]]:
    """Indexes of files grouped into messages: at most ``max_files`` and ``limit`` bytes per message."""
    groups: list[list[int]] = []
    total = 0
    for index, size in enumerate(sizes):
        if not groups or len(groups[-1]) >= max_files or total + size > limit:
            groups.append([])
            total = 0
        groups[-1].append(index)
        total += size
    return groups


def to_files(files: Sequence[tuple[str, bytes]]) -> list[discord.File]:
    return [discord.File(io.BytesIO(data), filename=name) for name, data in files]
