"""Where a :class:`~bot.providers.builtin.compose.Description`'s motifs stand: the main subject front
and centre, the others beside, behind or above it (:func:`place_elements`), and a party's props
(:func:`festive_elements`). Pure: every choice comes from the ``random.Random`` it is given.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.providers.builtin.motifs import MOTIFS, Motif
from bot.providers.builtin.palette import RGB
from bot.providers.builtin.pen import Pose
from bot.providers.builtin.vocab import COUNT_WORDS

MAX_SUBJECTS = 4


@dataclass(frozen=True, slots=True)
class Element:
    """One motif placed in the picture: its ground point (fractions of width and height), height."""

    subject: str
    x: float
    y: float
    height: float
    flip: bool
    colour: RGB | None
    pick: int
    pose: Pose
    depth: int
    """0: behind the main subject, 1: the main row, 2: in front or in the sky."""
    accessories: tuple[str, ...] = ()

    @property
    def motif(self) -> Motif:
        return MOTIFS[self.subject]


def _count(said: list[str], index: int, plural: bool, name: str) -> int:
    for back in (1, 2):
        j = index - back
        if 0 <= j < len(said) and said[j] in COUNT_WORDS:
            return COUNT_WORDS[said[j]]
    if name == "fish" and index < len(said) and said[index] == "fish":
        return 3  # "with fish" is rarely one fish
    if not plural:
        return 1
    return {"balloon": 4, "flower": 5, "tulip": 5, "bird": 4, "star": 5, "fish": 4, "tree": 3}.get(name, 2)


def place_elements(
    found: list[tuple[int, str, bool]],
    colours: dict[int, RGB],
    rng: random.Random,
    setting: str,
    horizon: float,
    said: list[str],
) -> tuple[Element, ...]:
    """Main subject front and centre, the others beside, behind or above it."""
    chosen = list(dict.fromkeys(name for _, name, _ in found))[:MAX_SUBJECTS]
    by_name = {name: (i, plural) for i, name, plural in reversed(found)}
    ground_y = 0.9 if setting != "table" else 0.86
    out: list[Element] = []
    main_x = rng.uniform(0.36, 0.64)
    side = 1 if main_x < 0.5 else -1
    flip = rng.random() < 0.5
    for rank, name in enumerate(chosen):
        motif = MOTIFS[name]
        index, plural = by_name[name]
        count = _count(said, index, plural, name)
        scale = rng.uniform(0.9, 1.1) * (1.0 if rank == 0 else 0.62 if motif.height > 0.25 else 0.9)
        colour = colours.get(index)
        for k in range(min(count, 7)):
            pose = Pose(
                lean=rng.uniform(-1, 1), tail=rng.uniform(-1, 1), head=rng.uniform(-1, 1),
                open_wings=rng.uniform(-1, 1), sitting=rng.random() < 0.5,
            )  # fmt: skip
            pick = rng.randrange(64)
            h = motif.height * scale * (1.0 if k == 0 else rng.uniform(0.7, 0.9))
            x, y, depth = _spot(
                motif.place, rank, k, count, main_x, side, ground_y, horizon, setting, rng, name == "balloon"
            )
            if motif.place == "building" and rank > 0:
                h *= 1.3
            if name == "balloon" and count > 2:
                h *= 1.8
            half = h / max(0.3, motif.extent[3]) * max(-motif.extent[0], motif.extent[1])
            if motif.place != "sky":
                x = min(0.98 - half, max(half + 0.02, x)) if half < 0.45 else 0.5
            if setting == "underwater" and motif.place == "under":
                h = motif.height * rng.uniform(0.7, 1.0)
                if name != "coral":
                    x, y = rng.uniform(0.12, 0.88), rng.uniform(0.3, 0.72)
                else:  # on the sea bed
                    h, y = motif.height * rng.uniform(1.2, 1.5), rng.uniform(0.88, 0.92)
            if motif.place == "sky":
                y = max(y, h * 1.02 + 0.02)
            out.append(
                Element(
                    name,
                    x,
                    y,
                    h,
                    flip if k == 0 else rng.random() < 0.5,
                    colour,
                    pick,
                    pose,
                    depth,
                )
            )
    return tuple(out)


def _spot(
    place: str,
    rank: int,
    k: int,
    count: int,
    main_x: float,
    side: int,
    ground_y: float,
    horizon: float,
    setting: str,
    rng: random.Random,
    bunch: bool = False,
) -> tuple[float, float, int]:
    """Where the k-th copy of the rank-th subject stands (x, y as fractions) and its depth."""
    spread = (k - (count - 1) / 2) * (0.7 / max(1, count))
    if bunch and count > 2:  # a bunch of balloons: the strings meet at one point
        x = main_x + rng.uniform(-0.012, 0.012)
        return x, rng.uniform(0.62, 0.7) if setting != "underwater" else 0.6, 2
    if place == "sky" or (place == "under" and setting == "underwater"):
        x = (main_x if rank == 0 else 0.5 + side * 0.22) + spread * 1.2 + rng.uniform(-0.04, 0.04)
        top = 0.14 if place == "sky" else 0.3
        y = rng.uniform(top, top + 0.2) + (0.18 if rank == 0 and place == "sky" else 0) + abs(spread) * 0.3
        return x, y if place == "sky" else y + 0.25, 2
    if place == "water":
        depth_y = horizon + (1 - horizon) * (0.45 if rank == 0 else 0.2)
        return (main_x if rank == 0 else 0.5 + side * 0.3) + spread, depth_y + rng.uniform(-0.02, 0.02), 1
    if place == "building" and setting == "water":
        return (main_x if rank == 0 else 0.5 + side * 0.3), horizon + (1 - horizon) * 0.5, 0
    if rank == 0:
        return main_x + spread, ground_y + (0.015 if k % 2 else 0), 1
    behind = place == "building" or (rank > 1)
    x = 0.5 + side * (0.28 + 0.08 * rank) + spread * 0.8
    y = ground_y - (0.08 if behind else -0.03) + rng.uniform(-0.01, 0.01)
    return x, y, 0 if behind else 2


def festive_elements(
    elements: tuple[Element, ...], layout: str, rng: random.Random, banned: set[str]
) -> tuple[Element, ...]:
    """A party's props, arranged by ``layout``: a cake in the middle with bunting above, a bunch of
    balloons beside a smaller cake, or a cake with balloons to one side; other subjects stay."""
    props = {"cake", "balloon", "gift"}
    kept = [e for e in elements if e.subject not in props]
    extra: list[Element] = []

    def add(name: str, x: float, y: float, height: float, depth: int) -> None:
        if name in banned:
            return
        pose = Pose(lean=rng.uniform(-1, 1), tail=rng.uniform(-1, 1))
        extra.append(Element(name, x, y, height, rng.random() < 0.5, None, rng.randrange(64), pose, depth))

    cake_x = 0.5 if layout == "bunting" else rng.choice((0.34, 0.66))
    if kept:
        cake_x = 0.78 if kept[0].x < 0.5 else 0.22
    add("cake", cake_x, 0.9, 0.34 if layout != "balloons" else 0.28, 1)
    if layout in ("balloons", "cake"):
        bunch_x = min(0.85, max(0.15, 1 - cake_x + rng.uniform(-0.05, 0.05)))
        for _ in range(4 if layout == "cake" else 6):
            add(
                "balloon",
                bunch_x + rng.uniform(-0.012, 0.012),
                rng.uniform(0.8, 0.84),
                rng.uniform(0.4, 0.48),
                2,
            )
    for x in (0.12, 0.88) if layout != "cake" else ((0.1,) if cake_x > 0.5 else (0.9,)):
        if abs(x - cake_x) > 0.2:
            add("gift", x, 0.93, 0.13, 2)
    return tuple(sorted((*kept, *extra), key=lambda e: e.depth))
