"""Style words as rendering: post-filters over the finished picture (pixel art, sketch, oil painting,
low poly) and touch-ups of each motif's layer (a neon outline glow, a watercolour wash).

Deterministic: any randomness comes from the caller's ``random.Random``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from bot.providers.builtin.palette import RGB

_PAPER = (248, 244, 234)
LayerTouch = Callable[[Image.Image], Image.Image]


def finish(img: Image.Image, style: str, rng: random.Random) -> Image.Image:
    """``img`` in ``style`` (plain, watercolor and neon are drawn that way already: unchanged)."""
    match style:
        case "pixel":
            return pixel_art(img)
        case "sketch":
            return sketch(img)
        case "oil":
            return oil(img, rng)
        case _:  # low poly is applied to the background only (see render_description)
            return img


def pixel_art(img: Image.Image) -> Image.Image:
    """Big square pixels (about 80 across) in a 24-colour palette."""
    w, h = img.size
    cell = max(3, round(max(w, h) / 80))
    small = img.resize((max(1, w // cell), max(1, h // cell)), Image.Resampling.BOX)
    small = small.quantize(24, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).convert("RGB")
    return (
        small.resize((small.width * cell, small.height * cell), Image.Resampling.NEAREST)
        .crop((0, 0, w, h))
        .resize((w, h), Image.Resampling.NEAREST)
    )


def sketch(img: Image.Image) -> Image.Image:
    """Pencil lines on paper with a faint wash of the original colours."""
    grey = ImageOps.grayscale(img)
    soft = grey.filter(ImageFilter.GaussianBlur(max(1.0, img.width / 300)))
    edges = soft.filter(ImageFilter.FIND_EDGES).point(lambda v: 255 - min(255, max(0, v - 3) * 8))
    hatch = ImageOps.autocontrast(soft).point(lambda v: 255 - (255 - v) // 3)
    pencil = ImageChops.multiply(edges, hatch)
    paper = Image.new("RGB", img.size, _PAPER)
    wash = Image.blend(paper, img, 0.3)
    return ImageChops.multiply(wash, Image.merge("RGB", (pencil, pencil, pencil)))


def oil(img: Image.Image, rng: random.Random) -> Image.Image:
    """Flattened colour patches (a mode filter at quarter size), brush texture, a little more colour."""
    w, h = img.size
    small = img.resize((max(1, w // 4), max(1, h // 4)), Image.Resampling.BOX).filter(
        ImageFilter.ModeFilter(3)
    )
    up = small.resize((w, h), Image.Resampling.BICUBIC)
    sw, sh = max(1, w // 6), max(1, h // 6)
    strokes = Image.frombytes("L", (sw, sh), rng.randbytes(sw * sh)).resize((w, max(1, h // 3)))
    relief = strokes.resize((w, h), Image.Resampling.BICUBIC).filter(ImageFilter.EMBOSS)
    relief = relief.point(lambda v: 128 + (v - 128) // 2)
    textured = ImageChops.add(up, Image.merge("RGB", (relief, relief, relief)), 1.0, -128)
    return ImageEnhance.Color(textured).enhance(1.2)


def low_poly(img: Image.Image, rng: random.Random) -> Image.Image:
    """A mesh of jittered triangles, each filled with the colour at its centre."""
    w, h = img.size
    cols = 36
    rows = max(2, round(cols * h / w))
    cw, ch = w / cols, h / rows
    grid = [
        [
            (
                min(w, max(0.0, c * cw + (rng.uniform(-0.38, 0.38) * cw if 0 < c < cols else 0))),
                min(h, max(0.0, r * ch + (rng.uniform(-0.38, 0.38) * ch if 0 < r < rows else 0))),
            )
            for c in range(cols + 1)
        ]
        for r in range(rows + 1)
    ]
    small = img.resize((cols * 4, rows * 4), Image.Resampling.BOX)
    out = Image.new("RGB", img.size)
    draw = ImageDraw.Draw(out)
    for r in range(rows):
        for c in range(cols):
            a, b, cc, d = grid[r][c], grid[r][c + 1], grid[r + 1][c + 1], grid[r + 1][c]
            tris = ((a, b, cc), (a, cc, d)) if (r + c) % 2 else ((a, b, d), (b, cc, d))
            for tri in tris:
                mx, my = sum(p[0] for p in tri) / 3, sum(p[1] for p in tri) / 3
                colour = small.getpixel(
                    (
                        min(small.width - 1, int(mx / w * small.width)),
                        min(small.height - 1, int(my / h * small.height)),
                    )
                )
                assert isinstance(colour, tuple)
                shade = 1.0 + 0.06 * ((tri[0][1] - tri[1][1]) / ch)
                fill: RGB = (
                    max(0, min(255, round(colour[0] * shade))),
                    max(0, min(255, round(colour[1] * shade))),
                    max(0, min(255, round(colour[2] * shade))),
                )
                draw.polygon(tri, fill=fill, outline=fill)
    return out


# ----------------------------------------------------------------------------- motif touch-ups


def neon_layer(colour: RGB) -> LayerTouch:
    """A motif layer turned into a glowing outline of ``colour`` over a dark fill."""

    def touch(layer: Image.Image) -> Image.Image:
        alpha = layer.getchannel("A")
        edge = ImageChops.subtract(alpha, alpha.filter(ImageFilter.MinFilter(5)))
        glow = edge.filter(ImageFilter.GaussianBlur(max(2.0, layer.width / 60))).point(
            lambda v: min(255, v * 3)
        )
        dark = Image.blend(layer.convert("RGB"), Image.new("RGB", layer.size, (20, 8, 40)), 0.55)
        out = Image.new("RGBA", layer.size, (0, 0, 0, 0))
        out.paste(dark, (0, 0), alpha)
        lit = Image.new("RGBA", layer.size, (*colour, 255))
        out = Image.composite(lit, out, ImageChops.lighter(edge, glow))
        out.putalpha(ImageChops.lighter(alpha, glow))
        return out

    return touch


def watercolor_layer(layer: Image.Image) -> Image.Image:
    """Soft edges with pigment pooling along them, and a slightly lighter wash inside."""
    alpha = layer.getchannel("A").filter(ImageFilter.GaussianBlur(max(1.0, layer.width / 250)))
    rgb = layer.convert("RGB")
    edge = ImageChops.subtract(alpha, alpha.filter(ImageFilter.MinFilter(5)))
    washed = Image.blend(rgb, Image.new("RGB", layer.size, _PAPER), 0.18)
    pooled = Image.composite(ImageChops.multiply(rgb, rgb), washed, edge.point(lambda v: min(255, v * 2)))
    pooled.putalpha(alpha.point(lambda v: round(v * 0.92)))
    return pooled
