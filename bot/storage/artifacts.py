"""``FileArtifactStore``: image files under ``media_dir`` as ``YYYY-MM-DD/<id>.<ext>`` + ``<id>.json``."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.errors import ImageError, StorageError
from bot.core.imaging import EXTENSIONS
from bot.core.types import Image, StoredImage

_UNAVAILABLE = "The image store is unavailable right now."


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path``, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


class FileArtifactStore:
    """Stores image bytes and a JSON sidecar per image; ids and paths are chosen here only."""

    def __init__(self, media_dir: Path) -> None:
        self.media_dir = Path(media_dir).expanduser().resolve()

    async def save(self, image: Image, *, metadata: Mapping[str, Any], now: datetime) -> StoredImage:
        """Write the bytes and the sidecar; the id and path are chosen here, never from input."""
        ext = EXTENSIONS.get(image.mime.lower())
        if ext is None:
            raise ImageError(
                f"cannot store an image of type {image.mime!r}",
                user_message="The provider returned an image type Easel cannot store.",
            )
        when = now.astimezone(UTC) if now.tzinfo is not None else now
        image_id = uuid.uuid4().hex
        path = self.media_dir / when.date().isoformat() / f"{image_id}.{ext}"
        stored = StoredImage(
            id=image_id,
            path=path,
            mime=image.mime.lower(),
            sha256=hashlib.sha256(image.data).hexdigest(),
            size_bytes=len(image.data),
            width=image.width,
            height=image.height,
            seed=image.seed,
        )
        sidecar = {
            "id": stored.id,
            "path": str(stored.path),
            "mime": stored.mime,
            "sha256": stored.sha256,
            "size_bytes": stored.size_bytes,
            "width": stored.width,
            "height": stored.height,
            "seed": stored.seed,
            "created_at": when.isoformat(),
        }
        sidecar.update((key, value) for key, value in metadata.items() if key not in sidecar)
        sidecar_bytes = json.dumps(sidecar, default=str, ensure_ascii=False, indent=2).encode()
        try:
            await asyncio.to_thread(self._write, path, image.data, sidecar_bytes)
        except OSError as exc:
            raise StorageError(f"Could not write {path}: {exc}", user_message=_UNAVAILABLE) from exc
        return stored

    @staticmethod
    def _write(path: Path, data: bytes, sidecar: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, data)
        _write_atomic(path.with_suffix(".json"), sidecar)

    def _inside(self, path: Path) -> Path:
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(self.media_dir):
            raise StorageError(
                f"Refusing to read {path}: it is outside the media directory {self.media_dir}",
                user_message="That image is not in Easel's media directory.",
            )
        return resolved

    def _read(self, path: Path) -> bytes:
        try:
            return self._inside(path).read_bytes()
        except OSError as exc:
            raise StorageError(f"Could not read {path}: {exc}", user_message=_UNAVAILABLE) from exc

    async def load(self, stored: StoredImage) -> bytes:
        """The bytes of a stored image; refuses paths outside ``media_dir``."""
        return await asyncio.to_thread(self._read, stored.path)

    async def remove(self, images: Sequence[StoredImage]) -> None:
        """Delete each image's file and its JSON sidecar (files already gone are skipped); refuses
        paths outside ``media_dir``, checked for every image before anything is deleted."""
        paths = [self._inside(image.path) for image in images]
        await asyncio.to_thread(self._unlink, paths)

    @staticmethod
    def _unlink(paths: list[Path]) -> None:
        for path in paths:
            for file in (path, path.with_suffix(".json")):
                try:
                    file.unlink(missing_ok=True)
                except OSError as exc:
                    raise StorageError(f"Could not delete {file}: {exc}", user_message=_UNAVAILABLE) from exc

    async def load_metadata(self, stored: StoredImage) -> dict[str, Any]:
        """The JSON sidecar written next to the image."""
        sidecar = await asyncio.to_thread(self._read, Path(stored.path).with_suffix(".json"))
        try:
            loaded: dict[str, Any] = json.loads(sidecar)
        except ValueError as exc:
            raise StorageError(
                f"Corrupt sidecar for image {stored.id}: {exc}", user_message=_UNAVAILABLE
            ) from exc
        return loaded
