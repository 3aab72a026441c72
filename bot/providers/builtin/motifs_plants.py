"""Plants: a leafy tree, a pine, a palm, a flower (daisy, tulip, sunflower, rose), a cactus, a mushroom,
coral. Each stands on y = 0 of the motif frame.
"""

from __future__ import annotations

import math

from bot.providers.builtin.palette import mix
from bot.providers.builtin.pen import Look, Pen, Pose

_TRUNK = (120, 80, 50)
_STEM = (70, 150, 70)


def tree(pen: Pen, look: Look, pose: Pose) -> None:
    """A round leafy tree: a trunk and a crown of overlapping circles."""
    pen.ellipse(0, 0, 0.6, 0.05, (0, 0, 0), 50)
    pen.poly([(-0.1, 0), (-0.06, 0.7), (0.06, 0.7), (0.12, 0)], _TRUNK)
    pen.line([(0.0, 0.5), (0.25, 0.75)], 0.05, _TRUNK)
    dark, main, light = mix(look.main, (0, 0, 0), 0.25), look.main, look.light
    lean = 0.06 * pose.lean
    for (cx, cy, r), colour in zip(
        ((-0.3, 0.85, 0.3), (0.3, 0.88, 0.3), (0.0, 1.2, 0.36), (-0.15, 0.95, 0.3), (0.18, 1.05, 0.3)),
        (dark, dark, main, main, main),
        strict=True,
    ):
        pen.circle(cx + lean, cy, r, colour)
    pen.circle(-0.1 + lean, 1.3, 0.14, light)
    if look.accent != look.light:  # blossom or fruit
        for i in range(9):
            a = i * 2.4
            pen.circle(0.4 * math.cos(a) + lean, 1.0 + 0.32 * math.sin(a), 0.05, look.accent)


def pine(pen: Pen, look: Look, pose: Pose) -> None:
    """A conifer: three stacked triangles on a short trunk (snow caps if the accent is white)."""
    pen.ellipse(0, 0, 0.45, 0.04, (0, 0, 0), 50)
    pen.rect(-0.06, 0, 0.06, 0.25, _TRUNK)
    for i, (w, y) in enumerate(((0.45, 0.2), (0.36, 0.6), (0.26, 0.98))):
        pen.poly([(-w, y), (0.0, y + 0.6), (w, y)], mix(look.main, (0, 0, 0), 0.1 * i))
        if look.accent == (255, 255, 255):
            pen.poly([(-w * 0.45, y + 0.33), (0.0, y + 0.6), (w * 0.45, y + 0.33)], (250, 252, 255))


def palm(pen: Pen, look: Look, pose: Pose) -> None:
    """A leaning palm tree with fronds and coconuts."""
    bend = 0.15 + 0.1 * pose.lean
    trunk = [(0.0, 0.0), (bend * 0.4, 0.6), (bend, 1.2), (bend * 1.5, 1.7)]
    pen.line(trunk, 0.09, (150, 110, 70))
    top = trunk[-1]
    for k in range(7):
        a = math.radians(10 + k * 27)
        tip = (top[0] + 0.75 * math.cos(a), top[1] + 0.25 * math.sin(a) - 0.25 * abs(math.cos(a)))
        mid = (top[0] + 0.4 * math.cos(a), top[1] + 0.25 * math.sin(a) + 0.08)
        pen.poly([top, mid, tip, (mid[0], mid[1] - 0.1)], look.main if k % 2 else look.dark)
    pen.circle(top[0] - 0.05, top[1] - 0.08, 0.06, (110, 76, 40))
    pen.circle(top[0] + 0.06, top[1] - 0.1, 0.06, (110, 76, 40))


def flower(pen: Pen, look: Look, pose: Pose) -> None:
    """A daisy-like flower on a stem with two leaves."""
    sway = 0.08 * pose.lean
    pen.line([(0, 0), (sway * 0.5, 0.45), (sway, 0.85)], 0.05, _STEM)
    pen.ellipse(-0.14, 0.3, 0.14, 0.05, _STEM)
    pen.ellipse(0.15, 0.45, 0.14, 0.05, _STEM)
    for k in range(8):
        a = k * math.pi / 4
        pen.ellipse(sway + 0.16 * math.cos(a), 0.95 + 0.16 * math.sin(a), 0.1, 0.1, look.main)
    pen.circle(sway, 0.95, 0.09, (250, 200, 60) if look.main != (250, 200, 60) else (120, 70, 30))


def tulip(pen: Pen, look: Look, pose: Pose) -> None:
    """A tulip: a cup of three petals."""
    sway = 0.06 * pose.lean
    pen.line([(0, 0), (sway, 0.8)], 0.05, _STEM)
    pen.poly([(0, 0.05), (-0.25, 0.5), (-0.02, 0.3)], _STEM)
    pen.ellipse(sway, 0.92, 0.15, 0.17, look.main)
    pen.poly([(sway - 0.15, 0.92), (sway - 0.13, 1.15), (sway - 0.04, 1.0), (sway, 1.18), (sway + 0.04, 1.0),
              (sway + 0.13, 1.15), (sway + 0.15, 0.92)], look.main)  # fmt: skip
    pen.ellipse(sway + 0.05, 0.92, 0.05, 0.13, look.light)


def sunflower(pen: Pen, look: Look, pose: Pose) -> None:
    """A tall sunflower with a dark centre."""
    pen.line([(0, 0), (0.03, 1.2)], 0.06, _STEM)
    pen.ellipse(0.16, 0.6, 0.16, 0.06, _STEM)
    for k in range(14):
        a = k * math.tau / 14
        pen.ellipse(0.03 + 0.22 * math.cos(a), 1.3 + 0.22 * math.sin(a), 0.09, 0.09, (250, 196, 40))
    pen.circle(0.03, 1.3, 0.16, (110, 66, 30))


def cactus(pen: Pen, look: Look, pose: Pose) -> None:
    """A saguaro cactus with two arms."""
    green = look.main
    pen.ellipse(0, 0, 0.45, 0.04, (0, 0, 0), 50)
    pen.line([(0, 0.0), (0, 1.25)], 0.26, green)
    pen.line([(-0.12, 0.55), (-0.38, 0.55), (-0.38, 0.95)], 0.16, green)
    pen.line([(0.12, 0.7), (0.36, 0.7), (0.36, 1.05)], 0.16, green)
    pen.line([(0.04, 0.1), (0.04, 1.25)], 0.04, look.light)
    pen.circle(0, 1.4, 0.08, (240, 100, 140))


def mushroom(pen: Pen, look: Look, pose: Pose) -> None:
    """A toadstool: a spotted cap on a stout stem."""
    pen.ellipse(0, 0, 0.5, 0.05, (0, 0, 0), 50)
    pen.poly([(-0.14, 0), (-0.1, 0.5), (0.1, 0.5), (0.16, 0)], (244, 236, 220))
    cap = look.main
    pen.poly(pen.arc_points(0, 0.45, 0.48, 0.42, 0, 180, 20), cap)
    for cx, cy, r in ((-0.2, 0.62, 0.06), (0.05, 0.76, 0.07), (0.26, 0.58, 0.05), (-0.02, 0.56, 0.04)):
        pen.circle(cx, cy, r, (250, 250, 250))


def coral(pen: Pen, look: Look, pose: Pose) -> None:
    """Branching coral and a sea fan on the sea bed."""
    pen.ellipse(0, 0.02, 0.8, 0.08, mix(look.main, (230, 210, 170), 0.6))
    for k in range(5):
        a = math.radians(50 + k * 20)
        tip = (0.7 * math.cos(a), 0.2 + 0.8 * math.sin(a))
        pen.line([(0, 0.05), (tip[0] * 0.5, tip[1] * 0.55), tip], 0.08, look.main)
        pen.circle(tip[0], tip[1], 0.06, look.light)
    pen.ellipse(-0.45, 0.45, 0.25, 0.4, look.accent)
