"""``FileArtifactStore``: image files under ``media_dir`` as ``YYYY-MM-DD/<id>.<ext>`` + ``<id>.json``."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot import __version__
from bot.core.errors import ImageError, StorageError
from bot.core.imaging import EXTENSIONS
from bot.core.provenance import parameters_text
from bot.core.types import Image, StoredImage
from bot.storage.provenance import ProvenanceError, embed_parameters

log = logging.getLogger(__name__)
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
    """Stores image bytes and a JSON sidecar per image; ids and paths are chosen here only.

    ``embed_parameters`` (``generation.embed_parameters``): a generated image's file carries its prompt
    and parameters (A1111's ``parameters`` text in PNG, EXIF UserComment in JPEG and WebP, see
    :mod:`bot.storage.provenance`); uploads (no prompt in their metadata) are stored as they came."""

    def __init__(self, media_dir: Path, *, embed_parameters: bool = True) -> None:
        self.media_dir = Path(media_dir).expanduser().resolve()
        self.embed_parameters = embed_parameters

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
        text = self._parameters(image, metadata)
        data = image.data if text is None else await asyncio.to_thread(_embedded, image, text)
        stored = StoredImage(
            id=image_id,
            path=path,
            mime=image.mime.lower(),
            # the picture as the provider made it (a reroll that came back identical is found by it)
            sha256=hashlib.sha256(image.data).hexdigest(),
            size_bytes=len(data),  # the file
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
            "parameters_embedded": data is not image.data,
        }
        sidecar.update((key, value) for key, value in metadata.items() if key not in sidecar)
        sidecar_bytes = json.dumps(sidecar, default=str, ensure_ascii=False, indent=2).encode()
        try:
            await asyncio.to_thread(self._write, path, data, sidecar_bytes)
        except OSError as exc:
            raise StorageError(f"Could not write {path}: {exc}", user_message=_UNAVAILABLE) from exc
        return stored

    def _parameters(self, image: Image, metadata: Mapping[str, Any]) -> str | None:
        """The text to embed, or None: embedding is off, or the image has no prompt (an upload)."""
        prompt = metadata.get("prompt")
        if not self.embed_parameters or not isinstance(prompt, str):
            return None
        params = metadata.get("params")
        params = params if isinstance(params, Mapping) else {}
        negative = metadata.get("negative", params.get("negative"))
        revised = metadata.get("revised_prompt")
        return parameters_text(
            prompt=prompt,
            negative=negative if isinstance(negative, str) else None,
            width=image.width,
            height=image.height,
            seed=image.seed if image.seed is not None else _int_or_none(params.get("seed")),
            model=image.model or _str_or_none(metadata.get("model")),
            provider=_str_or_none(metadata.get("provider")) or image.provider or None,
            params=params,
            generator=f"Easel {__version__}",
            revised_prompt=revised if isinstance(revised, str) else None,
        )

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


def _embedded(image: Image, text: str) -> bytes:
    """The image's bytes with ``text`` in them; as they were when the file is not what its type says."""
    try:
        return embed_parameters(image.data, image.mime, text)
    except ProvenanceError as exc:
        log.warning("storing a %s without its parameters: %s", image.mime, exc)
        return image.data


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
