"""Vehicles: a car (or van, bus), a boat (sailing or steaming), a plane, a rocket, a train, a bicycle,
a hot-air balloon. Facing right; ground ones stand on y = 0, flying ones are centred near y = 0.5.
"""

from __future__ import annotations

from bot.providers.builtin.palette import mix
from bot.providers.builtin.pen import Look, Pen, Pose

_GLASS = (170, 210, 236)
_TYRE = (36, 36, 42)
_HUB = (200, 204, 212)


def _wheel(pen: Pen, x: float, r: float) -> None:
    pen.circle(x, r, r, _TYRE)
    pen.circle(x, r, r * 0.45, _HUB)


def car(pen: Pen, look: Look, pose: Pose) -> None:
    """A small rounded car."""
    body = look.main
    pen.ellipse(0, 0, 0.85, 0.05, (0, 0, 0), 60)
    pen.rounded(-0.8, 0.14, 0.82, 0.48, 0.12, body)
    pen.poly([(-0.45, 0.46), (-0.3, 0.78), (0.28, 0.78), (0.52, 0.46)], body)
    pen.poly([(-0.36, 0.48), (-0.25, 0.7), (-0.03, 0.7), (-0.03, 0.48)], _GLASS)
    pen.poly([(0.03, 0.48), (0.03, 0.7), (0.24, 0.7), (0.42, 0.48)], _GLASS)
    pen.rect(0.7, 0.3, 0.82, 0.38, (255, 236, 150))
    pen.rect(-0.8, 0.3, -0.72, 0.38, (230, 60, 60))
    pen.line([(-0.6, 0.3), (0.6, 0.3)], 0.02, look.dark)
    _wheel(pen, -0.48, 0.17)
    _wheel(pen, 0.5, 0.17)


def bus(pen: Pen, look: Look, pose: Pose) -> None:
    """A boxy bus or van with a row of windows."""
    body = look.main
    pen.ellipse(0, 0, 1.05, 0.05, (0, 0, 0), 60)
    pen.rounded(-1.0, 0.14, 1.0, 0.95, 0.1, body)
    for i in range(5):
        x = -0.88 + i * 0.34
        pen.rect(x, 0.55, x + 0.26, 0.82, _GLASS)
    pen.rect(0.84, 0.3, 0.96, 0.82, _GLASS)
    pen.rect(-1.0, 0.3, 1.0, 0.38, mix(body, (255, 255, 255), 0.5))
    _wheel(pen, -0.6, 0.17)
    _wheel(pen, 0.6, 0.17)


def boat(pen: Pen, look: Look, pose: Pose) -> None:
    """A sailing boat riding on its waterline (y = 0.1)."""
    hull = look.main
    pen.poly([(-0.85, 0.3), (0.9, 0.3), (0.6, 0.0), (-0.6, 0.0)], hull)
    pen.rect(-0.85, 0.22, 0.9, 0.3, mix(hull, (255, 255, 255), 0.6))
    pen.line([(0.0, 0.3), (0.0, 1.55)], 0.04, (110, 76, 50))
    sway = 0.08 * pose.lean
    pen.poly([(0.06, 0.42), (0.06, 1.5), (0.75 + sway, 0.42)], (250, 248, 240))
    pen.poly([(-0.06, 0.5), (-0.06, 1.3), (-0.55 + sway, 0.5)], (236, 232, 222))
    pen.poly([(0.0, 1.55), (0.28, 1.48), (0.0, 1.42)], (220, 50, 60))


def ship(pen: Pen, look: Look, pose: Pose) -> None:
    """A steamer: long hull, cabins, two funnels with smoke."""
    hull = look.main
    pen.poly([(-1.2, 0.35), (1.3, 0.35), (1.05, 0.0), (-1.05, 0.0)], hull)
    pen.rect(-1.2, 0.28, 1.3, 0.35, (250, 250, 250))
    pen.rect(-0.7, 0.35, 0.6, 0.65, (246, 244, 238))
    for i in range(6):
        pen.circle(-0.55 + i * 0.22, 0.5, 0.05, (90, 140, 190))
    for x in (-0.3, 0.2):
        pen.rect(x, 0.65, x + 0.18, 1.0, (220, 60, 50))
        pen.rect(x, 0.9, x + 0.18, 1.0, (36, 36, 42))
        pen.circle(x + 0.0, 1.12, 0.1, (220, 220, 226), 200)
        pen.circle(x - 0.15, 1.2, 0.13, (220, 220, 226), 160)


def plane(pen: Pen, look: Look, pose: Pose) -> None:
    """A little plane in the air."""
    body = look.main
    pen.poly([(-0.15, 0.5), (-0.45, 0.05), (-0.25, 0.05), (0.25, 0.5)], mix(body, (0, 0, 0), 0.2))
    pen.poly([(-0.75, 0.55), (-0.9, 0.85), (-0.72, 0.85), (-0.55, 0.58)], body)
    pen.ellipse(0, 0.52, 0.85, 0.13, body)
    pen.ellipse(0.62, 0.56, 0.14, 0.06, _GLASS)
    for i in range(5):
        pen.circle(-0.4 + i * 0.18, 0.54, 0.035, _GLASS)
    pen.poly([(-0.1, 0.52), (-0.35, 0.98), (-0.18, 0.98), (0.25, 0.52)], body)


def rocket(pen: Pen, look: Look, pose: Pose) -> None:
    """A rocket pointing up with a flame below."""
    body = (240, 240, 246)
    fin = look.main
    pen.poly([(-0.12, 0.0), (0.0, -0.45 - 0.1 * pose.tail), (0.12, 0.0)], (255, 170, 40))
    pen.poly([(-0.06, 0.0), (0.0, -0.25), (0.06, 0.0)], (255, 240, 140))
    pen.poly([(-0.2, 0.05), (-0.42, -0.05), (-0.2, 0.45)], fin)
    pen.poly([(0.2, 0.05), (0.42, -0.05), (0.2, 0.45)], fin)
    pen.ellipse(0, 0.7, 0.22, 0.7, body)
    pen.poly([(-0.17, 1.05), (0.0, 1.55), (0.17, 1.05)], fin)
    pen.circle(0, 0.85, 0.1, fin)
    pen.circle(0, 0.85, 0.065, _GLASS)
    pen.rect(-0.2, 0.25, 0.2, 0.32, fin)


def train(pen: Pen, look: Look, pose: Pose) -> None:
    """A steam engine with a carriage."""
    body = look.main
    pen.rect(-1.5, 0.0, 1.3, 0.04, (90, 80, 70))
    pen.rounded(-1.45, 0.14, -0.35, 0.75, 0.06, mix(body, (255, 255, 255), 0.25))
    for i in range(3):
        pen.rect(-1.35 + i * 0.34, 0.45, -1.13 + i * 0.34, 0.65, _GLASS)
    pen.rect(-0.25, 0.14, 0.3, 0.95, body)
    pen.rect(-0.18, 0.6, 0.18, 0.85, _GLASS)
    pen.rounded(0.25, 0.14, 1.15, 0.6, 0.25, body)
    pen.rect(0.8, 0.6, 0.95, 0.9, (40, 40, 46))
    pen.circle(0.85, 1.05, 0.12, (220, 220, 228), 210)
    pen.circle(0.65, 1.18, 0.16, (220, 220, 228), 170)
    for x in (-1.2, -0.6, 0.0, 0.5, 0.95):
        _wheel(pen, x, 0.14)


def bicycle(pen: Pen, look: Look, pose: Pose) -> None:
    """A bicycle, side on."""
    frame = look.main
    for x in (-0.5, 0.5):
        pen.circle(x, 0.32, 0.32, _TYRE)
        pen.circle(x, 0.32, 0.27, (0, 0, 0), 0)  # drawing with alpha 0 cuts the tyre into a ring
        pen.circle(x, 0.32, 0.05, _HUB)
    pen.line([(-0.5, 0.32), (-0.05, 0.32), (0.3, 0.72), (-0.2, 0.72), (-0.05, 0.32)], 0.04, frame)
    pen.line([(0.5, 0.32), (0.3, 0.72), (0.28, 0.86)], 0.04, frame)
    pen.line([(0.2, 0.9), (0.38, 0.86)], 0.04, _TYRE)
    pen.line([(-0.2, 0.72), (-0.24, 0.84)], 0.04, frame)
    pen.line([(-0.34, 0.86), (-0.12, 0.86)], 0.06, _TYRE)


def hot_air_balloon(pen: Pen, look: Look, pose: Pose) -> None:
    """A striped hot-air balloon with its basket."""
    main, other = look.main, look.accent
    pen.poly([(-0.5, 0.8), (-0.12, 0.35), (0.12, 0.35), (0.5, 0.8)], main)
    pen.circle(0, 1.05, 0.55, main)
    for dx in (-0.3, 0.3):
        pen.ellipse(dx * 0.9, 1.02, 0.1, 0.52, other)
    pen.ellipse(0, 1.02, 0.1, 0.54, other)
    for dx in (-0.1, 0.1):
        pen.line([(dx, 0.35), (dx * 0.9, 0.18)], 0.015, (90, 60, 40))
    pen.rounded(-0.12, 0.0, 0.12, 0.18, 0.03, (150, 100, 60))
