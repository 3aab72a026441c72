"""A contact sheet of the built-in renderer: a fixed list of 24 prompts and 6 edits on one PNG.

Everything goes through ``BuiltinProvider.generate`` as the bot calls it (each edit works from the bytes
of the render before it, so the recipe kept in the file is what makes it), at a fixed seed per tile.
Look at it after changing a motif, a palette or a style: every tile should read as its caption.

Run: ``python -m bench.renderer_sheet [output.png] [--size 320]`` (default ``/tmp/renderer_sheet.png``).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import time
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from bot.core.types import GenerationKind, ImageRequest
from bot.providers.builtin.provider import BuiltinProvider

PROMPTS = (
    "a red fox in the snow",
    "a lighthouse in a storm",
    "a cake with candles",
    "a dragon over a castle",
    "a cat sleeping in a garden",
    "a coral reef with fish",
    "balloons at a party",
    "a wizard in a forest at night",
    "a watercolor fox in an autumn forest",
    "neon cyberpunk city at night with a car",
    "pixel art knight in front of a castle",
    "a pencil sketch of an owl",
    "an oil painting of a sailboat at sunset",
    "low poly mountains with a deer",
    "an astronaut in space",
    "a cup of coffee on a table",
    "a penguin on the ice",
    "a house and a tree in spring",
    "two horses in a meadow",
    "a rocket at dawn",
    "a windmill and tulips",
    "a whale in the ocean",
    "a robot in the desert",
    "a festive birthday illustration, balloons, confetti and a cake with candles",
)
EDITS = (
    ("a cat sleeping in a garden", "add a hat"),
    ("a red fox in the snow", "make it night"),
    ("a house and a tree in spring", "add snow"),
    ("a robot in the desert", "remove the sun"),
    ("two horses in a meadow", "add a rainbow and a dog"),
    ("a lighthouse in a storm", "make it warmer"),
)
SEED = 7
COLUMNS = 6
_LABEL = 34


async def _progress(fraction: float, preview: bytes | None) -> None:
    return None


async def _tiles(size: int) -> list[tuple[bytes, str, float]]:
    provider = BuiltinProvider(long_side=size)
    out: list[tuple[bytes, str, float]] = []
    made: dict[str, bytes] = {}
    for index, prompt in enumerate(PROMPTS):
        started = time.perf_counter()
        [image] = await provider.generate(ImageRequest(prompt, seed=SEED + index), on_progress=_progress)
        out.append((image.data, prompt, (time.perf_counter() - started) * 1000))
        made[prompt] = image.data
    for prompt, instruction in EDITS:
        request = ImageRequest(
            instruction,
            kind=GenerationKind.EDIT,
            reference_images=(made[prompt],),
            source_prompt=prompt,
            seed=1,
        )
        started = time.perf_counter()
        [image] = await provider.generate(request, on_progress=_progress)
        out.append((image.data, f"{prompt} + edit: {instruction}", (time.perf_counter() - started) * 1000))
    return out


def sheet(size: int = 320) -> PILImage.Image:
    """The contact sheet, ``size`` pixels a tile."""
    tiles = asyncio.run(_tiles(size))
    rows = (len(tiles) + COLUMNS - 1) // COLUMNS
    pad = 6
    out = PILImage.new(
        "RGB", (COLUMNS * (size + pad) + pad, rows * (size + _LABEL + pad) + pad), (28, 28, 32)
    )
    draw = ImageDraw.Draw(out)
    font = _font(12)
    for k, (data, caption, ms) in enumerate(tiles):
        x = pad + (k % COLUMNS) * (size + pad)
        y = pad + (k // COLUMNS) * (size + _LABEL + pad)
        with PILImage.open(io.BytesIO(data)) as tile:
            out.paste(tile.convert("RGB"), (x, y))
        lines = _two_lines(caption, font, size)
        for i, line in enumerate(lines):
            draw.text((x + 2, y + size + 3 + i * 14), line, fill=(236, 236, 240), font=font)
        draw.text((x + size - 2, y + size - 4), f"{ms:.0f} ms", fill=(255, 255, 255), font=font, anchor="rb")
    return out


def _two_lines(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) > width - 4 and current:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    return lines[:2]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError):
        return ImageFont.load_default()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.renderer_sheet")
    parser.add_argument("output", nargs="?", default="/tmp/renderer_sheet.png", type=Path)
    parser.add_argument("--size", type=int, default=320, help="pixels a tile (64-1024)")
    args = parser.parse_args()
    path: Path = args.output
    if path.is_dir():
        path = path / "renderer_sheet.png"
    sheet(max(64, min(1024, args.size))).save(path)
    print(path)


if __name__ == "__main__":
    main()
