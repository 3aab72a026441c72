"""Drawing a motif in its own units: the :class:`Pen`, a motif's colours (:class:`Look`), its pose.

A motif is drawn in a frame where x runs right from its centre line, y runs *up* from the ground point,
and one unit is ``unit`` pixels. :func:`stamp` gives each motif its own small RGBA layer (only its
bounding box, drawn at 2x and reduced: anti-aliased and cheap), lets the style touch it up, and pastes it.
Nothing here is random: the pose comes from the caller's ``random.Random``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bot.providers.builtin.palette import RGB, mix

SUPERSAMPLE = 2
Extent = tuple[float, float, float, float]
"""A motif's reach in units: left, right, bottom, top (x to the right, y up)."""
LayerFn = Callable[[Image.Image], Image.Image]
"""Touches up a motif's finished RGBA layer (the neon and watercolour styles)."""


@dataclass(frozen=True, slots=True)
class Look:
    """A motif's colours: its main colour, a lighter one (belly, highlights), a dark one (details)."""

    main: RGB
    light: RGB
    dark: RGB
    accent: RGB

    @staticmethod
    def of(main: RGB, accent: RGB | None = None, *, light: RGB | None = None) -> Look:
        return Look(
            main=main,
            light=light if light is not None else mix(main, (255, 255, 255), 0.55),
            dark=mix(main, (20, 16, 24), 0.65),
            accent=accent if accent is not None else mix(main, (255, 255, 255), 0.8),
        )


@dataclass(frozen=True, slots=True)
class Pose:
    """Small seeded differences between two drawings of the same motif (all in [-1, 1] or flags)."""

    lean: float = 0.0
    tail: float = 0.0
    head: float = 0.0
    sitting: bool = False
    open_wings: float = 1.0


class Pen:
    """Polygons, ellipses and lines in motif units on an RGBA drawing (``flip`` mirrors left-right)."""

    def __init__(
        self,
        draw: ImageDraw.ImageDraw,
        origin: tuple[float, float],
        unit: float,
        *,
        flip: bool = False,
        shade: Callable[[RGB], RGB] | None = None,
    ) -> None:
        self._draw = draw
        self._ox, self._oy = origin
        self.unit = unit
        self._sign = -1.0 if flip else 1.0
        self._shade = shade or (lambda c: c)

    def pt(self, x: float, y: float) -> tuple[float, float]:
        return self._ox + self._sign * x * self.unit, self._oy - y * self.unit

    def _fill(self, colour: RGB, alpha: int) -> tuple[int, int, int, int]:
        r, g, b = self._shade(colour)
        return r, g, b, alpha

    def poly(self, points: Sequence[tuple[float, float]], colour: RGB, alpha: int = 255) -> None:
        self._draw.polygon([self.pt(x, y) for x, y in points], fill=self._fill(colour, alpha))

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, colour: RGB, alpha: int = 255) -> None:
        (x0, y0), (x1, y1) = self.pt(cx - rx, cy + ry), self.pt(cx + rx, cy - ry)
        self._draw.ellipse(
            (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), fill=self._fill(colour, alpha)
        )

    def circle(self, cx: float, cy: float, r: float, colour: RGB, alpha: int = 255) -> None:
        self.ellipse(cx, cy, r, r, colour, alpha)

    def rect(self, x0: float, y0: float, x1: float, y1: float, colour: RGB, alpha: int = 255) -> None:
        self.poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], colour, alpha)

    def rounded(self, x0: float, y0: float, x1: float, y1: float, r: float, colour: RGB) -> None:
        (ax, ay), (bx, by) = self.pt(x0, y1), self.pt(x1, y0)
        box = (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))
        radius = max(0.0, min(r * self.unit, (box[2] - box[0]) / 2, (box[3] - box[1]) / 2))
        self._draw.rounded_rectangle(box, radius, fill=self._fill(colour, 255))

    def line(
        self, points: Sequence[tuple[float, float]], width: float, colour: RGB, alpha: int = 255
    ) -> None:
        w = max(1, round(width * self.unit))
        self._draw.line(
            [self.pt(x, y) for x, y in points], fill=self._fill(colour, alpha), width=w, joint="curve"
        )
        for x, y in (points[0], points[-1]):  # round caps
            self.circle(x, y, width / 2, colour, alpha)

    def arc_points(
        self, cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int = 16
    ) -> list[tuple[float, float]]:
        """Points along an elliptical arc, angles in degrees counter-clockwise from +x."""
        out = []
        for i in range(steps + 1):
            a = math.radians(start + (end - start) * i / steps)
            out.append((cx + rx * math.cos(a), cy + ry * math.sin(a)))
        return out


DrawMotif = Callable[[Pen, Look, Pose], None]


def stamp(
    img: Image.Image,
    draw_fn: DrawMotif,
    extent: Extent,
    ground: tuple[float, float],
    unit: float,
    look: Look,
    pose: Pose,
    *,
    flip: bool = False,
    shade: Callable[[RGB], RGB] | None = None,
    touch_up: LayerFn | None = None,
    pad: int = 2,
) -> tuple[int, int, int, int] | None:
    """Draw one motif with its ground point at ``ground`` (pixels); the pixel box it covers, or None."""
    left, right, bottom, top = extent
    if flip:
        left, right = -right, -left
    x0 = math.floor(ground[0] + left * unit) - pad
    x1 = math.ceil(ground[0] + right * unit) + pad
    y0 = math.floor(ground[1] - top * unit) - pad
    y1 = math.ceil(ground[1] - bottom * unit) + pad
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(img.width, x1), min(img.height, y1)
    if cx1 - cx0 < 2 or cy1 - cy0 < 2:
        return None
    k = SUPERSAMPLE
    layer = Image.new("RGBA", ((cx1 - cx0) * k, (cy1 - cy0) * k), (0, 0, 0, 0))
    pen = Pen(
        ImageDraw.Draw(layer),
        ((ground[0] - cx0) * k, (ground[1] - cy0) * k),
        unit * k,
        flip=flip,
        shade=shade,
    )
    draw_fn(pen, look, pose)
    small = layer.reduce(k)
    if touch_up is not None:
        small = touch_up(small)
    img.paste(small.convert("RGB"), (cx0, cy0), small.getchannel("A"))
    return cx0, cy0, cx1, cy1
