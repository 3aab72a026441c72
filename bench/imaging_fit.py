"""Scenario 3, fitting images to platform limits: ``bot.core.imaging_fit.fit_photo`` on 1024², 2048² and
4096² PNGs with photograph-like content (smooth shapes plus sensor-like noise, which PNG cannot
squeeze the way it squeezes flat colour), for Telegram's photo limits and Discord's upload limits.

There is no Discord-specific function in ``bot.core.imaging_fit``: the Discord adapter calls ``fit_photo``
with ``PhotoLimits(max_bytes=<upload limit>, max_side_sum=100_000, max_ratio=1e6)`` (bytes only), and
so does this benchmark, for 25 MiB, 10 MiB (the adapter's default) and 8 MiB.
"""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from bench.report import Result
from bot.core import imaging_fit
from bot.platforms.telegram.delivery import PHOTO_LIMITS

SIZES = (1024, 2048, 4096)
NOISE = (3.0, 8.0, 16.0)
"""Standard deviations of the added noise: a clean render, a typical photo, a grainy one."""
MIB = 1024 * 1024
LIMITS = {
    "Telegram photo (10 MB, w+h ≤ 10000)": PHOTO_LIMITS,
    "Discord 25 MiB": imaging_fit.PhotoLimits(max_bytes=25 * MIB, max_side_sum=100_000, max_ratio=1e6),
    "Discord 10 MiB (adapter default)": imaging_fit.PhotoLimits(
        max_bytes=10 * MIB, max_side_sum=100_000, max_ratio=1e6
    ),
    "Discord 8 MiB": imaging_fit.PhotoLimits(max_bytes=8 * MIB, max_side_sum=100_000, max_ratio=1e6),
}


def photo_like(size: int, noise: float, seed: int) -> bytes:
    """A deterministic PNG: large smooth colour fields (bicubic-upscaled random 12x12) plus noise."""
    cache = Path(tempfile.gettempdir()) / "easel-bench-cache" / f"photo-{size}-{noise:g}-{seed}.png"
    if cache.exists():
        return cache.read_bytes()
    rng = np.random.default_rng(seed)
    small = PILImage.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8), "RGB")
    base = np.asarray(small.resize((size, size), PILImage.Resampling.BICUBIC), dtype=np.float32)
    grain = rng.normal(0.0, noise, (size, size, 1)).astype(np.float32)  # luminance noise
    pixels = np.clip(base + grain + rng.normal(0.0, noise / 3, (size, size, 3)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    PILImage.fromarray(pixels, "RGB").save(buffer, format="PNG")  # zlib level 6, as most encoders
    cache.parent.mkdir(exist_ok=True)
    cache.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def run(quick: bool) -> list[Result]:
    noises = NOISE[1:] if quick else NOISE
    images = {size: [photo_like(size, noise, seed=size) for noise in noises] for size in SIZES}
    result = Result(
        f"3. Fitting photo-like PNGs to platform limits ({len(noises)} images per size, noise sigma "
        + ", ".join(f"{n:g}" for n in noises)
        + ")",
        ["limit", "size", "PNG MB (min-max)", "ms per image", "passed through", "out MB (max)"],
    )
    for name, limits in LIMITS.items():
        for size, datas in images.items():
            times, outs, passed = [], [], 0
            for data in datas:
                started = time.perf_counter()
                out = imaging_fit.fit_photo(data, limits)
                times.append((time.perf_counter() - started) * 1000)
                outs.append(len(out))
                passed += out is data
            sizes = [len(d) / 1e6 for d in datas]
            result.add(
                name,
                f"{size}²",
                f"{min(sizes):.1f}-{max(sizes):.1f}",
                sum(times) / len(times),
                f"{passed}/{len(datas)}",
                max(outs) / 1e6,
            )
    result.notes.append(
        "passed through: the bytes were sent as they were (no decode, no re-encode); otherwise the "
        "image was scaled (Telegram: w+h > 10000) and/or re-encoded as JPEG at quality 90, 82, 72, then "
        "at 3/4 size, until it fits. One core; the bot runs this in a worker thread."
    )
    return [result]
