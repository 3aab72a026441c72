"""OpenAI's image models, as ``openai`` and ``openai-responses`` both need them.

The rules that depend on the model: which sizes it accepts (the GPT standard sizes; any ``WxH`` with
sides in 16s and an aspect from 1:3 to 3:1 on gpt-image-2 and gpt-image-2.5-*; the old dall-e sizes),
how many images one call makes, which quality words it takes, how many images an edit may start from
and whether ``response_format`` may be sent (dall-e only; GPT models always answer base64 and reject
the field). Also the defaults both providers share (base URL
``https://api.openai.com/v1``, the image model and the catalogue).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.generation.fitting import nearest_aspect
from bot.core.types import Aspect, Capabilities

__all__ = [
    "CATALOG",
    "DEFAULT_BASE_URL",
    "DEFAULT_IMAGE_MODEL",
    "GPT_IMAGE_PREFIXES",
    "IMAGE_MODEL_PREFIXES",
    "RETIRED",
    "ModelRules",
    "is_image_model",
    "rules_for",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_IMAGE_MODEL = "gpt-image-1.5"
CATALOG = (
    "gpt-image-1.5",
    "gpt-image-1-mini",
    "gpt-image-2",
    "gpt-image-2-2026-04-21",
    "gpt-image-2.5-sunburst",
    "gpt-image-2.5-flare",
    "gpt-image-2.6-sunburst",
    "gpt-image-2.6-flare",
    "chatgpt-image-latest",
)
"""GPT image models in the openai SDK 3.60 ``ImageModel`` list, less the shut-down ones: gpt-image-1
("GPT Image 1 was shut down on October 23, 2026"), dall-e-2 and dall-e-3 (retired on 2026-05-12)."""
RETIRED = ("gpt-image-1", "dall-e-2", "dall-e-3")
FLEX_SIZE_MODELS = re.compile(r"gpt-image-2(?:\.5-(?:sunburst|flare))?(?:-\d{4}-\d{2}-\d{2})?")
"""The models that take any ``WxH`` (openai SDK 3.60, ``size``): gpt-image-2, gpt-image-2.5-sunburst and
gpt-image-2.5-flare, with their dated snapshots. gpt-image-2.6-* are not listed there: classic sizes."""
GPT_IMAGE_PREFIXES = ("gpt-image", "chatgpt-image")
IMAGE_MODEL_PREFIXES = (*GPT_IMAGE_PREFIXES, "dall-e")

FLEX_LONG_SIDE = 1536
"""The long side of a free-form size: 16:9 is 1536x864 (the SDK's own example), 3:1 is 1536x512; well
inside "maximum 3840x2160" and under 2560x1440, above which sizes are "experimental"."""
FLEX_MULTIPLE = 16
_GPT_QUALITIES = {
    "low": "low",
    "medium": "medium",
    "high": "high",
    "auto": "auto",
    "standard": "medium",
    "hd": "high",
}


@dataclass(frozen=True, slots=True)
class ModelRules:
    """What one image model accepts."""

    sizes: Mapping[Aspect, str] | None
    """Aspect → the ``size`` value; None: any ``WxH`` (sides multiples of 16) for :attr:`flex_aspects`."""
    max_n: int
    qualities: Mapping[str, str]
    """Easel's quality word → the model's; words not listed are not sent."""
    max_references: int
    """Images an edit may start from (0: the model cannot edit)."""
    response_format: bool = False
    """Whether the model takes ``response_format`` (dall-e only)."""
    flex_aspects: tuple[Aspect, ...] = ()

    @property
    def aspects(self) -> tuple[Aspect, ...]:
        return tuple(self.sizes) if self.sizes is not None else self.flex_aspects

    def size(self, aspect: Aspect) -> str:
        """The ``size`` for ``aspect``, or for the nearest aspect the model has."""
        nearest = aspect if aspect in self.aspects else nearest_aspect(aspect, self.aspects)
        if self.sizes is not None:
            return self.sizes[nearest]
        width, height = nearest.size_for(FLEX_LONG_SIDE, multiple=FLEX_MULTIPLE)
        return f"{width}x{height}"

    def quality(self, wanted: str | None) -> str | None:
        return self.qualities.get(wanted.lower()) if wanted else None

    def capabilities(self, *, max_n: int | None = None) -> Capabilities:
        return Capabilities(
            edit=self.max_references > 0,
            max_n=min(self.max_n, max_n) if max_n is not None else self.max_n,
            aspects=self.aspects,
            negative_prompt=False,
            seed=False,
            max_reference_images=self.max_references,
        )


GPT_IMAGE = ModelRules(
    sizes={Aspect(1, 1): "1024x1024", Aspect(3, 2): "1536x1024", Aspect(2, 3): "1024x1536"},
    max_n=10,
    qualities=_GPT_QUALITIES,
    max_references=16,
)
GPT_IMAGE_2 = ModelRules(
    sizes=None,
    max_n=10,
    qualities=_GPT_QUALITIES,
    max_references=16,
    flex_aspects=tuple(
        Aspect(w, h)
        for w, h in (
            *((1, 1), (3, 2), (2, 3), (4, 3), (3, 4), (5, 4), (4, 5), (16, 9), (9, 16)),
            *((2, 1), (1, 2), (21, 9), (9, 21), (3, 1), (1, 3)),
        )
    ),
)
DALL_E_3 = ModelRules(
    sizes={Aspect(1, 1): "1024x1024", Aspect(7, 4): "1792x1024", Aspect(4, 7): "1024x1792"},
    max_n=1,
    qualities={"standard": "standard", "hd": "hd", "high": "hd", "low": "standard", "medium": "standard"},
    max_references=0,
    response_format=True,
)
DALL_E_2 = ModelRules(
    sizes={Aspect(1, 1): "1024x1024"}, max_n=10, qualities={}, max_references=1, response_format=True
)


def rules_for(model: str) -> ModelRules:
    """The rules of ``model``; unknown names get the GPT image rules (the API will say if it minds)."""
    name = model.lower()
    if FLEX_SIZE_MODELS.fullmatch(name):
        return GPT_IMAGE_2
    if name.startswith("dall-e-3"):
        return DALL_E_3
    if name.startswith("dall-e-2"):
        return DALL_E_2
    return GPT_IMAGE


def is_image_model(model: str) -> bool:
    return model.lower().startswith(IMAGE_MODEL_PREFIXES)
