"""Food and objects: a cake with candles, a cupcake, a cup, fruit, an ice cream, a pizza, a balloon, a
gift, a heart, a star, an umbrella, a book, a candle. Each stands on y = 0 of the motif frame
(a balloon's string ends there).
"""

from __future__ import annotations

import math

from bot.providers.builtin.palette import mix
from bot.providers.builtin.pen import Look, Pen, Pose

_FLAME = (255, 196, 60)
_CREAM = (252, 246, 236)


def _candle(pen: Pen, x: float, y: float, h: float, colour: tuple[int, int, int]) -> None:
    pen.rect(x - 0.03, y, x + 0.03, y + h, colour)
    pen.ellipse(x, y + h + 0.07, 0.035, 0.07, _FLAME)
    pen.ellipse(x, y + h + 0.055, 0.015, 0.035, (255, 250, 210))


def cake(pen: Pen, look: Look, pose: Pose) -> None:
    """A two-tier cake on a plate, icing drips, candles on top."""
    sponge, icing = look.main, _CREAM if look.main != _CREAM else (246, 170, 190)
    pen.ellipse(0, 0.03, 0.78, 0.08, (236, 236, 244))
    pen.rect(-0.62, 0.05, 0.62, 0.5, sponge)
    pen.rect(-0.62, 0.42, 0.62, 0.52, icing)
    for i in range(7):
        x = -0.55 + i * 0.18
        pen.ellipse(x, 0.42, 0.06, 0.08 + 0.03 * (i % 2), icing)
    pen.rect(-0.42, 0.52, 0.42, 0.85, mix(sponge, (255, 255, 255), 0.15))
    pen.rect(-0.42, 0.78, 0.42, 0.87, icing)
    for i in range(5):
        pen.ellipse(-0.35 + i * 0.17, 0.78, 0.05, 0.07, icing)
    for i in range(8):
        pen.circle(-0.5 + i * 0.14, 0.22, 0.03, look.accent if i % 2 else (255, 220, 80))
    colours = ((240, 90, 150), (80, 170, 240), (250, 210, 70), (120, 210, 130))
    count = 3 + round(1 + pose.tail)
    for i in range(count):
        x = -0.3 + 0.6 * i / max(1, count - 1)
        _candle(pen, x, 0.87, 0.2, colours[i % 4])


def cupcake(pen: Pen, look: Look, pose: Pose) -> None:
    """A cupcake with a swirl of frosting and a cherry."""
    pen.poly([(-0.3, 0.45), (0.3, 0.45), (0.22, 0.0), (-0.22, 0.0)], look.accent)
    for i in range(5):
        x = -0.2 + i * 0.1
        pen.line([(x, 0.42), (x * 0.75, 0.03)], 0.02, mix(look.accent, (0, 0, 0), 0.2))
    for cy, r in ((0.52, 0.34), (0.7, 0.26), (0.86, 0.16)):
        pen.ellipse(0, cy, r, 0.12, look.main)
    pen.circle(0.02, 1.02, 0.07, (214, 30, 50))


def cup(pen: Pen, look: Look, pose: Pose) -> None:
    """A mug with steam on a saucer."""
    pen.ellipse(0, 0.03, 0.6, 0.07, (236, 236, 244))
    pen.line(pen.arc_points(0.42, 0.4, 0.18, 0.17, -90, 90, 10), 0.08, look.main)
    pen.rounded(-0.4, 0.05, 0.44, 0.72, 0.12, look.main)
    pen.ellipse(0.02, 0.72, 0.42, 0.07, mix(look.main, (0, 0, 0), 0.2))
    pen.ellipse(0.02, 0.72, 0.36, 0.05, (110, 66, 40))
    pen.ellipse(0.02, 0.35, 0.14, 0.13, look.light)
    for dx in (-0.15, 0.05, 0.22):
        pen.line(
            [(dx, 0.85), (dx + 0.06, 1.0), (dx - 0.02, 1.15), (dx + 0.04, 1.3)], 0.035, (250, 250, 250), 150
        )


def fruit(pen: Pen, look: Look, pose: Pose) -> None:
    """An apple (or orange, lemon, peach: the colour says) with a leaf and a highlight."""
    pen.ellipse(0, 0.0, 0.4, 0.04, (0, 0, 0), 50)
    pen.circle(-0.14, 0.38, 0.34, look.main)
    pen.circle(0.14, 0.38, 0.34, look.main)
    pen.ellipse(-0.18, 0.52, 0.08, 0.12, look.light)
    pen.line([(0.0, 0.66), (0.04, 0.86)], 0.04, (110, 70, 40))
    pen.ellipse(0.16, 0.82, 0.14, 0.06, (80, 170, 70))


def ice_cream(pen: Pen, look: Look, pose: Pose) -> None:
    """A cone with two scoops."""
    pen.poly([(-0.22, 0.62), (0.22, 0.62), (0.0, 0.0)], (222, 170, 100))
    for i in range(4):
        pen.line([(-0.2 + i * 0.12, 0.6), (0.05 + i * 0.04, 0.1)], 0.015, (180, 120, 60))
    pen.circle(0.0, 0.72, 0.24, look.main)
    pen.circle(0.03, 1.02, 0.2, look.accent)
    pen.circle(0.08, 1.2, 0.05, (214, 30, 50))


def pizza(pen: Pen, look: Look, pose: Pose) -> None:
    """A whole pizza seen from above and a little in front."""
    pen.ellipse(0, 0.3, 0.8, 0.3, (214, 150, 80))
    pen.ellipse(0, 0.31, 0.7, 0.25, (236, 90, 50))
    pen.ellipse(0, 0.32, 0.64, 0.22, (250, 214, 110))
    for cx, cy in ((-0.35, 0.3), (0.0, 0.42), (0.3, 0.25), (0.1, 0.18), (-0.15, 0.22), (0.4, 0.4)):
        pen.ellipse(cx, cy, 0.07, 0.04, (190, 40, 40))


def balloon(pen: Pen, look: Look, pose: Pose) -> None:
    """A balloon on a wavy string (the string's end is the ground point)."""
    sway = 0.4 * pose.lean
    rise = 0.15 * pose.tail
    pen.line([(0, 0), (0.05 + sway * 0.3, 0.3), (-0.03 + sway * 0.7, 0.6 + rise), (sway, 0.85 + rise)], 0.012,
             (90, 90, 100))  # fmt: skip
    _balloon_top(pen, look, sway, rise)


def _balloon_top(pen: Pen, look: Look, sway: float, rise: float) -> None:
    pen.poly([(sway - 0.05, 0.86 + rise), (sway + 0.05, 0.86 + rise), (sway, 0.92 + rise)], look.main)
    pen.ellipse(sway, 1.2 + rise, 0.26, 0.32, look.main)
    pen.ellipse(sway - 0.1, 1.32 + rise, 0.05, 0.09, mix(look.main, (255, 255, 255), 0.6))


def gift(pen: Pen, look: Look, pose: Pose) -> None:
    """A wrapped present with a ribbon and a bow."""
    box, ribbon = look.main, look.accent if look.accent != look.main else (250, 220, 80)
    pen.ellipse(0, 0, 0.45, 0.04, (0, 0, 0), 50)
    pen.rect(-0.38, 0, 0.38, 0.55, box)
    pen.rect(-0.43, 0.55, 0.43, 0.7, mix(box, (255, 255, 255), 0.15))
    pen.rect(-0.06, 0, 0.06, 0.7, ribbon)
    pen.poly([(0, 0.72), (-0.28, 0.9), (-0.22, 0.68)], ribbon)
    pen.poly([(0, 0.72), (0.28, 0.9), (0.22, 0.68)], ribbon)


def heart(pen: Pen, look: Look, pose: Pose) -> None:
    """A heart (floats)."""
    pen.circle(-0.2, 0.7, 0.24, look.main)
    pen.circle(0.2, 0.7, 0.24, look.main)
    pen.poly([(-0.43, 0.63), (0.43, 0.63), (0.0, 0.12)], look.main)
    pen.ellipse(-0.25, 0.78, 0.07, 0.05, look.light)


def star(pen: Pen, look: Look, pose: Pose) -> None:
    """A five-pointed star (floats)."""
    pts = []
    for k in range(10):
        a = math.pi / 2 + k * math.pi / 5
        r = 0.5 if k % 2 == 0 else 0.21
        pts.append((r * math.cos(a), 0.5 + r * math.sin(a)))
    pen.poly(pts, look.main)


def umbrella(pen: Pen, look: Look, pose: Pose) -> None:
    """An open umbrella with a hooked handle."""
    pen.line([(0, 0.95), (0, 0.15)], 0.03, (60, 50, 50))
    pen.line(pen.arc_points(-0.08, 0.15, 0.08, 0.08, 0, -180, 8), 0.03, (60, 50, 50))
    canopy = pen.arc_points(0, 0.95, 0.6, 0.45, 0, 180, 20)
    pen.poly(canopy, look.main)
    for i in range(4):
        x = -0.6 + i * 0.3
        pen.ellipse(x + 0.15, 0.95, 0.15, 0.06, mix(look.main, (0, 0, 0), 0.2))


def book(pen: Pen, look: Look, pose: Pose) -> None:
    """An open book."""
    pen.poly([(-0.7, 0.1), (0.0, 0.0), (0.0, 0.5), (-0.7, 0.6)], look.main)
    pen.poly([(0.7, 0.1), (0.0, 0.0), (0.0, 0.5), (0.7, 0.6)], look.main)
    pen.poly([(-0.64, 0.16), (0.0, 0.07), (0.0, 0.52), (-0.64, 0.6)], _CREAM)
    pen.poly([(0.64, 0.16), (0.0, 0.07), (0.0, 0.52), (0.64, 0.6)], (246, 240, 226))
    for i in range(4):
        y = 0.22 + i * 0.08
        pen.line([(-0.55, y + 0.06), (-0.1, y)], 0.015, (150, 150, 160))
        pen.line([(0.55, y + 0.06), (0.1, y)], 0.015, (150, 150, 160))


def candle(pen: Pen, look: Look, pose: Pose) -> None:
    """A single candle in a holder, glowing."""
    pen.circle(0, 0.85, 0.3, (255, 220, 120), 70)
    pen.ellipse(0, 0.04, 0.3, 0.06, (200, 170, 90))
    pen.rect(-0.1, 0.05, 0.1, 0.65, look.main)
    pen.ellipse(0, 0.78, 0.06, 0.13, _FLAME)
    pen.ellipse(0, 0.75, 0.025, 0.06, (255, 250, 210))
