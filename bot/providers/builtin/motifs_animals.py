"""Four-legged animals: one drawing, many animals (fox, cat, dog, wolf, bear, horse, deer, ...).

Each animal is a :class:`Quad`: ear, tail, snout, leg and neck shapes and a pattern, over one body
plan, facing right in the motif frame (ground at y = 0, about 1.1 units tall, 1.7 long).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.providers.builtin.palette import RGB, mix
from bot.providers.builtin.pen import Extent, Look, Pen, Pose

Ears = Literal["pointy", "floppy", "round", "long", "horse", "big"]
Tail = Literal["bushy", "thin", "stub", "hair", "tuft", "curl"]
Pattern = Literal[
    "none",
    "whiskers",
    "panda",
    "horn",
    "stripes",
    "spots",
    "mane",
    "antlers",
    "horns",
    "fluffy",
    "trunk",
    "tip",
]


@dataclass(frozen=True, slots=True)
class Quad:
    colour: RGB
    light: RGB
    ears: Ears
    tail: Tail
    snout: float = 0.18
    legs: float = 0.35
    neck: float = 0.0
    bulk: float = 0.25
    head: float = 0.2
    pattern: Pattern = "none"
    sits: bool = False
    """It may be drawn sitting (a seeded pose)."""


QUADS: dict[str, Quad] = {
    "fox": Quad((222, 108, 38), (250, 244, 236), "pointy", "bushy", snout=0.24, pattern="tip", sits=True),
    "cat": Quad((120, 120, 132), (214, 214, 222), "pointy", "thin", snout=0.03, legs=0.24, head=0.25,
        bulk=0.22,
                pattern="whiskers", sits=True),
    "dog": Quad((176, 120, 68), (236, 214, 180), "floppy", "thin", snout=0.2, legs=0.36, sits=True),
    "wolf": Quad((128, 132, 146), (218, 220, 226), "pointy", "bushy", snout=0.26, legs=0.42, sits=True),
    "bear": Quad((112, 72, 44), (168, 120, 80), "round", "stub", snout=0.14, legs=0.3, bulk=0.34, head=0.24),
    "lion": Quad((214, 160, 72), (240, 210, 150), "round", "tuft", snout=0.12, legs=0.4, pattern="mane"),
    "tiger": Quad((232, 126, 34), (250, 240, 226), "round", "thin", snout=0.12, legs=0.38, pattern="stripes"),
    "horse": Quad((140, 88, 52), (190, 140, 100), "horse", "hair", snout=0.3, legs=0.6, neck=0.35,
                  head=0.16, pattern="mane"),
    "deer": Quad((176, 118, 70), (236, 214, 186), "pointy", "stub", snout=0.22, legs=0.6, neck=0.3,
                 head=0.15, pattern="antlers"),
    "cow": Quad((246, 244, 238), (246, 200, 200), "horse", "tuft", snout=0.16, legs=0.42, bulk=0.3,
                pattern="spots"),
    "sheep": Quad((246, 244, 236), (60, 56, 60), "floppy", "stub", snout=0.1, legs=0.3, bulk=0.3,
                  pattern="fluffy"),
    "pig": Quad((240, 168, 176), (250, 204, 208), "floppy", "curl", snout=0.1, legs=0.24, bulk=0.3),
    "rabbit": Quad((196, 190, 184), (246, 244, 240), "long", "stub", snout=0.05, legs=0.18, bulk=0.24,
        sits=True),
    "mouse": Quad((150, 146, 150), (236, 200, 204), "big", "thin", snout=0.16, legs=0.12, bulk=0.2),
    "elephant": Quad((150, 154, 164), (190, 194, 204), "big", "thin", snout=0.0, legs=0.5, bulk=0.36,
                     head=0.26, pattern="trunk"),
    "giraffe": Quad((236, 186, 90), (250, 230, 180), "horse", "tuft", snout=0.22, legs=0.7, neck=0.9,
                    head=0.14, pattern="spots"),
    "leopard": Quad((232, 184, 96), (250, 238, 210), "round", "thin", snout=0.12, legs=0.38, pattern="spots"),
    "goat": Quad((226, 222, 214), (250, 248, 244), "floppy", "stub", snout=0.2, legs=0.45, pattern="horns"),
}  # fmt: skip


def quad_extent(q: Quad) -> Extent:
    top = q.legs + 2 * q.bulk + q.neck + 2 * q.head + 0.35
    return -1.15, 1.2 + q.snout, -0.06, top


def draw_quad(pen: Pen, look: Look, pose: Pose, q: Quad) -> None:
    """The body plan: legs, tail, body, neck, head, ears, face, pattern (sitting, if it sits)."""
    if pose.sitting and q.sits:
        draw_sitting(pen, look, pose, q)
        return
    main, light, dark = look.main, look.light, look.dark
    far = mix(main, dark, 0.35)
    body_y = q.legs + q.bulk
    length = 0.58
    # shadow
    pen.ellipse(0, 0, 0.8, 0.06, (0, 0, 0), 60)
    # far legs, tail, body, near legs
    step = 0.06 * pose.lean
    for x, dx in ((-length * 0.62, step), (length * 0.55, -step)):
        pen.line([(x + 0.05, body_y), (x + 0.05 + dx, 0.04)], 0.11 + q.bulk * 0.12, far)
    _tail(pen, q, look, pose, -length + 0.02, body_y + q.bulk * 0.35)
    if q.pattern == "fluffy":
        for i in range(9):
            fx = -length + 0.08 + (2 * length - 0.16) * (i % 5) / 4
            pen.circle(fx, body_y + (0.12 if i >= 5 else -0.04), q.bulk * 0.62, main)
    else:
        pen.ellipse(0, body_y, length, q.bulk, main)
        pen.ellipse(0.04, body_y - q.bulk * 0.45, length * 0.7, q.bulk * 0.45, light)
    leg = (30, 30, 36) if q.pattern == "panda" else main
    for x, dx in ((-length * 0.5, -step), (length * 0.62, step)):
        pen.line([(x, body_y), (x + dx, 0.04)], (0.12 if q.legs < 0.5 else 0.09) + q.bulk * 0.12, leg)
        pen.ellipse(x + dx + 0.02, 0.03, 0.08, 0.035, dark)
    _pattern_body(pen, q, look, length, body_y)
    # neck and head
    hx = length + 0.08 + q.neck * 0.35
    hy = body_y + q.bulk * 0.7 + q.neck + 0.05 * pose.head
    pen.poly(
        [(length * 0.45, body_y + q.bulk * 0.6), (hx - q.head * 0.5, hy + q.head * 0.6),
         (hx + q.head * 0.3, hy), (length * 0.8, body_y - q.bulk * 0.3)],
        main,
    )  # fmt: skip
    if q.pattern == "mane":
        _mane(pen, q, look, length, body_y, hx, hy)
    _head(pen, q, look, hx, hy)


def draw_sitting(pen: Pen, look: Look, pose: Pose, q: Quad) -> None:
    """Sitting up, seen from the side: haunch, upright chest, front legs, the tail curled in front."""
    main, light, dark = look.main, look.light, look.dark
    pen.ellipse(0, 0, 0.6, 0.06, (0, 0, 0), 60)
    tail = [(-0.35, 0.12), (-0.1, 0.03), (0.25, 0.04), (0.42, 0.1 + 0.05 * pose.tail)]
    pen.line(tail, 0.13 if q.tail == "bushy" else 0.07, main)
    if q.pattern == "tip":
        pen.circle(0.42, 0.1 + 0.05 * pose.tail, 0.08, light)
    pen.ellipse(-0.12, 0.28, 0.36, 0.28, main)
    pen.ellipse(0.12, 0.55, 0.24, 0.45, main)
    pen.ellipse(0.2, 0.52, 0.13, 0.32, light)
    for x in (0.14, 0.3):
        pen.line([(x, 0.45), (x + 0.02, 0.05)], 0.1, main)
        pen.ellipse(x + 0.04, 0.03, 0.08, 0.035, dark)
    _head(pen, q, look, 0.22, 1.0 + 0.04 * pose.head)


def _head(pen: Pen, q: Quad, look: Look, hx: float, hy: float) -> None:
    """Ears, the round head, snout, nose, eye and whatever grows on the head."""
    main, light, dark = look.main, look.light, look.dark
    _ears(pen, q, look, hx, hy, behind=True)
    pen.circle(hx, hy, q.head, main)
    if q.snout > 0:
        r = q.head
        pen.poly([(hx, hy + r * 0.55), (hx + r + q.snout, hy - r * 0.25), (hx, hy - r * 0.75)], main)
        pen.poly([(hx + r * 0.2, hy - r * 0.2), (hx + r + q.snout, hy - r * 0.25), (hx, hy - r * 0.8)], light)
        pen.circle(hx + r + q.snout - 0.015, hy - r * 0.22, 0.035, (30, 26, 30))
    if q.pattern == "trunk":
        pen.line([(hx + q.head * 0.7, hy - 0.02), (hx + q.head * 1.1, hy - 0.3), (hx + q.head, hy - 0.55)],
                 0.1, main)  # fmt: skip
    _ears(pen, q, look, hx, hy, behind=False)
    eye_x = hx + q.head * 0.35
    pen.circle(eye_x, hy + q.head * 0.25, 0.04, (24, 20, 26))
    pen.circle(eye_x + 0.012, hy + q.head * 0.3, 0.013, (255, 255, 255))
    if q.pattern == "whiskers":
        nose = (hx + q.head * 0.95, hy - q.head * 0.25)
        pen.circle(nose[0], nose[1], 0.03, (230, 130, 150))
        for dy in (-0.05, 0.0, 0.05):
            pen.line(
                [(nose[0] - 0.02, nose[1] - 0.02), (nose[0] + 0.2, nose[1] + dy * 1.6)], 0.008, (60, 56, 60)
            )
    if q.pattern == "antlers":
        for side in (-0.04, 0.06):
            base = (hx + side, hy + q.head * 0.9)
            pen.line([base, (base[0] - 0.08, base[1] + 0.3), (base[0] - 0.2, base[1] + 0.42)], 0.035, dark)
            pen.line([(base[0] - 0.06, base[1] + 0.2), (base[0] + 0.06, base[1] + 0.34)], 0.03, dark)
    if q.pattern == "horn":
        horn = [
            (hx - 0.02, hy + q.head * 0.8),
            (hx + 0.22, hy + q.head * 2.6),
            (hx + 0.08, hy + q.head * 0.75),
        ]
        pen.poly(horn, (246, 200, 70))
    if q.pattern == "panda":
        black = (30, 30, 36)
        pen.ellipse(hx + q.head * 0.35, hy + q.head * 0.2, q.head * 0.28, q.head * 0.22, black)
        pen.circle(hx + q.head * 0.4, hy + q.head * 0.25, 0.03, (250, 250, 250))
    if q.pattern == "horns":
        pen.line([(hx - 0.02, hy + q.head * 0.8), (hx - 0.14, hy + q.head * 1.8)], 0.04, (210, 200, 180))


def _tail(pen: Pen, q: Quad, look: Look, pose: Pose, x: float, y: float) -> None:
    up = 0.2 * pose.tail
    match q.tail:
        case "bushy":
            pts = [(x + 0.05, y + 0.05), (x - 0.3, y + 0.1 + up), (x - 0.58, y - 0.1 + up),
                   (x - 0.52, y - 0.24 + up), (x - 0.25, y - 0.2), (x + 0.05, y - 0.12)]  # fmt: skip
            pen.poly(pts, look.main)
            if q.pattern == "tip":
                pen.poly([(x - 0.44, y - 0.02 + up), (x - 0.58, y - 0.1 + up), (x - 0.52, y - 0.24 + up),
                          (x - 0.4, y - 0.2 + up)], look.light)  # fmt: skip
        case "thin":
            pen.line([(x + 0.04, y), (x - 0.2, y + 0.05 + up), (x - 0.3, y + 0.3 + up), (x - 0.22,
                y + 0.48 + up)],
                     0.06, look.main)  # fmt: skip
        case "stub":
            pen.circle(x + 0.02, y + 0.02, 0.09, look.light)
        case "hair":
            pen.poly([(x + 0.05, y + 0.05), (x - 0.22, y - 0.05), (x - 0.3, y - 0.45 + up),
                      (x - 0.12, y - 0.3), (x + 0.02, y - 0.1)], look.dark)  # fmt: skip
        case "tuft":
            pen.line([(x + 0.04, y), (x - 0.16, y - 0.1), (x - 0.24, y - 0.32 + up)], 0.035, look.main)
            pen.circle(x - 0.24, y - 0.34 + up, 0.055, look.dark)
        case "curl":
            pen.line(pen.arc_points(x - 0.06, y, 0.06, 0.06, 0, 300, 10), 0.03, look.dark)


def _ears(pen: Pen, q: Quad, look: Look, hx: float, hy: float, *, behind: bool) -> None:
    r = q.head
    inner = mix(look.light, (236, 150, 160), 0.3)
    if q.ears == "pointy" and not behind:
        for dx in (-0.45, 0.2):
            bx = hx + dx * r
            pen.poly([(bx - r * 0.4, hy + r * 0.6), (bx + r * 0.05, hy + r * 1.9), (bx + r * 0.5,
                hy + r * 0.55)],
                     look.main)  # fmt: skip
            pen.poly([(bx - r * 0.18, hy + r * 0.7), (bx + r * 0.05, hy + r * 1.5), (bx + r * 0.28,
                hy + r * 0.68)],
                     inner)  # fmt: skip
    elif q.ears == "floppy" and not behind:
        pen.ellipse(hx - r * 0.55, hy - r * 0.1, r * 0.28, r * 0.7, look.dark)
    elif q.ears == "round" and behind:
        for dx in (-0.6, 0.35):
            pen.circle(
                hx + dx * r, hy + r * 0.85, r * 0.38, (30, 30, 36) if q.pattern == "panda" else look.main
            )
            pen.circle(hx + dx * r, hy + r * 0.85, r * 0.2, inner)
    elif q.ears == "long" and behind:
        for dx, tilt in ((-0.5, -0.35), (0.15, 0.1)):
            pen.poly([(hx + dx * r - 0.06, hy + r * 0.6), (hx + dx * r + tilt - 0.05, hy + r * 3.2),
                      (hx + dx * r + tilt + 0.07, hy + r * 3.1), (hx + dx * r + 0.08, hy + r * 0.6)],
                     look.main)  # fmt: skip
            pen.line(
                [(hx + dx * r + 0.01, hy + r * 0.9), (hx + dx * r + tilt + 0.01, hy + r * 2.8)], 0.045, inner
            )
    elif q.ears == "horse" and behind:
        pen.poly([(hx - r * 0.5, hy + r * 0.5), (hx - r * 0.3, hy + r * 1.8), (hx, hy + r * 0.7)], look.main)
    elif q.ears == "big" and behind:
        pen.ellipse(hx - r * 0.7, hy + r * 0.2, r * 0.75, r * 0.95, look.main)
        pen.ellipse(hx - r * 0.7, hy + r * 0.2, r * 0.5, r * 0.7, mix(look.main, inner, 0.5))


def _pattern_body(pen: Pen, q: Quad, look: Look, length: float, body_y: float) -> None:
    if q.pattern == "stripes":
        for i in range(6):
            x = -length * 0.75 + i * length * 0.28
            pen.poly([(x, body_y + q.bulk * 0.95), (x + 0.08, body_y + q.bulk * 0.9), (x + 0.03,
                body_y - q.bulk * 0.2)],
                     (30, 24, 26))  # fmt: skip
    elif q.pattern == "spots":
        spot = mix(look.main, (60, 36, 20), 0.75) if q.light != (246, 200, 200) else (40, 36, 40)
        for i, (sx, sy) in enumerate(((-0.3, 0.3), (0.1, 0.45), (0.35, 0.1), (-0.1, -0.05), (0.0, 0.25))):
            pen.ellipse(sx * length * 1.6, body_y + sy * q.bulk, 0.07 + 0.02 * (i % 2), 0.05, spot)


def _mane(pen: Pen, q: Quad, look: Look, length: float, body_y: float, hx: float, hy: float) -> None:
    mane = mix(look.main, (120, 60, 20), 0.5) if q.neck == 0 else look.dark
    if q.neck == 0:  # a lion's round mane
        pen.circle(hx - 0.03, hy - 0.02, q.head * 1.75, mane)
    else:
        pen.poly([(length * 0.4, body_y + q.bulk * 0.8), (hx - q.head * 0.8, hy + q.head * 0.9),
                  (hx - q.head * 0.2, hy + q.head * 0.6), (length * 0.7, body_y + q.bulk * 0.3)],
                      mane)  # fmt: skip
