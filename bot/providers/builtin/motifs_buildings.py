"""Buildings: a house, a castle, a lighthouse, a tower, a windmill, a pyramid, a bridge, a tent.

Each stands on y = 0 of the motif frame. Windows glow when ``pose.sitting`` is set (used for night).
"""

from __future__ import annotations

import math

from bot.providers.builtin.palette import mix
from bot.providers.builtin.pen import Look, Pen, Pose

_GLASS = (150, 196, 230)
_LIT = (255, 214, 120)
_ROOF = (186, 70, 56)


def _window(pen: Pen, x: float, y: float, w: float, h: float, pose: Pose) -> None:
    pen.rect(x, y, x + w, y + h, _LIT if pose.sitting else _GLASS)
    pen.line([(x + w / 2, y), (x + w / 2, y + h)], w * 0.12, (250, 246, 240))


def house(pen: Pen, look: Look, pose: Pose) -> None:
    """A cottage: walls, a pitched roof, a chimney, a door and two windows."""
    wall, roof = look.main, look.accent if look.accent != look.main else _ROOF
    pen.ellipse(0, 0, 0.85, 0.06, (0, 0, 0), 50)
    pen.rect(0.28, 0.75, 0.42, 1.08, mix(roof, (40, 30, 30), 0.3))
    pen.rect(-0.6, 0, 0.6, 0.7, wall)
    pen.rect(-0.6, 0, -0.45, 0.7, mix(wall, (0, 0, 0), 0.12))
    pen.poly([(-0.75, 0.66), (0.0, 1.18), (0.75, 0.66)], roof)
    pen.rounded(-0.12, 0.0, 0.12, 0.42, 0.1, mix(roof, (60, 30, 20), 0.5))
    _window(pen, -0.45, 0.3, 0.22, 0.2, pose)
    _window(pen, 0.23, 0.3, 0.22, 0.2, pose)


def castle(pen: Pen, look: Look, pose: Pose) -> None:
    """Towers with battlements and pointed roofs, a gate, flags."""
    stone, dark = look.main, look.dark
    roof = look.accent if look.accent != look.main else (80, 90, 170)
    pen.rect(-0.7, 0, 0.7, 0.75, stone)
    for i in range(8):
        x = -0.7 + i * 0.2
        pen.rect(x, 0.75, x + 0.12, 0.85, stone)
    for cx, hgt in ((-0.75, 1.25), (0.75, 1.25), (0.0, 1.6)):
        w = 0.2 if cx else 0.24
        pen.rect(cx - w, 0, cx + w, hgt, mix(stone, (255, 255, 255), 0.08))
        pen.poly([(cx - w - 0.05, hgt), (cx, hgt + 0.45), (cx + w + 0.05, hgt)], roof)
        pen.line([(cx, hgt + 0.45), (cx, hgt + 0.65)], 0.02, dark)
        pen.poly([(cx, hgt + 0.65), (cx + 0.16, hgt + 0.6), (cx, hgt + 0.55)], (220, 50, 60))
        _window(pen, cx - 0.05, hgt - 0.35, 0.1, 0.16, pose)
    pen.rounded(-0.16, 0, 0.16, 0.42, 0.15, mix(dark, (60, 40, 30), 0.4))


def lighthouse(pen: Pen, look: Look, pose: Pose) -> None:
    """A striped tapering tower on rocks, a lantern room and a beam of light."""
    red = look.main
    pen.poly([(-0.6, 0), (-0.45, 0.16), (0.0, 0.22), (0.5, 0.14), (0.65, 0)], (96, 96, 108))
    pen.poly([(-0.4, 0.1), (-0.2, 0.2), (0.3, 0.18), (0.45, 0.05)], (120, 120, 134))
    base, top = (0.28, 0.18), (0.17, 1.55)
    bands = 5
    for i in range(bands):
        y0 = base[1] + (top[1] - base[1]) * i / bands
        y1 = base[1] + (top[1] - base[1]) * (i + 1) / bands
        w0 = base[0] + (top[0] - base[0]) * i / bands
        w1 = base[0] + (top[0] - base[0]) * (i + 1) / bands
        pen.poly([(-w0, y0), (w0, y0), (w1, y1), (-w1, y1)], red if i % 2 == 0 else (246, 244, 240))
    beam = (255, 240, 170)
    pen.poly([(0.05, 1.72), (1.6, 1.95 + 0.2 * pose.lean), (1.6, 1.5 + 0.2 * pose.lean)], beam, 90)
    pen.rect(-0.24, 1.55, 0.24, 1.6, (40, 40, 50))
    pen.rect(-0.14, 1.6, 0.14, 1.84, (255, 226, 120))
    pen.line([(0, 1.6), (0, 1.84)], 0.03, (40, 40, 50))
    pen.poly([(-0.2, 1.84), (0.0, 2.05), (0.2, 1.84)], (40, 40, 50))
    pen.rounded(-0.05, 0.3, 0.05, 0.5, 0.05, (60, 60, 70))


def tower(pen: Pen, look: Look, pose: Pose) -> None:
    """A skyscraper with a spire and rows of windows."""
    body = look.main
    pen.rect(-0.32, 0, 0.32, 1.9, body)
    pen.rect(0.12, 0, 0.32, 1.9, mix(body, (0, 0, 0), 0.18))
    pen.rect(-0.2, 1.9, 0.2, 2.15, body)
    pen.line([(0, 2.15), (0, 2.5)], 0.03, look.dark)
    for row in range(11):
        for col in range(3):
            lit = pose.sitting and (row * 3 + col) % 3 != 0
            x = -0.25 + col * 0.18
            pen.rect(x, 0.15 + row * 0.16, x + 0.1, 0.25 + row * 0.16, _LIT if lit else _GLASS)


def windmill(pen: Pen, look: Look, pose: Pose) -> None:
    """A windmill with four sails turned by the pose."""
    wall = look.main
    pen.poly([(-0.34, 0), (0.34, 0), (0.2, 1.1), (-0.2, 1.1)], wall)
    pen.poly([(-0.26, 1.1), (0.26, 1.1), (0.0, 1.4)], _ROOF)
    pen.rounded(-0.1, 0, 0.1, 0.3, 0.1, (110, 70, 40))
    _window(pen, -0.07, 0.6, 0.14, 0.16, pose)
    hub = (0.0, 1.15)
    for k in range(4):
        a = math.radians(45 * pose.lean + 90 * k + 20)
        tip = (hub[0] + 0.85 * math.cos(a), hub[1] + 0.85 * math.sin(a))
        side = (math.cos(a + 1.57) * 0.12, math.sin(a + 1.57) * 0.12)
        mid = (hub[0] + 0.2 * math.cos(a), hub[1] + 0.2 * math.sin(a))
        pen.poly([mid, tip, (tip[0] + side[0], tip[1] + side[1]), (mid[0] + side[0], mid[1] + side[1])],
                 (250, 246, 236))  # fmt: skip
        pen.line([hub, tip], 0.025, (110, 70, 40))
    pen.circle(hub[0], hub[1], 0.05, (60, 50, 40))


def pyramid(pen: Pen, look: Look, pose: Pose) -> None:
    """Two pyramids, lit on one side."""
    sand = look.main
    pen.poly([(-1.3, 0), (-0.7, 0.6), (-0.1, 0)], mix(sand, (0, 0, 0), 0.1))
    pen.poly([(-0.7, 0.6), (-0.1, 0), (-0.45, 0)], mix(sand, (0, 0, 0), 0.3))
    pen.poly([(-0.9, 0), (0.0, 1.0), (0.9, 0)], sand)
    pen.poly([(0.0, 1.0), (0.9, 0), (0.3, 0)], mix(sand, (0, 0, 0), 0.25))


def bridge(pen: Pen, look: Look, pose: Pose) -> None:
    """A stone arch bridge."""
    stone = look.main
    pen.rect(-1.4, 0.45, 1.4, 0.62, stone)
    for cx in (-0.75, 0.0, 0.75):
        pen.poly([(cx - 0.38, 0.45), (cx - 0.38, 0.0), (cx - 0.3, 0.0), *pen.arc_points(cx, 0.05, 0.3,
            0.32, 180, 0),
                  (cx + 0.38, 0.0), (cx + 0.38, 0.45)], stone)  # fmt: skip
    for i in range(15):
        x = -1.4 + i * 0.2
        pen.rect(x, 0.62, x + 0.1, 0.72, stone)


def tent(pen: Pen, look: Look, pose: Pose) -> None:
    """A camping tent with its door open."""
    cloth = look.main
    pen.ellipse(0, 0, 0.8, 0.05, (0, 0, 0), 50)
    pen.poly([(-0.75, 0), (0.0, 0.8), (0.75, 0)], cloth)
    pen.poly([(-0.2, 0), (0.0, 0.55), (0.2, 0)], (50, 40, 44))
    pen.poly([(0.0, 0.8), (0.75, 0), (0.35, 0)], mix(cloth, (0, 0, 0), 0.2))
