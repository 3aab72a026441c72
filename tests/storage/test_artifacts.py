"""FileArtifactStore: files, sidecars, and refusing paths outside the media directory."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.core.errors import ImageError, StorageError
from bot.core.ports import ArtifactStore
from bot.core.types import Aspect, Image
from bot.storage.artifacts import FileArtifactStore

NOW = datetime(2024, 5, 17, 12, 30, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def _png(seed: int | None = 2**40) -> Image:
    return Image(data=PNG, mime="image/png", width=64, height=48, seed=seed, provider="builtin")


def test_store_satisfies_artifact_port(tmp_path: Path) -> None:
    """FileArtifactStore type-checks as an ArtifactStore."""
    port: ArtifactStore = FileArtifactStore(tmp_path)
    assert isinstance(port, FileArtifactStore)


def test_media_dir_is_resolved(tmp_path: Path) -> None:
    """The media directory is kept as an absolute, resolved path."""
    assert FileArtifactStore(tmp_path / "a" / ".." / "media").media_dir == tmp_path.resolve() / "media"


async def test_save_writes_dated_file_with_hex_id(tmp_path: Path) -> None:
    """save writes media_dir/YYYY-MM-DD/<id>.png with the image bytes and returns an absolute path."""
    store = FileArtifactStore(tmp_path)
    stored = await store.save(_png(), metadata={}, now=NOW)
    assert stored.path == store.media_dir / "2024-05-17" / f"{stored.id}.png"
    assert stored.path.is_absolute()
    assert len(stored.id) == 32
    assert int(stored.id, 16) >= 0
    assert stored.path.read_bytes() == PNG
    assert (stored.sha256, stored.size_bytes) == (hashlib.sha256(PNG).hexdigest(), len(PNG))
    assert (stored.width, stored.height, stored.seed, stored.mime) == (64, 48, 2**40, "image/png")


async def test_save_writes_sidecar_with_metadata(tmp_path: Path) -> None:
    """The JSON sidecar holds the image facts plus the caller's metadata."""
    metadata = {"prompt": "a cat", "params": {"aspect": Aspect(16, 9), "n": 1}, "provider": "builtin"}
    stored = await FileArtifactStore(tmp_path).save(_png(), metadata=metadata, now=NOW)
    sidecar = json.loads(stored.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["id"] == stored.id
    assert sidecar["path"] == str(stored.path)
    assert sidecar["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert (sidecar["mime"], sidecar["width"], sidecar["height"], sidecar["seed"]) == (
        "image/png",
        64,
        48,
        2**40,
    )
    assert sidecar["created_at"] == "2024-05-17T12:30:00+00:00"
    assert (sidecar["prompt"], sidecar["params"], sidecar["provider"]) == (
        "a cat",
        {"aspect": "16:9", "n": 1},
        "builtin",
    )


async def test_metadata_cannot_override_image_facts(tmp_path: Path) -> None:
    """Caller metadata never replaces the id, path or hash in the sidecar."""
    stored = await FileArtifactStore(tmp_path).save(
        _png(), metadata={"id": "evil", "path": "/etc/passwd"}, now=NOW
    )
    sidecar = json.loads(stored.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert (sidecar["id"], sidecar["path"]) == (stored.id, str(stored.path))


async def test_directory_date_is_utc(tmp_path: Path) -> None:
    """The dated directory uses the UTC date of ``now``."""
    late_evening = datetime(2024, 5, 16, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    stored = await FileArtifactStore(tmp_path).save(_png(), metadata={}, now=late_evening)
    assert stored.path.parent.name == "2024-05-17"


@pytest.mark.parametrize(
    ("mime", "ext"), [("image/jpeg", "jpg"), ("image/webp", "webp"), ("image/gif", "gif")]
)
async def test_extension_follows_mime(tmp_path: Path, mime: str, ext: str) -> None:
    """The file extension is derived from the MIME type."""
    image = dataclasses.replace(_png(), mime=mime)
    stored = await FileArtifactStore(tmp_path).save(image, metadata={}, now=NOW)
    assert stored.path.suffix == f".{ext}"


async def test_unknown_mime_is_image_error(tmp_path: Path) -> None:
    """An image type that has no known extension is refused with ImageError."""
    image = dataclasses.replace(_png(), mime="application/x-msdownload")
    with pytest.raises(ImageError):
        await FileArtifactStore(tmp_path).save(image, metadata={}, now=NOW)


async def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    """After save, the day directory holds only the image and its sidecar."""
    stored = await FileArtifactStore(tmp_path).save(_png(), metadata={}, now=NOW)
    assert sorted(p.name for p in stored.path.parent.iterdir()) == [f"{stored.id}.json", f"{stored.id}.png"]


async def test_load_round_trips(tmp_path: Path) -> None:
    """load returns the bytes that save wrote, and the sidecar reads back."""
    store = FileArtifactStore(tmp_path)
    stored = await store.save(_png(), metadata={"prompt": "a cat"}, now=NOW)
    assert await store.load(stored) == PNG
    assert (await store.load_metadata(stored))["prompt"] == "a cat"


async def test_load_refuses_path_outside_media_dir(tmp_path: Path) -> None:
    """load raises StorageError for a path outside media_dir, including via '..'."""
    store = FileArtifactStore(tmp_path / "media")
    stored = await store.save(_png(), metadata={}, now=NOW)
    (tmp_path / "secret.png").write_bytes(b"secret")
    for path in (tmp_path / "secret.png", tmp_path / "media" / ".." / "secret.png"):
        with pytest.raises(StorageError):
            await store.load(dataclasses.replace(stored, path=path))


async def test_load_missing_file_is_storage_error(tmp_path: Path) -> None:
    """Loading an image whose file was deleted raises StorageError."""
    store = FileArtifactStore(tmp_path)
    stored = await store.save(_png(), metadata={}, now=NOW)
    stored.path.unlink()
    with pytest.raises(StorageError):
        await store.load(stored)


async def test_unwritable_media_dir_is_storage_error(tmp_path: Path) -> None:
    """A media_dir that cannot be created raises StorageError."""
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(StorageError):
        await FileArtifactStore(tmp_path / "file" / "media").save(_png(), metadata={}, now=NOW)
