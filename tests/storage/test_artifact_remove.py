"""``FileArtifactStore.remove``: the files and sidecars go; nothing outside ``media_dir`` is touched."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.errors import StorageError
from bot.core.types import Image
from bot.storage.artifacts import FileArtifactStore

NOW = datetime(2024, 5, 17, 12, 30, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def _png() -> Image:
    return Image(data=PNG, mime="image/png", width=64, height=48, seed=1, provider="builtin")


async def test_remove_deletes_the_files_and_their_sidecars(tmp_path: Path) -> None:
    """Each image file and its JSON sidecar are gone; another image's stay."""
    store = FileArtifactStore(tmp_path)
    first, second, kept = [await store.save(_png(), metadata={}, now=NOW) for _ in range(3)]
    await store.remove([first, second])
    for stored in (first, second):
        assert not stored.path.exists() and not stored.path.with_suffix(".json").exists()
    assert kept.path.exists() and kept.path.with_suffix(".json").exists()


async def test_remove_skips_files_already_gone(tmp_path: Path) -> None:
    """A file deleted by hand (or by an earlier attempt) is no error; its sidecar still goes."""
    store = FileArtifactStore(tmp_path)
    stored = await store.save(_png(), metadata={}, now=NOW)
    stored.path.unlink()
    await store.remove([stored])
    assert not stored.path.with_suffix(".json").exists()


async def test_remove_refuses_a_path_outside_the_media_dir(tmp_path: Path) -> None:
    """A row naming a file outside ``media_dir`` is refused before anything is deleted."""
    media, outside = tmp_path / "media", tmp_path / "elsewhere.png"
    outside.write_bytes(PNG)
    store = FileArtifactStore(media)
    inside = await store.save(_png(), metadata={}, now=NOW)
    stray = dataclasses.replace(inside, path=media / ".." / "elsewhere.png")
    with pytest.raises(StorageError):
        await store.remove([inside, stray])
    assert outside.exists() and inside.path.exists()
