"""Scenario: the built-in offline renderer (``bot.providers.builtin``), one core, no I/O.

- new images: ``BuiltinProvider.generate`` for a fresh 1024² and 512² image (render, preview mark,
  encoding), and the parts alone: ``render_scene``, ``stamp_preview`` and each encoding;
- edits: ``generate`` with ``kind=EDIT`` on a 1024² builtin render (decode the reference, apply the
  edit, mark, encode), and ``apply_edits`` alone.

Each run draws another prompt from :data:`PROMPTS` (and another seed), so min/median/max span the kinds
of scene (plain, sea, neon city, watercolour, night), not just timer noise. One warm-up run per case
first: the figures are for a steady process (the texture caches already filled for the size); the
"cold" row is the first image at a size never rendered before.

Run: ``python -m bench.renderer [--quick]`` (one table per part).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

from PIL import Image as PILImage
from rich.console import Console

from bench.report import Result, show
from bot.core.types import GenerationKind, Image, ImageRequest
from bot.providers.builtin import render
from bot.providers.builtin.edits import EditOp, apply_edits, parse_edit_instruction
from bot.providers.builtin.encoding import encode
from bot.providers.builtin.provider import BuiltinProvider
from bot.providers.builtin.settings import Format

PROMPTS = (
    "mountains at dawn",
    "a calm blue ocean at sunset",
    "neon cyberpunk city at night",
    "a watercolor fox in an autumn forest",
    "snowy winter peaks under the stars",
    "desert dunes",
)
EDITS = (
    "make it warmer",
    "brighter",
    "make it black and white",
    "more contrast",
    "blur it",
    "sharpen",
    "try a 16:9 version",
    "add snow",  # a scene edit: the recipe in the reference is redrawn with snow
    "make it night",  # a scene edit: redrawn at night
)
SIZES = (1024, 512)
FORMATS: tuple[Format, ...] = ("png", "jpeg", "webp")
EDIT_FORMATS: tuple[Format, ...] = ("png", "jpeg")
COLUMNS = ["case", "runs", "min ms", "median ms", "max ms", "KB (median)"]
T = TypeVar("T")

BEFORE_NEW = (
    "before (commit 5722b5a: PNG only, no caches; 18 runs, same machine), ms min / median / max: "
    "1024² new image (provider, PNG) 108 / 121 / 153, of which render_scene 38.3 / 49.7 / 76.1, "
    "stamp_preview 4.4 / 4.6 / 4.9, encode png 67.0 / 70.2 / 80.4 (819 KB); Pillow's own JPEG q90 "
    "(4:2:0) would have been 2.5 / 2.6 / 3.0 (138 KB), WebP q90 method 4 64.3 / 65.9 / 77.7 (63 KB). "
    "512² new image 31.5 / 34.6 / 44.3, of which render_scene 12.1 / 14.9 / 23.1, stamp_preview "
    "1.1 / 1.2 / 1.3, encode png 18.1 / 18.7 / 20.2 (232 KB)."
)
BEFORE_EDITS = (
    "before (commit 5722b5a, PNG only, 18 runs), ms min / median / max: warmer 102 / 104 / 116, brighter "
    "105 / 108 / 115, black and white 80 / 82 / 86, more contrast 104 / 107 / 115, blur 88 / 96 / 132, "
    "sharpen 127 / 133 / 144, 16:9 crop 60 / 63 / 76, 'add a hat' (blend) 150 / 158 / 172; apply_edits "
    "alone was as now."
)


def _stats(name: str, times: list[float], sizes: list[int] | None = None) -> list[object]:
    kb = statistics.median(sizes) / 1000 if sizes else float("nan")
    return [name, len(times), min(times), statistics.median(times), max(times), kb]


def _timed(fn: Callable[[int], T], runs: int) -> tuple[list[float], list[T]]:
    """``fn(i)`` for i in 0..runs-1 after one warm-up call; milliseconds and results."""
    fn(runs)
    times, outs = [], []
    for i in range(runs):
        started = time.perf_counter()
        outs.append(fn(i))
        times.append((time.perf_counter() - started) * 1000)
    return times, outs


async def _progress(fraction: float, preview: bytes | None) -> None:
    return None


class _Runner:
    """Calls ``BuiltinProvider.generate`` from synchronous code, on one event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def new(self, provider: BuiltinProvider, i: int) -> Image:
        return self._one(provider, ImageRequest(PROMPTS[i % len(PROMPTS)], seed=i))

    def edit(self, provider: BuiltinProvider, instruction: str, reference: bytes, i: int) -> Image:
        request = ImageRequest(
            instruction,
            seed=i,
            kind=GenerationKind.EDIT,
            reference_images=(reference,),
            source_prompt=PROMPTS[i % len(PROMPTS)],
        )
        return self._one(provider, request)

    def _one(self, provider: BuiltinProvider, request: ImageRequest) -> Image:
        return self.loop.run_until_complete(provider.generate(request, on_progress=_progress))[0]


def _new_images(runner: _Runner, runs: int) -> Result:
    result = Result(f"Built-in renderer: a new image ({runs} runs per row)", COLUMNS)
    for side in SIZES:
        for fmt in FORMATS:
            provider = BuiltinProvider(long_side=side, format=fmt)
            times, images = _timed(functools.partial(runner.new, provider), runs)
            name = f"{side}² new image, {fmt} (provider)"
            result.add(*_stats(name, times, [len(image.data) for image in images]))
        times, scenes = _timed(functools.partial(_render, (side, side)), runs)
        result.add(*_stats(f"{side}²   render_scene", times))
        times, marked = _timed(functools.partial(_stamp, scenes), runs)
        result.add(*_stats(f"{side}²   stamp_preview", times))
        for fmt in FORMATS:
            times, datas = _timed(functools.partial(_encode, marked, fmt), runs)
            result.add(*_stats(f"{side}²   encode {fmt}", times, [len(data) for data in datas]))
    times = []
    for i in range(runs):
        render.clear_caches()
        started = time.perf_counter()
        _render((1024, 1024), i)
        times.append((time.perf_counter() - started) * 1000)
    result.add(*_stats("1024²   render_scene, cold caches", times))
    return result


def _render(size: tuple[int, int], i: int) -> PILImage.Image:
    return render.render_scene(PROMPTS[i % len(PROMPTS)], i, size)


def _stamp(scenes: list[PILImage.Image], i: int) -> PILImage.Image:
    return render.stamp_preview(scenes[i % len(scenes)])


def _encode(images: list[PILImage.Image], fmt: Format, i: int) -> bytes:
    return encode(images[i % len(images)], fmt)[0]


def _edits(runner: _Runner, runs: int) -> Result:
    result = Result(f"Built-in renderer: an edit of a 1024² render ({runs} runs per row)", COLUMNS)
    for fmt in EDIT_FORMATS:
        provider = BuiltinProvider(long_side=1024, format=fmt)
        references = [runner.new(provider, i).data for i in range(len(PROMPTS))]  # its own output
        for instruction in EDITS:
            edit = functools.partial(_edit, runner, provider, instruction, references)
            times, images = _timed(edit, runs)
            name = f"{instruction!r}, {fmt} (provider)"
            result.add(*_stats(name, times, [len(image.data) for image in images]))
    decoded = [render.render_scene(prompt, 1, (1024, 1024)) for prompt in PROMPTS]
    for instruction in EDITS:
        ops = parse_edit_instruction(instruction)
        if ops:
            times, _ = _timed(functools.partial(_apply, decoded, ops), runs)
            result.add(*_stats(f"{instruction!r}   apply_edits", times))
    return result


def _edit(
    runner: _Runner, provider: BuiltinProvider, instruction: str, references: list[bytes], i: int
) -> Image:
    return runner.edit(provider, instruction, references[i % len(references)], i)


def _apply(images: list[PILImage.Image], ops: list[EditOp], i: int) -> PILImage.Image:
    return apply_edits(images[i % len(images)], ops)


def run(quick: bool) -> list[Result]:
    runs = 6 if quick else 18
    runner = _Runner()
    try:
        new, edits = _new_images(runner, runs), _edits(runner, runs)
    finally:
        runner.loop.close()
    new.notes.append(
        "provider rows: the whole generate() (render, preview mark, encoding, the worker-thread hop); "
        "the indented rows are its parts alone. Each run is another prompt and seed (plain, sea, neon "
        "city, watercolour, night, dunes), after one warm-up run. Encodings as the provider makes "
        "them (bot.providers.builtin.encoding): PNG as bot.core.imaging.encode_png (zlib level 3), "
        "JPEG quality 90 with full-resolution colour (4:4:4), WebP quality 90 at method 0."
    )
    new.notes.append(BEFORE_NEW)
    edits.notes.append(
        "provider rows: decode the reference (the provider's own earlier output, so PNG or JPEG), apply "
        "the edit, mark, encode; 'add snow' and 'make it night' are scene edits: the recipe kept in the "
        "reference is changed and the 1024² scene redrawn (before issue 19 an edit it could not do, "
        "'add a hat', rendered a new scene and blended it in)."
    )
    edits.notes.append(BEFORE_EDITS)
    return [new, edits]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.renderer")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    console = Console(width=160)
    for result in run(args.quick):
        show(console, result)


if __name__ == "__main__":
    main()
