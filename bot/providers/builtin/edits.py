"""Real, simple image edits for the built-in renderer: read an instruction, then apply it with Pillow.

:func:`parse_edit_instruction` is pure (text in, :class:`EditOp` list out) so it can be tested alone;
:func:`apply_edits` performs the operations in a fixed, sensible order (crop, colour, tone, detail).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from bot.core.types import Aspect


class EditKind(enum.StrEnum):
    CROP = "crop"
    WARMER = "warmer"
    COOLER = "cooler"
    BRIGHTER = "brighter"
    DARKER = "darker"
    MORE_CONTRAST = "more contrast"
    LESS_CONTRAST = "less contrast"
    MORE_SATURATION = "more saturated"
    LESS_SATURATION = "less saturated"
    GRAYSCALE = "black and white"
    BLUR = "blur"
    SHARPEN = "sharpen"


@dataclass(frozen=True, slots=True)
class EditOp:
    """One operation; ``aspect`` only for CROP; ``strength`` 1.0 is normal, 0.5 "a bit", 1.6 "much"."""

    kind: EditKind
    aspect: Aspect | None = None
    strength: float = 1.0

    def describe(self) -> str:
        if self.kind is EditKind.CROP and self.aspect is not None:
            return f"cropped to {self.aspect}"
        return str(self.kind)

    def token(self) -> str:
        """A short stable string for this operation (kept in a render's recipe): ``warmer@1.0``."""
        if self.kind is EditKind.CROP and self.aspect is not None:
            return f"crop@{self.aspect.width}:{self.aspect.height}"
        return f"{self.kind.value}@{self.strength:g}"

    @staticmethod
    def from_token(token: str) -> EditOp | None:
        """The operation :meth:`token` wrote, or None for anything else."""
        name, _, value = token.partition("@")
        try:
            if name == "crop":
                a, _, b = value.partition(":")
                width, height = int(a), int(b)
                if not (0 < width <= 64 and 0 < height <= 64 and 0.25 <= width / height <= 4):
                    return None
                return EditOp(EditKind.CROP, aspect=Aspect(width, height))
            strength = float(value)
            kind = EditKind(name)
        except ValueError:
            return None
        return (
            EditOp(kind, strength=strength) if 0.1 <= strength <= 2.0 and kind is not EditKind.CROP else None
        )


_ORDER = list(EditKind)  # application order: the declaration order above
_OPPOSITE = {
    EditKind.WARMER: EditKind.COOLER,
    EditKind.BRIGHTER: EditKind.DARKER,
    EditKind.MORE_CONTRAST: EditKind.LESS_CONTRAST,
    EditKind.MORE_SATURATION: EditKind.LESS_SATURATION,
    EditKind.BLUR: EditKind.SHARPEN,
}
_OPPOSITE.update({v: k for k, v in list(_OPPOSITE.items())})

_NEGATION = (
    r"(?:less|not\s+(?:as|so|too)|no\s+longer|tone\s+down(?:\s+the)?|reduce(?:\s+the)?|lower(?:\s+the)?)\s+"
)
_K = EditKind
# Longer phrases first: a matched span is blanked out, so "less contrast" is not also read as "contrast".
_RULES: list[tuple[str, tuple[EditKind, ...]]] = [
    (r"black\s*(?:and|&|n)\s*white|b\s*&\s*w|b/w|gr[ae]y\s*scale|monochrome|noir", (_K.GRAYSCALE,)),
    (r"(?:at\s+)?night(?:time)?|midnight", (_K.DARKER, _K.COOLER)),
    (r"out\s+of\s+focus", (_K.BLUR,)),
    (r"washed[\s-]+out|desaturated?|muted?|faded|dull(?:er)?", (_K.LESS_SATURATION,)),
    (r"flat(?:ter)?|low\s+contrast|softer\s+contrast", (_K.LESS_CONTRAST,)),
    (
        r"(?:high|higher|more|punchier|stronger)\s+contrast|contrast(?:y|ier)?|punch(?:y|ier)",
        (_K.MORE_CONTRAST,),
    ),
    (r"saturat(?:ed|ion|e)|vivid|vibrant|colou?rful|richer\s+colou?rs?", (_K.MORE_SATURATION,)),
    (r"warm(?:er|th)?|hotter|golden|gold|sunset|sunn(?:y|ier)", (_K.WARMER,)),
    (r"cool(?:er)?|cold(?:er)?|ic(?:y|ier)|bluer|frosty", (_K.COOLER,)),
    (r"bright(?:er|en|ness)?|light(?:er|en)|lit\s+up", (_K.BRIGHTER,)),
    (r"dark(?:er|en)?|dim(?:mer)?|gloom(?:y|ier)|moody", (_K.DARKER,)),
    (r"blur(?:red|ry|rier)?|soft(?:er|en)?|fuzz(?:y|ier)|dreamy", (_K.BLUR,)),
    (r"sharp(?:en|er)?|crisp(?:er)?|clearer|more\s+detail(?:ed)?", (_K.SHARPEN,)),
]
_COMPILED = [(re.compile(rf"(?P<neg>{_NEGATION})?\b(?:{words})\b"), kinds) for words, kinds in _RULES]
_RATIO = re.compile(r"\b(\d{1,2})\s*[:x\u00d7]\s*(\d{1,2})\b")  # 16:9, 16x9, 16 times-sign 9
_ASPECT_WORDS = re.compile(
    r"\b(?P<word>square|portrait|vertical|tall|phone|story|landscape|horizontal|wide(?:r|screen)?|"
    r"cinematic|panoram(?:a|ic))\b"
)
_ASPECTS = {
    "square": Aspect(1, 1), "portrait": Aspect(2, 3), "vertical": Aspect(9, 16), "tall": Aspect(9, 16),
    "phone": Aspect(9, 16), "story": Aspect(9, 16), "landscape": Aspect(3, 2), "horizontal": Aspect(3, 2),
    "wide": Aspect(16, 9), "wider": Aspect(16, 9), "widescreen": Aspect(16, 9), "cinematic": Aspect(21, 9),
    "panorama": Aspect(21, 9), "panoramic": Aspect(21, 9),
}  # fmt: skip
_STRONG = re.compile(r"\b(?:much|a\s+lot|way|very|really|far|significantly|extremely|super)\b")
_WEAK = re.compile(r"\b(?:slightly|a\s+(?:bit|little|touch|tad)|subtly|somewhat|gently|barely)\b")


def parse_edit_instruction(text: str) -> list[EditOp]:
    """The edits named in ``text`` (case-insensitive), in the order mentioned; [] if none are recognised.

    >>> [op.describe() for op in parse_edit_instruction("warmer and a 16:9 version, less contrast")]
    ['warmer', 'cropped to 16:9', 'less contrast']
    """
    s = text.lower()
    strength = 1.6 if _STRONG.search(s) else 0.5 if _WEAK.search(s) else 1.0
    found: list[tuple[int, EditOp]] = []

    def blank(m: re.Match[str]) -> None:
        nonlocal s
        s = s[: m.start()] + " " * (m.end() - m.start()) + s[m.end() :]

    for m in list(_RATIO.finditer(s)):
        a, b = int(m.group(1)), int(m.group(2))
        if a > 0 and b > 0 and 0.25 <= a / b <= 4:
            found.append((m.start(), EditOp(EditKind.CROP, aspect=Aspect(a, b))))
        blank(m)
    for m in list(_ASPECT_WORDS.finditer(s)):
        found.append((m.start(), EditOp(EditKind.CROP, aspect=_ASPECTS[m.group("word")])))
        blank(m)
    for pattern, kinds in _COMPILED:
        for m in list(pattern.finditer(s)):
            for kind in kinds:
                chosen = _OPPOSITE.get(kind) if m.group("neg") else kind
                if chosen is not None:
                    found.append((m.start(), EditOp(chosen, strength=strength)))
            blank(m)

    ops: dict[EditKind, tuple[int, EditOp]] = {}
    for position, op in sorted(found, key=lambda item: item[0]):
        if op.kind not in ops or op.kind is EditKind.CROP:  # the last aspect named wins
            ops[op.kind] = (ops[op.kind][0] if op.kind in ops else position, op)
    return [op for _, op in sorted(ops.values(), key=lambda item: item[0])]


def apply_edits(img: Image.Image, ops: list[EditOp]) -> Image.Image:
    """A new image with ``ops`` applied (alpha, if any, is kept and cropped along)."""
    alpha = img.getchannel("A") if img.mode == "RGBA" else None
    rgb = img.convert("RGB")
    for op in sorted(ops, key=lambda o: _ORDER.index(o.kind)):
        if op.kind is EditKind.CROP and op.aspect is not None:
            box = crop_box(rgb.size, op.aspect)
            rgb = rgb.crop(box)
            alpha = alpha.crop(box) if alpha is not None else None
        else:
            rgb = _apply_one(rgb, op)
    if alpha is not None:
        rgb.putalpha(alpha)
    return rgb


def crop_box(size: tuple[int, int], aspect: Aspect) -> tuple[int, int, int, int]:
    """The largest centred box of ``size`` with the given aspect."""
    w, h = size
    if w / h > aspect.ratio:
        new_w = max(1, round(h * aspect.ratio))
        left = (w - new_w) // 2
        return left, 0, left + new_w, h
    new_h = max(1, round(w / aspect.ratio))
    top = (h - new_h) // 2
    return 0, top, w, top + new_h


def _apply_one(img: Image.Image, op: EditOp) -> Image.Image:
    s = op.strength
    long_side = max(img.size)
    match op.kind:
        case EditKind.WARMER | EditKind.COOLER:
            return _temperature(img, s if op.kind is EditKind.WARMER else -s)
        case EditKind.BRIGHTER:
            return _curve(img, gamma=1 / (1 + 0.45 * s), gain=1.0)
        case EditKind.DARKER:
            return _curve(img, gamma=1 + 0.5 * s, gain=max(0.3, 1 - 0.15 * s))
        case EditKind.MORE_CONTRAST:
            return ImageEnhance.Contrast(img).enhance(1 + 0.35 * s)
        case EditKind.LESS_CONTRAST:
            return ImageEnhance.Contrast(img).enhance(max(0.2, 1 - 0.3 * s))
        case EditKind.MORE_SATURATION:
            return ImageEnhance.Color(img).enhance(1 + 0.5 * s)
        case EditKind.LESS_SATURATION:
            return ImageEnhance.Color(img).enhance(max(0.0, 1 - 0.55 * s))
        case EditKind.GRAYSCALE:
            return ImageOps.grayscale(img).convert("RGB")
        case EditKind.BLUR:
            return img.filter(ImageFilter.GaussianBlur(max(1.5, long_side * 0.004 * s)))
        case EditKind.SHARPEN:
            radius = max(1.0, long_side * 0.0015)
            return img.filter(ImageFilter.UnsharpMask(radius=radius, percent=round(130 * s), threshold=1))
        case _:
            return img


def _temperature(img: Image.Image, amount: float) -> Image.Image:
    """Positive ``amount`` warms (more red, less blue); negative cools."""
    red = _lut(gain=1 + 0.1 * amount, offset=12 * amount)
    green = _lut(gain=1 + 0.02 * amount, offset=2 * amount)
    blue = _lut(gain=1 - 0.12 * amount, offset=-12 * amount)
    return img.point(red + green + blue)


def _curve(img: Image.Image, *, gamma: float, gain: float) -> Image.Image:
    table = [min(255, round(255 * gain * (v / 255) ** gamma)) for v in range(256)]
    return img.point(table * 3)


def _lut(*, gain: float, offset: float) -> list[int]:
    return [max(0, min(255, round(v * gain + offset))) for v in range(256)]
