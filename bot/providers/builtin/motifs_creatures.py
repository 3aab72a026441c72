"""Birds, fish, a dragon, a butterfly, an owl, a penguin, a whale, a snowman and a robot.

Each draws facing right in the motif frame (y up; a ground motif stands on y = 0, a flying one is
centred on y = 0.5).
"""

from __future__ import annotations

from bot.providers.builtin.palette import mix
from bot.providers.builtin.pen import Look, Pen, Pose

_EYE = (24, 20, 28)
_WHITE = (250, 250, 250)
_BEAK = (246, 170, 40)


def bird(pen: Pen, look: Look, pose: Pose) -> None:
    """A flying bird, wings up or down with the pose."""
    lift = 0.35 * pose.open_wings
    pen.poly([(-0.55, 0.5), (-0.85, 0.62), (-0.82, 0.38)], look.dark)  # tail
    pen.poly([(-0.1, 0.55), (-0.3, 0.55 + lift + 0.3), (0.15, 0.55 + lift * 0.6), (0.2, 0.52)], look.dark)
    pen.ellipse(0, 0.5, 0.55, 0.2, look.main)
    pen.ellipse(0.05, 0.44, 0.4, 0.1, look.light)
    pen.circle(0.5, 0.6, 0.17, look.main)
    pen.poly([(0.62, 0.64), (0.86, 0.57), (0.62, 0.52)], _BEAK)
    pen.circle(0.56, 0.64, 0.035, _EYE)
    pen.poly([(-0.15, 0.52), (-0.05, 0.52 + lift + 0.35), (0.3, 0.55 + lift * 0.7), (0.25, 0.5)], look.main)


def owl(pen: Pen, look: Look, pose: Pose) -> None:
    """A round owl on a branch."""
    pen.line([(-0.7, 0.05), (0.7, 0.02)], 0.08, (110, 76, 50))
    pen.ellipse(0, 0.5, 0.38, 0.46, look.main)
    pen.ellipse(0, 0.38, 0.26, 0.3, look.light)
    for dx in (-0.36, 0.36):
        pen.ellipse(dx, 0.45, 0.1, 0.28, look.dark)
    pen.poly([(-0.32, 0.82), (-0.28, 1.08), (-0.12, 0.88)], look.main)
    pen.poly([(0.32, 0.82), (0.28, 1.08), (0.12, 0.88)], look.main)
    for dx in (-0.14, 0.14):
        pen.circle(dx, 0.72, 0.13, _WHITE)
        pen.circle(dx + 0.02 * pose.head, 0.72, 0.07, _EYE)
    pen.poly([(-0.05, 0.62), (0.05, 0.62), (0, 0.52)], _BEAK)
    for dx in (-0.12, 0.12):
        pen.line([(dx - 0.05, 0.06), (dx + 0.05, 0.06)], 0.05, _BEAK)


def penguin(pen: Pen, look: Look, pose: Pose) -> None:
    """A standing penguin (dark back, white front)."""
    back = look.main if sum(look.main) < 300 else (34, 38, 52)
    pen.ellipse(0.0, 0.5, 0.32, 0.5, back)
    pen.ellipse(0.08, 0.45, 0.22, 0.4, _WHITE)
    pen.circle(0.02, 0.92, 0.22, back)
    pen.ellipse(0.1, 0.88, 0.12, 0.1, _WHITE)
    pen.circle(0.14, 0.93, 0.035, _EYE)
    pen.poly([(0.2, 0.9), (0.4, 0.86), (0.2, 0.82)], _BEAK)
    pen.poly([(-0.2, 0.7), (-0.42, 0.3 + 0.1 * pose.lean), (-0.26, 0.3)], back)
    for dx in (-0.1, 0.14):
        pen.ellipse(dx, 0.02, 0.11, 0.04, _BEAK)


def duck(pen: Pen, look: Look, pose: Pose) -> None:
    """A duck (or swan) sitting on water."""
    pen.ellipse(-0.05, 0.22, 0.5, 0.22, look.main)
    pen.poly([(-0.55, 0.3), (-0.72, 0.46), (-0.4, 0.34)], look.main)
    pen.ellipse(-0.1, 0.26, 0.3, 0.12, look.light)
    pen.line([(0.3, 0.3), (0.36, 0.55), (0.32, 0.72)], 0.12, look.main)
    pen.circle(0.36, 0.76, 0.15, look.main)
    pen.poly([(0.46, 0.78), (0.68, 0.72), (0.46, 0.68)], _BEAK)
    pen.circle(0.4, 0.8, 0.03, _EYE)


def fish(pen: Pen, look: Look, pose: Pose) -> None:
    """A round-bodied fish with a forked tail and a stripe."""
    bend = 0.1 * pose.tail
    pen.poly([(-0.45, 0.5), (-0.85, 0.8 + bend), (-0.72, 0.5), (-0.85, 0.2 + bend)], look.dark)
    pen.poly([(-0.1, 0.72), (0.1, 0.95), (0.25, 0.72)], look.dark)
    pen.ellipse(0, 0.5, 0.55, 0.3, look.main)
    pen.ellipse(0.1, 0.42, 0.38, 0.14, look.light)
    pen.line([(0.05, 0.76), (0.05, 0.25)], 0.07, look.accent)
    pen.circle(0.32, 0.58, 0.07, _WHITE)
    pen.circle(0.34, 0.58, 0.035, _EYE)


def whale(pen: Pen, look: Look, pose: Pose) -> None:
    """A friendly whale with a spout."""
    pen.poly([(-0.7, 0.45), (-1.0, 0.75), (-0.95, 0.45), (-1.05, 0.25)], look.main)
    pen.ellipse(0, 0.42, 0.8, 0.36, look.main)
    pen.ellipse(0.1, 0.28, 0.62, 0.18, look.light)
    pen.circle(0.45, 0.5, 0.05, _EYE)
    for dx in (-0.1, 0.0, 0.1):
        pen.line([(0.2, 0.8), (0.2 + dx * 2.5, 1.1)], 0.05, (200, 230, 250))


def dragon(pen: Pen, look: Look, pose: Pose) -> None:
    """A flying dragon: bat wings, a long tail with a spade, spikes, horns, a puff of fire."""
    main, dark, light = look.main, look.dark, look.light
    far_wing = mix(main, dark, 0.55)
    lift = 0.2 * pose.open_wings
    _wing(pen, (0.0, 0.72), lift * 0.6 + 0.1, 0.75, far_wing)
    tail = [(-0.35, 0.58), (-0.75, 0.46), (-1.05, 0.52 + 0.08 * pose.tail), (-1.3, 0.66 + 0.1 * pose.tail)]
    pen.line(tail, 0.11, main)
    tip = tail[-1]
    pen.poly([(tip[0] + 0.04, tip[1]), (tip[0] - 0.12, tip[1] + 0.14), (tip[0] - 0.2, tip[1] - 0.06)], dark)
    for x, y in ((-0.05, 0.42), (0.22, 0.45)):
        pen.line([(x, y + 0.08), (x + 0.04, y - 0.12), (x + 0.12, y - 0.14)], 0.07, main)
    pen.ellipse(-0.05, 0.6, 0.45, 0.19, main)
    pen.ellipse(0.0, 0.52, 0.36, 0.09, light)
    for i in range(5):
        x = -0.42 + i * 0.17
        pen.poly([(x, 0.74), (x + 0.07, 0.88), (x + 0.13, 0.74)], look.accent)
    pen.line([(0.3, 0.66), (0.48, 0.86), (0.6, 0.98)], 0.15, main)
    pen.ellipse(0.7, 1.0, 0.18, 0.12, main)
    pen.poly([(0.78, 1.07), (1.02, 0.99), (1.0, 0.92), (0.78, 0.9)], main)
    pen.poly([(0.6, 1.08), (0.45, 1.28), (0.66, 1.12)], look.accent)
    pen.poly([(0.7, 1.1), (0.62, 1.3), (0.76, 1.12)], look.accent)
    pen.circle(0.76, 1.03, 0.035, (250, 220, 60))
    pen.circle(0.985, 0.99, 0.015, dark)
    if pose.tail > -0.2:
        pen.poly([(1.02, 0.96), (1.3, 1.04), (1.2, 0.95), (1.34, 0.86), (1.02, 0.92)], (255, 150, 40))
        pen.poly([(1.03, 0.95), (1.18, 0.97), (1.1, 0.92)], (255, 230, 120))
    _wing(pen, (0.12, 0.72), lift + 0.2, 1.0, main)


def _wing(
    pen: Pen, root: tuple[float, float], lift: float, span: float, colour: tuple[int, int, int]
) -> None:
    """A bat wing from ``root``: a bony leading edge and a scalloped membrane."""
    rx, ry = root
    elbow = (rx - 0.05 * span, ry + (0.5 + lift) * span)
    tip = (rx - 0.75 * span, ry + (0.8 + lift) * span)
    edge = [
        (rx - 0.82 * span, ry + 0.38 * span), (rx - 0.6 * span, ry + 0.3 * span),
        (rx - 0.5 * span, ry + 0.1 * span), (rx - 0.3 * span, ry + 0.14 * span), (rx - 0.2 * span, ry - 0.02),
    ]  # fmt: skip
    pen.poly([root, elbow, tip, *edge], colour)
    bone = mix(colour, (20, 16, 24), 0.4)
    pen.line([root, elbow, tip], 0.035 * span, bone)
    for end in edge[1::2]:
        pen.line([elbow, end], 0.018 * span, bone)


def butterfly(pen: Pen, look: Look, pose: Pose) -> None:
    """A butterfly seen from the front."""
    for side in (-1, 1):
        pen.ellipse(side * 0.3, 0.68, 0.3, 0.26, look.main)
        pen.ellipse(side * 0.24, 0.34, 0.2, 0.17, look.dark)
        pen.circle(side * 0.32, 0.72, 0.1, look.accent)
    pen.ellipse(0, 0.5, 0.05, 0.32, (40, 30, 36))
    for side in (-1, 1):
        pen.line([(0, 0.8), (side * 0.14, 1.0)], 0.02, (40, 30, 36))


def snowman(pen: Pen, look: Look, pose: Pose) -> None:
    """Three snowballs, coal eyes, a carrot nose, a scarf in the accent colour."""
    snow = (246, 248, 252)
    shade = (206, 218, 236)
    pen.ellipse(0, 0.0, 0.5, 0.06, (0, 0, 0), 50)
    for cy, r in ((0.3, 0.32), (0.78, 0.23), (1.12, 0.16)):
        pen.circle(0, cy, r, shade)
        pen.circle(-0.03, cy + 0.02, r * 0.92, snow)
    scarf = look.main if look.main != (246, 246, 246) else (214, 40, 48)
    pen.rounded(-0.2, 0.93, 0.2, 1.0, 0.03, scarf)
    pen.poly([(0.08, 0.96), (0.2, 0.7), (0.1, 0.7)], scarf)
    for dx in (-0.05, 0.06):
        pen.circle(dx, 1.16, 0.025, _EYE)
    pen.poly([(0.0, 1.12), (0.26, 1.08), (0.0, 1.08)], (246, 130, 30))
    for cy in (0.85, 0.72, 0.4):
        pen.circle(0.0, cy, 0.025, _EYE)
    pen.line([(0.2, 0.8), (0.5, 0.95 + 0.1 * pose.lean)], 0.025, (100, 66, 40))
    pen.line([(-0.2, 0.8), (-0.48, 0.92)], 0.025, (100, 66, 40))


def robot(pen: Pen, look: Look, pose: Pose) -> None:
    """A boxy friendly robot with an antenna."""
    metal = look.main
    pen.ellipse(0, 0, 0.45, 0.05, (0, 0, 0), 60)
    for dx in (-0.14, 0.14):
        pen.rect(dx - 0.07, 0.0, dx + 0.07, 0.3, look.dark)
    pen.rounded(-0.3, 0.28, 0.3, 0.75, 0.06, metal)
    pen.rounded(-0.16, 0.4, 0.16, 0.62, 0.04, look.light)
    pen.circle(-0.06, 0.51, 0.035, (240, 80, 80))
    pen.circle(0.06, 0.51, 0.035, (80, 220, 120))
    for side in (-1, 1):
        pen.line([(side * 0.32, 0.68), (side * 0.45, 0.45 + 0.1 * pose.lean * side)], 0.07, look.dark)
    pen.rounded(-0.24, 0.8, 0.24, 1.12, 0.07, metal)
    pen.rounded(-0.17, 0.88, 0.17, 1.04, 0.04, (40, 48, 60))
    for dx in (-0.08, 0.08):
        pen.circle(dx, 0.96, 0.035, (120, 230, 255))
    pen.line([(0, 1.12), (0, 1.25)], 0.025, look.dark)
    pen.circle(0, 1.27, 0.04, (240, 80, 80))
