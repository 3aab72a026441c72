"""``builtin``: the keyless offline renderer, used when no image service is configured.

It draws what the prompt names (a few hundred subjects as flat-vector motifs, in a setting, with
weather and a style: see :mod:`bot.providers.builtin.compose`), deterministically from the prompt and
seed, captioned "Easel preview". Each picture keeps its recipe in the file, so an edit can change what
is in it ("add a hat", "make it night", "remove the sun") and redraw it; colour, tone and crop edits
work on any picture; anything else is refused with a sentence saying what it can do
(``InvalidRequest``). Its images are PNG, JPEG or WebP, as ``format`` says.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, replace

from PIL import Image as PILImage

from bot.core.errors import InvalidRequest, Misconfigured
from bot.core.generation.upscale import MAX_UPSCALED_SIDE
from bot.core.i18n import _
from bot.core.imaging import open_image
from bot.core.ports import ProgressCallback
from bot.core.types import Capabilities, GenerationKind, Image, ImageRequest, ProviderHealth
from bot.providers.builtin.compose import describe
from bot.providers.builtin.editing import CannotEdit, edit_image
from bot.providers.builtin.edits import EditOp, apply_edits
from bot.providers.builtin.encoding import encode
from bot.providers.builtin.recipe import Recipe
from bot.providers.builtin.recipe import read as read_recipe
from bot.providers.builtin.render import MAX_LONG_SIDE, render_description, render_scene, stamp_preview
from bot.providers.builtin.settings import BuiltinSettings, Format

__all__ = ["BuiltinProvider", "create"]

MIN_LONG_SIDE = 64
VARY_NEW_SHARE = 0.4


@dataclass(frozen=True, slots=True)
class _Rendered:
    img: PILImage.Image
    seed: int | None
    note: str | None = None


class BuiltinProvider:
    """Offline renderer implementing :class:`bot.core.ports.Provider`."""

    name = "builtin"
    capabilities = Capabilities(
        edit=True,
        max_n=4,
        aspects=None,
        negative_prompt=True,
        seed=True,
        max_reference_images=1,
        preview=True,
        upscale=True,
    )

    def __init__(self, *, long_side: int = 1024, model: str = "builtin-v1", format: Format = "png") -> None:
        if not MIN_LONG_SIDE <= long_side <= MAX_LONG_SIDE:
            raise Misconfigured(
                f"builtin long_side must be between {MIN_LONG_SIDE} and {MAX_LONG_SIDE}, got {long_side}",
                provider=self.name,
            )
        self.long_side = long_side
        self.model = model
        self.format: Format = format

    async def generate(self, request: ImageRequest, *, on_progress: ProgressCallback) -> list[Image]:
        """Render, vary or edit; all Pillow work runs in a worker thread."""
        if request.kind in (GenerationKind.EDIT, GenerationKind.VARY) and not request.reference_images:
            raise InvalidRequest(
                f"{request.kind} needs a reference image",
                provider=self.name,
                user_message=_("I need an image to work from for that."),
            )
        count = max(1, min(request.n, self.capabilities.max_n))
        base_seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
        await on_progress(0.0, None)

        reference: PILImage.Image | None = None
        if request.reference_images and request.kind in (GenerationKind.EDIT, GenerationKind.VARY):
            reference = await asyncio.to_thread(_load_reference, request.reference_images[0])
        if request.kind == GenerationKind.EDIT and reference is not None:
            data = request.reference_images[0]
            image = await asyncio.to_thread(self._edit, reference, data, request.prompt)
            await on_progress(1.0, None)
            return [image]  # a deterministic edit: more copies would be identical

        images = []
        for index in range(count):
            seed = base_seed + index
            images.append(await asyncio.to_thread(self._make, request, seed, reference))
            await on_progress((index + 1) / count, None)
        return images

    async def upscale(self, image: bytes, factor: int, *, on_progress: ProgressCallback) -> Image | None:
        """A picture it drew, drawn again ``factor`` times larger from the recipe in its file (the
        drawing is vector: no pixel is interpolated); None for any other picture."""
        recipe = read_recipe(image)
        if recipe is None:
            return None
        size = (recipe.size[0] * factor, recipe.size[1] * factor)
        if max(size) > MAX_UPSCALED_SIDE:
            return None
        await on_progress(0.0, None)
        big = await asyncio.to_thread(self._redraw, replace(recipe, size=size))
        await on_progress(1.0, None)
        return big

    async def check(self) -> ProviderHealth:
        return ProviderHealth(ok=True, detail="offline renderer")

    async def aclose(self) -> None:
        return None

    # -------------------------------------------------------------------------- worker-thread code

    def _edit(self, reference: PILImage.Image, data: bytes, instruction: str) -> Image:
        recipe = read_recipe(data)
        if recipe is not None and (max(recipe.size) > MAX_LONG_SIDE or min(recipe.size) < 1):
            recipe = None
        try:
            edited = edit_image(reference, recipe, instruction)
        except CannotEdit as exc:
            raise InvalidRequest(
                f"builtin cannot edit: {instruction!r}", provider=self.name, user_message=str(exc)
            ) from exc
        return self._finish(_Rendered(edited.img, None, edited.note), edited.recipe)

    def _redraw(self, recipe: Recipe) -> Image:
        """The recipe's scene at its size, with its colour, tone and crop edits made again."""
        earlier = [op for op in (EditOp.from_token(t) for t in recipe.post) if op is not None]
        img = apply_edits(render_description(describe(recipe), recipe.size), earlier)
        return self._finish(_Rendered(img, recipe.seed), recipe)

    def _make(self, request: ImageRequest, seed: int, reference: PILImage.Image | None) -> Image:
        if reference is None or request.kind != GenerationKind.VARY:
            size = request.aspect.size_for(self.long_side)
            recipe = Recipe(request.prompt, seed, size, request.negative)
            return self._finish(
                _Rendered(render_scene(request.prompt, seed, size, request.negative), seed), recipe
            )
        fresh = render_scene(request.prompt, seed, reference.size, request.negative)
        return self._finish(_Rendered(_blend(reference, fresh, VARY_NEW_SHARE), seed), None)

    def _finish(self, rendered: _Rendered, recipe: Recipe | None) -> Image:
        img = stamp_preview(rendered.img)
        data, mime = encode(img, self.format, recipe)
        return Image(
            data=data,
            mime=mime,
            width=img.width,
            height=img.height,
            seed=rendered.seed,
            provider=self.name,
            model=self.model,
            revised_prompt=rendered.note,
        )


def _load_reference(data: bytes) -> PILImage.Image:
    """Decode a reference safely (``ImageError`` on bad bytes) and bound its size to what we render."""
    img = open_image(data)
    if max(img.size) > MAX_LONG_SIDE:
        img.thumbnail((MAX_LONG_SIDE, MAX_LONG_SIDE), PILImage.Resampling.LANCZOS)
    return img


def _blend(reference: PILImage.Image, fresh: PILImage.Image, share: float) -> PILImage.Image:
    """``share`` of ``fresh`` over ``reference``; a transparent reference is laid over the render first."""
    base = reference
    if reference.mode == "RGBA":
        base = PILImage.alpha_composite(fresh.convert("RGBA"), reference)
    return PILImage.blend(base.convert("RGB"), fresh, share)


def create(settings: BuiltinSettings, *, client: object = None) -> BuiltinProvider:
    """The registry's entry point (the offline renderer needs no HTTP client)."""
    return BuiltinProvider(long_side=settings.long_side, format=settings.format)
