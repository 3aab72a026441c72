"""Giving the memory of big image decodes back to the operating system (glibc; a no-op elsewhere).

Pillow keeps an image's pixels in blocks of up to 16 MiB (``PIL.Image.core.get_block_size()``, set
by ``PILLOW_BLOCK_SIZE``), each from ``malloc``; it caches none of them (``get_blocks_max()`` is 0).
glibc serves allocations above its mmap threshold (128 KiB at start) with ``mmap`` and unmaps them
on ``free``, but the threshold is dynamic: when such a block is freed the threshold rises to its
size (up to 32 MiB), so from then on 16 MiB blocks come from the main heap or a worker thread's
arena, and freed memory there stays resident. Six big decodes in ``asyncio.to_thread`` workers
left well over a gigabyte resident that the process no longer used.

:func:`install`, called once at start-up, fixes the threshold at :data:`MMAP_THRESHOLD` with
``mallopt(M_MMAP_THRESHOLD)`` (which also turns the dynamic adjustment off), so pixel blocks are
always mapped and unmapped; and it registers :func:`trim` (``malloc_trim(0)``) as
:func:`bot.core.imaging.set_release_hook`, run in the decoding thread after every large decode, for
what smaller allocations leave behind. This is platform plumbing, so it lives here, outside
``bot/core``; the core only offers the hook.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from typing import Any

from bot.core import imaging

__all__ = ["MMAP_THRESHOLD", "install", "trim"]

MMAP_THRESHOLD = 1024 * 1024
"""Allocations of 1 MiB and more (every Pillow pixel block above ~512x512 RGB) are mmapped."""
_M_MMAP_THRESHOLD = -3  # from glibc's <malloc.h>

_lock = threading.Lock()
_libc: Any = None
"""The C library once looked up: a CDLL for glibc, False for anything else, None before."""
_installed = False


def _glibc() -> Any:
    """The C library when it is glibc (it has ``gnu_get_libc_version``), else None."""
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        found: Any = False
        try:
            found = ctypes.CDLL(None)
            found.gnu_get_libc_version  # noqa: B018  (AttributeError when this is not glibc)
            found.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            found.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):
            found = False
        _libc = found
    return _libc or None


def install() -> bool:
    """Fix glibc's mmap threshold and register :func:`trim` with ``bot.core.imaging`` (idempotent).

    Returns whether it took effect: False (and nothing changed) on anything but glibc.
    """
    global _installed
    with _lock:
        if _installed:
            return True
        libc = _glibc()
        if libc is None or not libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD):
            return False
        imaging.set_release_hook(trim)
        _installed = True
        return True


def trim() -> None:
    """Return free memory at the ends and in the middle of glibc's heaps to the OS (a no-op elsewhere)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
