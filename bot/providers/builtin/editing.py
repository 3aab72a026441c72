"""An edit of an image, as the built-in renderer does it (worker-thread code, no I/O).

A picture it drew carries its :class:`~bot.providers.builtin.recipe.Recipe`: an edit that changes what
is in it ("add a hat", "add snow", "make it night", "remove the sun") is made on the recipe and the
scene redrawn, with every colour and tone edit made so far applied again. Colour, tone and crop edits
alone work on the pixels, of any picture. What it cannot do it refuses with a sentence saying why
(:class:`CannotEdit`); it never blends a fresh render into the picture.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PIL import Image

from bot.providers.builtin.compose import describe
from bot.providers.builtin.edits import EditOp, apply_edits, parse_edit_instruction
from bot.providers.builtin.recipe import Recipe
from bot.providers.builtin.render import render_description
from bot.providers.builtin.scene_edits import apply_scene_edits, parse_scene_edits

CAN_DO = (
    "colour and tone (warmer, cooler, brighter, darker, black and white, more contrast, blur, sharpen), "
    "a crop to another shape (16:9, square, portrait)"
)
SCENE_CAN_DO = (
    "add or remove things it knows (add a hat, add a dog, add snow, remove the sun), change the time "
    "of day (make it night)"
)


class CannotEdit(Exception):
    """The edit is not one the built-in renderer can make; the message says why, for people."""


@dataclass(frozen=True, slots=True)
class Edited:
    img: Image.Image
    recipe: Recipe | None
    note: str


def edit_image(reference: Image.Image, recipe: Recipe | None, instruction: str) -> Edited:
    """``reference`` edited as ``instruction`` says (``recipe``: what it is a drawing of, if known)."""
    if recipe is None:
        ops = parse_edit_instruction(instruction)
        if not ops:
            raise CannotEdit(
                "The offline preview renderer can only add or remove things in pictures it drew itself. "
                f"On this one it can change {CAN_DO}."
            )
        return Edited(apply_edits(reference, ops), None, _note([op.describe() for op in ops], []))
    parsed = parse_scene_edits(instruction)
    ops = parse_edit_instruction(parsed.rest)
    changed, done, problems = apply_scene_edits(recipe, describe(recipe), parsed.edits)
    problems = [*problems, *(f"I don't know how to draw '{thing}'" for thing in parsed.unknown)]
    if not done and not ops:
        reason = "; ".join(problems) if problems else f"I couldn't read '{instruction.strip()}' as an edit"
        raise CannotEdit(
            f"The offline preview renderer can't do that: {reason}. "
            f"It can {SCENE_CAN_DO}, and change {CAN_DO}."
        )
    earlier = [op for op in (EditOp.from_token(t) for t in recipe.post) if op is not None]
    changed = replace(changed, post=(*recipe.post, *(op.token() for op in ops)))
    if done:
        img = apply_edits(render_description(describe(changed), recipe.size), [*earlier, *ops])
    else:
        img = apply_edits(reference, ops)
    return Edited(img, changed, _note([e.describe() for e in done] + [op.describe() for op in ops], problems))


def _note(done: list[str], problems: list[str]) -> str:
    note = "builtin preview: " + ", ".join(done)
    if problems:
        note += " (not done: " + "; ".join(problems) + ")"
    return note
