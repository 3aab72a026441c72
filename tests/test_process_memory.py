"""bot.process_memory: glibc hands big decodes' memory back; six big uploads stay within a memory bound."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot import process_memory
from bot.core import imaging

GLIBC = process_memory._glibc() is not None
ROOT = Path(__file__).resolve().parents[1]

_SIX_UPLOADS = textwrap.dedent(
    """
    import asyncio, json, resource
    from bot import process_memory
    from bot.core import imaging
    from tests.big_uploads import solid_png

    process_memory.install()  # what app start-up does
    data = solid_png(7000, 7000, rgb=True, level=1)  # 49 MP of RGB: ~200 MB decoded
    imaging.bound_upload(solid_png(64, 64))  # warm up Pillow's plugins
    idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    async def main():
        return await asyncio.gather(*(asyncio.to_thread(imaging.bound_upload, data) for _ in range(6)))

    sizes = sorted({(b.width, b.height) for b in asyncio.run(main())})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"growth_mb": (peak - idle) / 1024, "sizes": sizes}))
    """
)


@pytest.mark.skipif(not GLIBC, reason="the allocator tuning is glibc's")
def test_install_registers_malloc_trim_as_the_release_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    """On glibc, install() takes effect and bot.core.imaging calls trim() after large decodes."""
    monkeypatch.setattr(imaging, "_release_hook", None)
    monkeypatch.setattr(process_memory, "_installed", False)
    assert process_memory.install() is True
    assert imaging._release_hook is process_memory.trim


def test_install_is_a_no_op_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the C library is not glibc, install() reports False and registers nothing."""
    monkeypatch.setattr(imaging, "_release_hook", None)
    monkeypatch.setattr(process_memory, "_installed", False)
    monkeypatch.setattr(process_memory, "_libc", False)
    assert process_memory.install() is False
    assert imaging._release_hook is None
    process_memory.trim()  # and trimming does nothing, without failing


@pytest.mark.skipif(not GLIBC or not sys.platform.startswith("linux"), reason="ru_maxrss in KiB on Linux")
def test_six_concurrent_49_mp_uploads_stay_under_450_mb_of_peak_growth() -> None:
    """Six 7000x7000 PNGs decoded at once through asyncio.to_thread peak under 450 MB (it was ~3 GB)."""
    done = subprocess.run(
        [sys.executable, "-c", _SIX_UPLOADS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(done.stdout)
    assert figures["sizes"] == [[3500, 3500]]
    assert figures["growth_mb"] < 450, figures
