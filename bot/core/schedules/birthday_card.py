"""The greeting on a birthday card, drawn by Pillow with the bundled DejaVu Sans Bold, so a name is
always spelled right whatever the image model does with text.

Legible on any picture: dark letters with a light outline on a rounded, nearly opaque cream panel
with a soft shadow, across the top of the image. The first paragraph (the greeting and the name) is
wrapped at spaces only, never inside a word: the size shrinks until every word fits the line and the
block fits the band, so a long name gets smaller rather than broken; later paragraphs (the age line)
are smaller. Only a word too long to fit even at the smallest size is cut, as a last resort. DejaVu
covers Latin, Greek, Cyrillic, Arabic, Hebrew, Armenian, Georgian and more; a character it lacks is
drawn as a box rather than failing the card. CPU-bound: run :func:`compose_greeting` in a thread.
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
"""The panel's width at most, as a share of the image width (the text is a little narrower)."""
TEXT_WIDTH_SHARE = 0.82
MAX_HEIGHT_SHARE = 0.4
MIN_FONT_PX = 10
LINE_SPACING = 1.15
SMALL_SHARE = 0.6
"""The age line's size, as a share of the greeting's."""
TEXT_FILL = (72, 28, 84, 255)
OUTLINE_FILL = (255, 255, 255, 255)
PANEL_FILL = (255, 250, 240, 226)
ACCENT_FILL = (214, 60, 110, 255)
SHADOW_FILL = (0, 0, 0, 90)


@dataclasses.dataclass(frozen=True, slots=True)
class Layout:
    """Where the greeting goes: each line with its font size, and the panel around them."""

    lines: tuple[tuple[str, int], ...]
    box: tuple[int, int, int, int]
    pad: int

    @property
    def size(self) -> int:
        return self.lines[0][1] if self.lines else MIN_FONT_PX


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size)


def wrap_words(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str] | None:
    """Greedy wrap at spaces; None when a single word is wider than ``max_width`` (never split)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if font.getlength(word) > max_width:
            return None
        candidate = f"{current} {word}".strip()
        if current and font.getlength(candidate) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    return lines


def _split_long(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """The last resort, at the smallest size only: words too long for a line are cut by characters."""
    lines: list[str] = []
    for word in text.split():
        current = ""
        for char in word:
            if current and font.getlength(current + char) > max_width:
                lines.append(current)
                current = ""
            current += char
        lines.append(current)
    return lines or [""]


def layout(text: str, width: int, height: int) -> Layout:
    """The largest size at which the greeting fits the top band of a ``width`` x ``height`` image."""
    paragraphs = [p.strip() for p in text.splitlines() if p.strip()] or [""]
    max_width = width * TEXT_WIDTH_SHARE
    fits: list[tuple[int, list[tuple[str, int]]]] = []
    size = max(MIN_FONT_PX, width // 9)
    while True:  # every size that fits, largest first
        lines = _lines_at(paragraphs, size, max_width)
        if lines is not None and sum(round(s * LINE_SPACING) for _, s in lines) <= height * MAX_HEIGHT_SHARE:
            fits.append((size, lines))
        if size <= MIN_FONT_PX:
            break
        size = max(MIN_FONT_PX, int(size * 0.92))
    if fits:  # big, but not at the price of extra breaks: each line more than the fewest costs 30%
        fewest = min(len(lines) for _, lines in fits)
        size, lines = max(fits, key=lambda fit: fit[0] * 0.7 ** (len(fit[1]) - fewest))
    else:
        size, lines = MIN_FONT_PX, _forced(paragraphs, MIN_FONT_PX, max_width)
    widest = max(_font(s).getlength(line) for line, s in lines)
    pad = max(4, size // 3)
    block = sum(round(s * LINE_SPACING) for _, s in lines)
    panel_w = min(int(width * MAX_WIDTH_SHARE), int(widest) + 2 * pad)
    top = max(0, int(height * 0.05))
    left = (width - panel_w) // 2
    return Layout(tuple(lines), (left, top, left + panel_w, top + block + 2 * pad), pad)


def _lines_at(paragraphs: list[str], size: int, max_width: float) -> list[tuple[str, int]] | None:
    """The lines at ``size``; the greeting breaks after its first comma ("Happy birthday," / "Ana!")."""
    out: list[tuple[str, int]] = []
    for index, paragraph in enumerate(paragraphs):
        s = size if index == 0 else max(MIN_FONT_PX, round(size * SMALL_SHARE))
        head, comma, tail = paragraph.partition(", ")
        parts = [head + ",", tail] if index == 0 and comma and tail else [paragraph]
        for part in parts:
            wrapped = wrap_words(part, _font(s), max_width)
            if wrapped is None:
                return None
            out += [(line, s) for line in wrapped]
    return out


def _forced(paragraphs: list[str], size: int, max_width: float) -> list[tuple[str, int]]:
    return [(line, size) for p in paragraphs for line in _split_long(p, _font(size), max_width)]


def text_box(text: str, width: int, height: int) -> tuple[int, int, int, int]:
    """Where the greeting's panel goes (left, top, right, bottom): tests look there for drawn pixels."""
    return layout(text, width, height).box


def compose_greeting(data: bytes, text: str) -> bytes:
    """The image with ``text`` on a panel across its top, as PNG bytes."""
    base = open_image(data).convert("RGBA")
    plan = layout(text, base.width, base.height)
    left, top, right, bottom = plan.box
    radius = max(4, (bottom - top) // 6)
    shadow = Image.new("RGBA", base.size, (0, 0, 0, 0))
    offset = max(2, plan.size // 10)
    ImageDraw.Draw(shadow).rounded_rectangle(
        (left + offset, top + offset, right + offset, bottom + offset), radius, fill=SHADOW_FILL
    )
    shadow = shadow.filter(ImageFilter.GaussianBlur(max(2, plan.size // 6)))
    card = Image.alpha_composite(base, shadow)
    panel = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(panel)
    draw.rounded_rectangle(plan.box, radius, fill=PANEL_FILL)
    y = top + plan.pad
    for index, (line, size) in enumerate(plan.lines):
        font = _font(size)
        x = (base.width - font.getlength(line)) / 2
        fill = TEXT_FILL if size == plan.size or index == 0 else ACCENT_FILL
        draw.text(
            (x, y), line, font=font, fill=fill, stroke_width=max(1, size // 18), stroke_fill=OUTLINE_FILL
        )
        y += round(size * LINE_SPACING)
    card = Image.alpha_composite(card, panel)
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
