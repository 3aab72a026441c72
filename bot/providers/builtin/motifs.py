"""The motif registry: every subject name the vocabulary knows -> how to draw it, how big, where it goes.

Several subjects share one drawing with other colours or parts (fox, cat, wolf ... are all
:func:`~bot.providers.builtin.motifs_animals.draw_quad`); :data:`MOTIFS` maps each subject to its
:class:`Motif`, and ``Motif.family`` names the drawing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Literal

from bot.providers.builtin import motifs_buildings as b
from bot.providers.builtin import motifs_creatures as c
from bot.providers.builtin import motifs_plants as pl
from bot.providers.builtin import motifs_things as t
from bot.providers.builtin import motifs_vehicles as v
from bot.providers.builtin.motifs_animals import QUADS, Quad, draw_quad, quad_extent
from bot.providers.builtin.motifs_people import FIGURES, Figure, figure_head, person
from bot.providers.builtin.palette import RGB
from bot.providers.builtin.pen import DrawMotif, Extent, Look, Pen, Pose

Place = Literal["ground", "building", "sky", "water", "under", "table"]


@dataclass(frozen=True, slots=True)
class Motif:
    name: str
    family: str
    draw: DrawMotif
    extent: Extent
    place: Place
    height: float
    """On-screen height as a fraction of the image height, when it is the main subject."""
    colour: RGB
    accent: RGB | None = None
    light: RGB | None = None
    head: tuple[float, float, float] | None = None
    """Where its head is (x, y, radius) in its frame: accessories go there; None: it has none."""
    colourways: tuple[RGB, ...] = ()
    """Colours the seed picks from when the prompt names none (a cat is grey, ginger or black)."""
    sitting_head: tuple[float, float, float] | None = None
    """Where the head is when the pose sits (animals that sit)."""

    def head_at(self, pose: Pose) -> tuple[float, float, float] | None:
        return self.sitting_head if pose.sitting and self.sitting_head is not None else self.head

    def look(self, colour: RGB | None, pick: int) -> Look:
        main = colour or (self.colourways[pick % len(self.colourways)] if self.colourways else self.colour)
        return Look.of(main, self.accent, light=self.light if colour is None else None)


def _quad(name: str, q: Quad, colourways: tuple[RGB, ...] = ()) -> Motif:
    hx = 0.58 + 0.08 + q.neck * 0.35
    hy = q.legs + q.bulk + q.bulk * 0.7 + q.neck
    extent = quad_extent(q)
    return Motif(
        name, "quadruped", functools.partial(_draw_quad, q=q), extent, "ground",
            0.26 + 0.1 * (extent[3] - 1.1),
        q.colour, light=q.light, head=(hx, hy, q.head), colourways=colourways,
        sitting_head=(0.22, 1.0, q.head) if q.sits else None,
    )  # fmt: skip


def _draw_quad(pen: Pen, look: Look, pose: Pose, q: Quad) -> None:
    draw_quad(pen, look, pose, q)


def _figure(name: str, fig: Figure) -> Motif:
    def draw(pen: Pen, look: Look, pose: Pose) -> None:
        person(pen, look, pose, fig, round(pose.head * 7 + 7), round(pose.tail * 7 + 7))

    top = 1.42 * fig.scale + 0.5
    return Motif(
        name, "person", draw, (-0.6, 0.6, -0.06, top + 0.2), "ground", 0.42 * fig.scale + 0.1, fig.clothes,
        head=figure_head(fig),
    )  # fmt: skip


_QUAD_COLOURWAYS = {
    "cat": ((120, 120, 132), (226, 140, 60), (40, 38, 44), (236, 230, 222)),
    "dog": ((176, 120, 68), (230, 190, 110), (60, 50, 46), (240, 236, 228)),
    "horse": ((140, 88, 52), (240, 236, 228), (60, 44, 36)),
}
_EXTRA_QUADS = {
    "panda": replace(QUADS["bear"], colour=(246, 246, 246), light=(246, 246, 246), pattern="panda"),
    "polar bear": replace(QUADS["bear"], colour=(244, 246, 250), light=(226, 232, 240)),
    "panther": replace(QUADS["leopard"], colour=(40, 38, 48), light=(70, 66, 80), pattern="none"),
    "unicorn": replace(QUADS["horse"], colour=(248, 246, 252), light=(236, 220, 246), pattern="horn"),
    "zebra": replace(QUADS["horse"], colour=(246, 246, 246), light=(246, 246, 246), pattern="stripes"),
    "squirrel": replace(
        QUADS["fox"], colour=(170, 100, 50), ears="round", legs=0.16, snout=0.08, pattern="none"
    ),
}


def _simple(
    name: str, draw: DrawMotif, extent: Extent, place: Place, height: float, colour: RGB, **kw: object
) -> Motif:
    return Motif(name, getattr(draw, "__name__", name), draw, extent, place, height, colour, **kw)  # type: ignore[arg-type]


_OTHERS: list[Motif] = [
    _simple("bird", c.bird, (-0.9, 0.9, 0.2, 1.35), "sky", 0.16, (60, 110, 200),
            colourways=((60, 110, 200), (210, 60, 50), (40, 40, 48), (240, 180, 40))),
    _simple("phoenix", c.bird, (-0.9, 0.9, 0.2, 1.35), "sky", 0.3, (240, 110, 30), accent=(255, 220, 80)),
    _simple("flamingo", c.duck, (-0.75, 0.7, -0.02, 0.95), "ground", 0.22, (246, 140, 170)),
    _simple("owl", c.owl, (-0.75, 0.75, -0.05, 1.1), "ground", 0.3, (150, 110, 80), light=(230, 210, 180),
            head=(0.0, 0.75, 0.32)),
    _simple("penguin", c.penguin, (-0.45, 0.45, -0.04, 1.18), "ground", 0.32, (34, 38, 52), head=(0.02,
        0.92, 0.22)),
    _simple("duck", c.duck, (-0.75, 0.7, -0.02, 0.95), "water", 0.18, (250, 250, 250), light=(236, 236, 230),
            head=(0.36, 0.76, 0.15), colourways=((250, 250, 250), (150, 110, 70))),
    _simple("swan", c.duck, (-0.75, 0.7, -0.02, 0.95), "water", 0.22, (252, 252, 252), head=(0.36, 0.76,
        0.15)),
    _simple("fish", c.fish, (-0.9, 0.6, 0.15, 1.0), "under", 0.2, (246, 130, 40),
            colourways=((246, 130, 40), (60, 160, 230), (240, 200, 40), (220, 70, 120))),
    _simple("shark", c.fish, (-0.9, 0.6, 0.15, 1.0), "under", 0.25, (120, 140, 160)),
    _simple("whale", c.whale, (-1.1, 0.85, 0.0, 1.15), "water", 0.28, (70, 110, 170)),
    _simple("dragon", c.dragon, (-1.6, 1.38, 0.1, 1.85), "sky", 0.46, (60, 160, 90), accent=(240, 200, 60),
            head=(0.7, 1.0, 0.14), colourways=((60, 160, 90), (190, 40, 40), (80, 70, 170))),
    _simple("butterfly", c.butterfly, (-0.62, 0.62, 0.05, 1.05), "sky", 0.12, (80, 150, 240),
            accent=(250, 220, 90), colourways=((80, 150, 240), (246, 140, 40), (200, 80, 200))),
    _simple("bee", c.butterfly, (-0.62, 0.62, 0.05, 1.05), "sky", 0.08, (246, 200, 40), accent=(40, 30, 30)),
    _simple("snowman", c.snowman, (-0.55, 0.55, -0.06, 1.32), "ground", 0.42, (214, 40, 48),
            head=(0.0, 1.12, 0.16)),
    _simple("robot", c.robot, (-0.5, 0.5, -0.05, 1.32), "ground", 0.42, (170, 180, 196), head=(0.0,
        0.96, 0.24)),
    _simple("house", b.house, (-0.85, 0.85, -0.06, 1.2), "building", 0.42, (240, 226, 200), accent=(186,
        70, 56),
            colourways=((240, 226, 200), (250, 246, 236), (236, 200, 160))),
    _simple("castle", b.castle, (-1.0, 1.0, -0.02, 2.3), "building", 0.55, (190, 186, 178)),
    _simple("lighthouse", b.lighthouse, (-0.66, 1.62, -0.02, 2.1), "building", 0.62, (214, 50, 52)),
    _simple("tower", b.tower, (-0.35, 0.35, 0.0, 2.5), "building", 0.66, (110, 130, 160)),
    _simple("windmill", b.windmill, (-0.9, 0.9, 0.0, 2.05), "building", 0.55, (236, 226, 206)),
    _simple("pyramid", b.pyramid, (-1.32, 0.92, 0.0, 1.02), "building", 0.4, (226, 184, 116)),
    _simple("bridge", b.bridge, (-1.42, 1.42, 0.0, 0.75), "building", 0.2, (176, 160, 140)),
    _simple("tent", b.tent, (-0.8, 0.8, -0.05, 0.82), "ground", 0.26, (240, 140, 50)),
    _simple("car", v.car, (-0.86, 0.86, -0.05, 0.8), "ground", 0.2, (214, 50, 52),
            colourways=((214, 50, 52), (40, 110, 200), (246, 196, 50), (60, 160, 110))),
    _simple("bus", v.bus, (-1.06, 1.06, -0.05, 0.97), "ground", 0.24, (246, 190, 40)),
    _simple("boat", v.boat, (-0.87, 0.92, -0.02, 1.57), "water", 0.34, (180, 60, 50),
            colourways=((180, 60, 50), (40, 80, 150), (250, 250, 250))),
    _simple("ship", v.ship, (-1.22, 1.32, -0.02, 1.35), "water", 0.3, (40, 50, 80)),
    _simple("plane", v.plane, (-0.92, 0.87, 0.03, 1.0), "sky", 0.16, (246, 246, 250)),
    _simple("rocket", v.rocket, (-0.44, 0.44, -0.58, 1.57), "sky", 0.42, (214, 50, 52)),
    _simple("train", v.train, (-1.52, 1.32, -0.01, 1.36), "ground", 0.26, (40, 120, 80)),
    _simple("bicycle", v.bicycle, (-0.84, 0.84, -0.02, 0.92), "ground", 0.24, (40, 140, 200)),
    _simple("hot air balloon", v.hot_air_balloon, (-0.6, 0.6, -0.02, 1.62), "sky", 0.3, (230, 70, 60),
            accent=(250, 220, 80)),
    _simple("tree", pl.tree, (-0.7, 0.72, -0.05, 1.58), "ground", 0.5, (70, 150, 70),
            colourways=((70, 150, 70), (90, 170, 80), (50, 130, 80))),
    _simple("blossom tree", pl.tree, (-0.7, 0.72, -0.05, 1.58), "ground", 0.5, (246, 180, 206),
            accent=(255, 236, 244)),
    _simple("pine", pl.pine, (-0.46, 0.46, -0.04, 1.6), "ground", 0.5, (40, 110, 70)),
    _simple("palm", pl.palm, (-0.6, 1.2, -0.02, 1.95), "ground", 0.55, (60, 150, 70)),
    _simple("flower", pl.flower, (-0.32, 0.35, -0.01, 1.13), "ground", 0.22, (240, 120, 170),
            colourways=((240, 120, 170), (250, 250, 250), (170, 110, 230), (250, 180, 60))),
    _simple("rose", pl.tulip, (-0.3, 0.3, -0.01, 1.2), "ground", 0.22, (210, 30, 50)),
    _simple("tulip", pl.tulip, (-0.3, 0.3, -0.01, 1.2), "ground", 0.22, (240, 80, 110),
            colourways=((240, 80, 110), (250, 200, 50), (180, 80, 200))),
    _simple("sunflower", pl.sunflower, (-0.3, 0.34, -0.01, 1.55), "ground", 0.3, (250, 196, 40)),
    _simple("cactus", pl.cactus, (-0.55, 0.55, -0.04, 1.5), "ground", 0.36, (70, 150, 90)),
    _simple("mushroom", pl.mushroom, (-0.52, 0.52, -0.05, 0.9), "ground", 0.22, (214, 40, 40)),
    _simple("coral", pl.coral, (-0.82, 0.82, -0.06, 1.0), "under", 0.22, (246, 120, 110), accent=(170,
        90, 200)),
    _simple("cake", t.cake, (-0.8, 0.8, -0.06, 1.22), "table", 0.36, (240, 170, 190), accent=(120, 200, 240),
            colourways=((240, 170, 190), (150, 96, 60), (250, 226, 170))),
    _simple("cupcake", t.cupcake, (-0.36, 0.36, -0.02, 1.1), "table", 0.26, (246, 170, 200),
        accent=(120, 190, 240)),
    _simple("cup", t.cup, (-0.62, 0.64, -0.02, 1.32), "table", 0.26, (60, 130, 200),
            colourways=((60, 130, 200), (240, 240, 236), (214, 80, 70))),
    _simple("apple", t.fruit, (-0.5, 0.5, -0.04, 0.9), "table", 0.18, (214, 40, 48)),
    _simple("orange", t.fruit, (-0.5, 0.5, -0.04, 0.9), "table", 0.18, (244, 140, 30)),
    _simple("lemon", t.fruit, (-0.5, 0.5, -0.04, 0.9), "table", 0.18, (246, 214, 60)),
    _simple("cherry", t.fruit, (-0.5, 0.5, -0.04, 0.9), "table", 0.14, (200, 20, 50)),
    _simple("peach", t.fruit, (-0.5, 0.5, -0.04, 0.9), "table", 0.18, (250, 170, 120)),
    _simple("ice cream", t.ice_cream, (-0.3, 0.3, -0.01, 1.28), "table", 0.3, (250, 200, 210),
        accent=(150, 100, 70)),
    _simple("pizza", t.pizza, (-0.82, 0.82, -0.01, 0.62), "table", 0.2, (236, 90, 50)),
    _simple("balloon", t.balloon, (-0.7, 0.7, -0.01, 1.7), "sky", 0.3, (230, 60, 90),
            colourways=((230, 60, 90), (60, 140, 230), (250, 200, 50), (120, 200, 120), (170, 100, 220))),
    _simple("gift", t.gift, (-0.45, 0.45, -0.04, 0.92), "table", 0.24, (80, 140, 230), accent=(250, 220, 80)),
    _simple("heart", t.heart, (-0.46, 0.46, 0.1, 0.96), "sky", 0.18, (230, 50, 80)),
    _simple("star", t.star, (-0.5, 0.5, 0.0, 1.0), "sky", 0.16, (250, 210, 70)),
    _simple("umbrella", t.umbrella, (-0.62, 0.62, 0.05, 1.42), "ground", 0.3, (220, 60, 70)),
    _simple("book", t.book, (-0.72, 0.72, -0.01, 0.62), "table", 0.18, (140, 50, 60)),
    _simple("candle", t.candle, (-0.32, 0.32, -0.01, 1.16), "table", 0.24, (246, 240, 226)),
]  # fmt: skip

MOTIFS: dict[str, Motif] = {m.name: m for m in _OTHERS}
MOTIFS.update((name, _quad(name, q, _QUAD_COLOURWAYS.get(name, ()))) for name, q in QUADS.items())
MOTIFS.update((name, _quad(name, q)) for name, q in _EXTRA_QUADS.items())
MOTIFS.update((name, _figure(name, fig)) for name, fig in FIGURES.items())
