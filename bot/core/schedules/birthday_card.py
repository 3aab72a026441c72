"""The greeting on a birthday card, drawn by Pillow with the bundled DejaVu Sans Bold, so a name is
always spelled right whatever the image model does with text.

Legible on any picture: white letters with a dark outline and a soft shadow, the size fitted to the
image, long names wrapped onto several lines. DejaVu covers Latin, Greek, Cyrillic, Arabic, Hebrew,
Armenian, Georgian and more; a character it lacks is drawn as a box rather than failing the card.
CPU-bound: run :func:`compose_greeting` in a thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bot.core.imaging import encode_png, open_image
from bot.core.types import Image as Image_

FONT_PATH = Path(__file__).resolve().parents[2] / "assets" / "fonts" / "DejaVuSans-Bold.ttf"
MAX_WIDTH_SHARE = 0.9
MAX_HEIGHT_SHARE = 0.4
MIN_FONT_PX = 10
LINE_SPACING = 1.15
TEXT_FILL = (255, 255, 255, 255)
OUTLINE_FILL = (20, 20, 30, 255)
SHADOW_FILL = (0, 0, 0, 160)


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy word wrap per paragraph; a single word wider than the line is split by characters."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}".strip()
            if font.getlength(candidate) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            for char in word:
                if current and font.getlength(current + char) > max_width:
                    lines.append(current)
                    current = ""
                current += char
        lines.append(current)
    return lines


def layout(text: str, width: int, height: int) -> tuple[int, list[str]]:
    """The largest font size (and its lines) that fits the text in the top band of the image."""
    size = max(MIN_FONT_PX, width // 9)
    while True:
        font = _font(size)
        lines = _wrap(text, font, width * MAX_WIDTH_SHARE)
        block = len(lines) * size * LINE_SPACING
        widest = max(font.getlength(line) for line in lines)
        if size <= MIN_FONT_PX or (block <= height * MAX_HEIGHT_SHARE and widest <= width * MAX_WIDTH_SHARE):
            return size, lines
        size = max(MIN_FONT_PX, int(size * 0.9))


def text_box(text: str, width: int, height: int) -> tuple[int, int, int, int]:
    """Where the greeting goes (left, top, right, bottom): tests look there for drawn pixels."""
    size, lines = layout(text, width, height)
    block = int(len(lines) * size * LINE_SPACING)
    top = max(0, int(height * 0.05))
    return int(width * (1 - MAX_WIDTH_SHARE) / 2), top, int(width * (1 + MAX_WIDTH_SHARE) / 2), top + block


def compose_greeting(data: bytes, text: str) -> bytes:
    """The image with ``text`` drawn across its top, as PNG bytes."""
    base = open_image(data).convert("RGBA")
    size, lines = layout(text, base.width, base.height)
    font = _font(size)
    stroke = max(1, size // 12)
    shadow = Image.new("RGBA", base.size, (0, 0, 0, 0))
    letters = Image.new("RGBA", base.size, (0, 0, 0, 0))
    shadow_draw, draw = ImageDraw.Draw(shadow), ImageDraw.Draw(letters)
    top = max(0, int(base.height * 0.05))
    offset = max(1, size // 15)
    for index, line in enumerate(lines):
        x = (base.width - font.getlength(line)) / 2
        y = top + index * size * LINE_SPACING
        shadow_draw.text((x + offset, y + offset), line, font=font, fill=SHADOW_FILL, stroke_width=stroke)
        draw.text((x, y), line, font=font, fill=TEXT_FILL, stroke_width=stroke, stroke_fill=OUTLINE_FILL)
    shadow = shadow.filter(ImageFilter.GaussianBlur(max(1, size // 20)))
    card = Image.alpha_composite(Image.alpha_composite(base, shadow), letters)
    return encode_png(card.convert("RGB"))


async def overlay_images(images: Sequence[Image_], overlay: Mapping[str, Any] | None) -> list[Image_]:
    """The job's images with the payload's ``overlay`` (``{"text": ...}``) drawn on, in a thread.
    Part of job execution, so a card interrupted by a restart is still composed when it resumes."""
    text = str((overlay or {}).get("text") or "")
    if not text:
        return list(images)
    out: list[Image_] = []
    for image in images:
        data = await asyncio.to_thread(compose_greeting, image.data, text)
        out.append(dataclasses.replace(image, data=data, mime="image/png"))
    return out
