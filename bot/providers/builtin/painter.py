"""Drawing a description's motifs into the picture: size and place each one, dim it at night, give it
its accessories, and let the style touch up its layer (neon outline, watercolour wash)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from PIL import Image

from bot.providers.builtin.compose import Description
from bot.providers.builtin.motifs_people import accessory
from bot.providers.builtin.palette import RGB, mix
from bot.providers.builtin.pen import Look, Pen, Pose, stamp
from bot.providers.builtin.placement import Element
from bot.providers.builtin.styles import LayerTouch, neon_layer, watercolor_layer


def paint(img: Image.Image, desc: Description, elements: Iterable[Element]) -> None:
    """Draw ``elements`` (in order) onto ``img``."""
    w, h = img.size
    shade = _shade(desc)
    touch = _touch(desc)
    for element in elements:
        motif = element.motif
        left, right, bottom, top = motif.extent
        unit = element.height * h / max(0.3, top - min(0.0, bottom))
        look = motif.look(element.colour, element.pick)
        pose = element.pose
        if motif.place == "building":  # a building's "sitting" pose is its lit windows: at night
            pose = replace(pose, sitting=desc.scene.night)
        draw_fn = motif.draw
        head = motif.head_at(element.pose)
        if element.accessories and head is not None:
            draw_fn = _with_accessories(motif.draw, head, element.accessories, look)
            top = max(top, head[1] + head[2] * 2.6)
            left, right = min(left, head[0] - head[2] * 1.6), max(right, head[0] + head[2] * 1.6)
        stamp(
            img,
            draw_fn,
            (left, right, bottom, top),
            (element.x * w, element.y * h),
            unit,
            look,
            pose,
            flip=element.flip,
            shade=shade,
            touch_up=touch,
            pad=max(2, round(unit * 0.12)) if touch is not None else 2,
        )


def _with_accessories(
    draw: Callable[[Pen, Look, Pose], None],
    head: tuple[float, float, float],
    kinds: tuple[str, ...],
    look: Look,
) -> Callable[[Pen, Look, Pose], None]:
    def drawn(pen: Pen, lk: Look, pose: Pose) -> None:
        draw(pen, lk, pose)
        hx, hy, r = head
        for kind in kinds:
            accessory(pen, kind, hx, hy, r, lk.main)

    return drawn


def _shade(desc: Description) -> Callable[[RGB], RGB] | None:
    scene = desc.scene
    if desc.setting == "underwater":
        return lambda c: mix(c, (40, 120, 160), 0.18)
    if "storm" in desc.weather:
        return lambda c: mix(c, (60, 66, 80), 0.3)
    if scene.night and desc.style != "neon":
        night = mix(scene.palette.sky[0], (30, 40, 80), 0.5)
        return lambda c: mix(c, night, 0.38)
    return None


def _touch(desc: Description) -> LayerTouch | None:
    if desc.style == "neon":
        return neon_layer(desc.scene.palette.accent)
    if desc.style == "watercolor":
        return watercolor_layer
    return None
