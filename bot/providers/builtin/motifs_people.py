"""People (one figure, dressed by role: a person, a child, a wizard, a knight, an astronaut, ...) and
the accessories an edit can add to any creature's head (a hat, a party hat, a crown, glasses, a scarf).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.providers.builtin.palette import RGB, mix
from bot.providers.builtin.pen import Look, Pen, Pose

Headgear = Literal["none", "wizard", "helmet", "crown", "pirate", "chef", "bow"]
Accessory = Literal["hat", "party hat", "crown", "glasses", "scarf", "bow"]
ACCESSORIES: tuple[Accessory, ...] = ("hat", "party hat", "crown", "glasses", "scarf", "bow")

_SKINS: tuple[RGB, ...] = ((246, 208, 176), (224, 172, 128), (180, 122, 80), (120, 80, 52))
_HAIRS: tuple[RGB, ...] = ((60, 40, 30), (150, 96, 50), (230, 196, 110), (30, 26, 30), (180, 70, 40))
_EYE = (30, 26, 34)


@dataclass(frozen=True, slots=True)
class Figure:
    clothes: RGB
    dress: bool = False
    headgear: Headgear = "none"
    long_hair: bool = False
    scale: float = 1.0
    suit: bool = False
    """An astronaut's suit: white, a round visor instead of a face."""


FIGURES: dict[str, Figure] = {
    "person": Figure((70, 120, 200)),
    "man": Figure((60, 100, 160)),
    "woman": Figure((200, 70, 110), dress=True, long_hair=True),
    "girl": Figure((240, 120, 160), dress=True, long_hair=True, scale=0.7),
    "boy": Figure((60, 160, 120), scale=0.7),
    "child": Figure((250, 180, 60), scale=0.7),
    "baby": Figure((250, 220, 120), scale=0.5),
    "wizard": Figure((80, 60, 160), dress=True, headgear="wizard"),
    "witch": Figure((50, 40, 60), dress=True, headgear="wizard", long_hair=True),
    "knight": Figure((150, 156, 170), headgear="helmet"),
    "king": Figure((170, 30, 50), dress=True, headgear="crown"),
    "queen": Figure((120, 40, 150), dress=True, headgear="crown", long_hair=True),
    "princess": Figure((240, 140, 190), dress=True, headgear="crown", long_hair=True),
    "pirate": Figure((40, 44, 60), headgear="pirate"),
    "chef": Figure((246, 246, 246), headgear="chef"),
    "astronaut": Figure((236, 238, 242), suit=True),
}

HEAD = (0.0, 1.42, 0.2)
"""Where a figure's head is (x, y, radius) at scale 1: accessories go there."""


def figure_head(fig: Figure) -> tuple[float, float, float]:
    x, y, r = HEAD
    return x, y * fig.scale, r * fig.scale


def person(pen: Pen, look: Look, pose: Pose, fig: Figure, skin_index: int, hair_index: int) -> None:
    """A standing figure in flat colours, arms slightly out, facing the viewer."""
    s = fig.scale
    skin = _SKINS[skin_index % len(_SKINS)]
    hair = _HAIRS[hair_index % len(_HAIRS)]
    clothes = look.main
    pen.ellipse(0, 0, 0.42 * s, 0.05 * s, (0, 0, 0), 60)
    legs = mix(clothes, (30, 30, 40), 0.55) if not fig.suit else clothes
    for dx in (-0.1, 0.1):
        pen.line([(dx * s, 0.62 * s), (dx * s + 0.03 * pose.lean * s, 0.06 * s)], 0.13 * s, legs)
        pen.ellipse(dx * s + 0.04 * s, 0.04 * s, 0.1 * s, 0.05 * s, (50, 40, 40))
    arm_swing = 0.1 * pose.lean
    for side in (-1, 1):
        hand = (side * (0.36 + 0.04 * side * arm_swing) * s, (0.62 + side * arm_swing) * s)
        pen.line([(side * 0.2 * s, 1.08 * s), hand], 0.1 * s, clothes)
        pen.circle(hand[0], hand[1], 0.06 * s, skin if not fig.suit else (210, 214, 224))
    if fig.dress:
        pen.poly(
            [(-0.2 * s, 1.12 * s), (0.2 * s, 1.12 * s), (0.34 * s, 0.4 * s), (-0.34 * s, 0.4 * s)], clothes
        )
    else:
        pen.rounded(-0.21 * s, 0.55 * s, 0.21 * s, 1.14 * s, 0.08 * s, clothes)
    pen.rect(-0.05 * s, 1.12 * s, 0.05 * s, 1.24 * s, skin)
    hx, hy, r = figure_head(fig)
    if fig.suit:
        pen.circle(hx, hy, r * 1.35, (236, 238, 242))
        pen.circle(hx, hy, r * 1.05, (40, 60, 100))
        pen.ellipse(hx - r * 0.35, hy + r * 0.35, r * 0.3, r * 0.18, (160, 200, 250))
        pen.rounded(-0.14 * s, 0.86 * s, 0.14 * s, 1.0 * s, 0.03 * s, (200, 60, 60))
        return
    if fig.long_hair:
        pen.rounded(hx - r * 1.15, hy - r * 1.6, hx + r * 1.15, hy + r * 0.6, r * 0.5, hair)
    pen.circle(hx, hy, r, skin)
    pen.ellipse(hx, hy + r * 0.55, r * 1.02, r * 0.5, hair)
    for dx in (-0.36, 0.36):
        pen.circle(hx + dx * r, hy - r * 0.05, r * 0.11, _EYE)
    pen.line(pen.arc_points(hx, hy - r * 0.25, r * 0.32, r * 0.22, 200, 340, 6), r * 0.08, (170, 70, 70))
    _headgear(pen, fig, look, hx, hy, r)


def _headgear(pen: Pen, fig: Figure, look: Look, hx: float, hy: float, r: float) -> None:
    match fig.headgear:
        case "wizard":
            accessory(pen, "wizard", hx, hy, r, look.main)
        case "helmet":
            pen.circle(hx, hy + r * 0.1, r * 1.12, (170, 176, 190))
            pen.rect(hx - r * 0.8, hy - r * 0.15, hx + r * 0.8, hy + r * 0.05, (40, 44, 56))
            pen.poly(
                [(hx, hy + r * 1.1), (hx - r * 0.3, hy + r * 1.9), (hx + r * 0.3, hy + r * 1.7)],
                (214, 40, 48),
            )
        case "crown":
            accessory(pen, "crown", hx, hy, r, look.main)
        case "pirate":
            pen.poly(
                [(hx - r * 1.5, hy + r * 0.6), (hx + r * 1.5, hy + r * 0.6), (hx, hy + r * 1.7)], (30, 30, 36)
            )
            pen.circle(hx, hy + r * 1.0, r * 0.18, (246, 246, 246))
        case "chef":
            pen.rect(hx - r * 0.8, hy + r * 0.6, hx + r * 0.8, hy + r * 1.1, (250, 250, 250))
            for dx in (-0.5, 0.0, 0.5):
                pen.circle(hx + dx * r, hy + r * 1.45, r * 0.5, (250, 250, 250))
        case "bow" | "none":
            pass


def accessory(pen: Pen, kind: str, hx: float, hy: float, r: float, colour: RGB) -> None:
    """Something worn on a head centred at (hx, hy) of radius r, in the motif's own frame."""
    match kind:
        case "hat":
            brim = (40, 36, 44) if colour == (246, 246, 246) else mix(colour, (20, 20, 28), 0.7)
            pen.ellipse(hx, hy + r * 0.75, r * 1.35, r * 0.22, brim)
            pen.rect(hx - r * 0.75, hy + r * 0.75, hx + r * 0.75, hy + r * 1.9, brim)
            pen.rect(hx - r * 0.75, hy + r * 0.85, hx + r * 0.75, hy + r * 1.1, (214, 40, 48))
        case "party hat":
            pen.poly([(hx - r * 0.6, hy + r * 0.7), (hx + r * 0.6, hy + r * 0.7), (hx + r * 0.1,
                hy + r * 2.3)],
                     (240, 90, 150))  # fmt: skip
            pen.line([(hx - r * 0.35, hy + r * 1.2), (hx + r * 0.4, hy + r * 1.3)], r * 0.16, (255, 220, 60))
            pen.circle(hx + r * 0.1, hy + r * 2.3, r * 0.2, (255, 220, 60))
        case "wizard":
            pen.ellipse(hx, hy + r * 0.7, r * 1.5, r * 0.25, colour)
            pen.poly(
                [(hx - r * 0.8, hy + r * 0.7), (hx + r * 0.8, hy + r * 0.7), (hx + r * 0.5, hy + r * 2.8)],
                colour,
            )
            pen.circle(hx + r * 0.05, hy + r * 1.4, r * 0.18, (255, 220, 80))
        case "crown":
            gold = (246, 196, 60)
            pen.poly([(hx - r * 0.75, hy + r * 0.65), (hx + r * 0.75, hy + r * 0.65), (hx + r * 0.85,
                hy + r * 1.55),
                      (hx + r * 0.4, hy + r * 1.1), (hx, hy + r * 1.7), (hx - r * 0.4, hy + r * 1.1),
                      (hx - r * 0.85, hy + r * 1.55)], gold)  # fmt: skip
            pen.circle(hx, hy + r * 0.9, r * 0.14, (220, 40, 60))
        case "glasses":
            for dx in (-0.38, 0.38):
                pen.circle(hx + dx * r, hy, r * 0.3, (20, 20, 26))
                pen.circle(hx + dx * r, hy, r * 0.2, (90, 140, 200))
            pen.line([(hx - r * 0.1, hy + r * 0.05), (hx + r * 0.1, hy + r * 0.05)], r * 0.08, (20, 20, 26))
        case "scarf":
            scarf = (214, 40, 48)
            pen.rounded(hx - r * 0.9, hy - r * 1.25, hx + r * 0.9, hy - r * 0.85, r * 0.2, scarf)
            pen.poly(
                [(hx + r * 0.2, hy - r * 1.0), (hx + r * 0.7, hy - r * 2.0), (hx + r * 0.2, hy - r * 2.0)],
                scarf,
            )
        case "bow":
            pink = (240, 90, 150)
            pen.poly([(hx, hy + r * 0.9), (hx - r * 0.6, hy + r * 1.3), (hx - r * 0.6, hy + r * 0.6)], pink)
            pen.poly([(hx, hy + r * 0.9), (hx + r * 0.6, hy + r * 1.3), (hx + r * 0.6, hy + r * 0.6)], pink)
            pen.circle(hx, hy + r * 0.92, r * 0.16, (200, 50, 110))
