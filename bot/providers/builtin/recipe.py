"""What the built-in renderer drew, as a small :class:`Recipe` it keeps inside the image file, so an
edit can redraw the same scene with a change ("add a hat", "make it night", "remove the sun").

The recipe travels with the bytes: a ``tEXt`` chunk in a PNG, the comment segment of a JPEG, the XMP
slot of a WebP, all under :data:`KEY`. A reference without one (a photo someone sent) gets colour and
tone edits only. Reading never trusts the bytes: anything malformed or out of range is no recipe.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any

from PIL import Image

KEY = "easel-scene"
VERSION = 2
MAX_PROMPT = 4000
MAX_ITEMS = 24
_TIMES = ("night", "day", "dawn", "sunset")
_MAX_SIDE = 4096


@dataclass(frozen=True, slots=True)
class Recipe:
    prompt: str
    seed: int
    size: tuple[int, int]
    negative: str | None = None
    added: tuple[str, ...] = ()
    """Subject, weather and sky words an edit added ("dog", "snow", "rainbow")."""
    removed: tuple[str, ...] = ()
    """Words an edit took away ("sun", "fox"): read like ``--no``."""
    time: str | None = None
    """A time of day an edit set, replacing the prompt's."""
    accessories: tuple[str, ...] = ()
    post: tuple[str, ...] = field(default=())
    """Colour, tone and crop edits applied after drawing, as ``EditOp.token()`` strings, in order."""

    def to_json(self) -> str:
        data = asdict(self)
        data["v"] = VERSION
        return json.dumps(data, separators=(",", ":"), ensure_ascii=True, sort_keys=True)

    @staticmethod
    def from_json(text: str) -> Recipe | None:
        """The recipe in ``text``, or None when it is not one this version wrote."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("v") != VERSION:
            return None
        try:
            return _checked(data)
        except (TypeError, ValueError, KeyError):
            return None


def _checked(data: dict[str, Any]) -> Recipe:
    prompt, seed, size = data["prompt"], data["seed"], data["size"]
    if not isinstance(prompt, str) or len(prompt) > MAX_PROMPT:
        raise ValueError("prompt")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise ValueError("seed")
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(n, int) for n in size)):
        raise ValueError("size")
    if not all(16 <= n <= _MAX_SIDE for n in size):
        raise ValueError("size")
    negative = data.get("negative")
    if negative is not None and (not isinstance(negative, str) or len(negative) > MAX_PROMPT):
        raise ValueError("negative")
    time = data.get("time")
    if time is not None and time not in _TIMES:
        raise ValueError("time")
    return Recipe(
        prompt=prompt,
        seed=seed,
        size=(size[0], size[1]),
        negative=negative,
        added=_words(data.get("added", [])),
        removed=_words(data.get("removed", [])),
        time=time,
        accessories=_words(data.get("accessories", [])),
        post=_words(data.get("post", [])),
    )


def _words(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise ValueError("list")
    if not all(isinstance(item, str) and 0 < len(item) <= 40 for item in value):
        raise ValueError("item")
    return tuple(value)


# ------------------------------------------------------------------------------ inside the file


def embed(data: bytes, mime: str, recipe: Recipe) -> bytes:
    """``data`` (PNG or JPEG bytes as encoded) with the recipe added; other types come back as they are."""
    text = recipe.to_json().encode()
    if mime == "image/png" and data[:8] == b"\x89PNG\r\n\x1a\n":
        chunk = KEY.encode() + b"\x00" + text
        end_of_header = 8 + 4 + 4 + 13 + 4  # signature, then IHDR (length, type, 13 bytes, CRC)
        crc = zlib.crc32(b"tEXt" + chunk)
        return (
            data[:end_of_header]
            + struct.pack(">I", len(chunk))
            + b"tEXt"
            + chunk
            + struct.pack(">I", crc)
            + (data[end_of_header:])
        )
    if mime == "image/jpeg" and data[:2] == b"\xff\xd8" and len(text) + len(KEY) + 3 < 65533:
        body = KEY.encode() + b"\x00" + text
        return data[:2] + b"\xff\xfe" + struct.pack(">H", len(body) + 2) + body + data[2:]
    return data


def webp_xmp(recipe: Recipe) -> bytes:
    """The recipe as the XMP payload of a WebP."""
    return KEY.encode() + b"\x00" + recipe.to_json().encode()


def read(data: bytes) -> Recipe | None:
    """The recipe kept in an image file by :func:`embed` or :func:`webp_xmp`, else None."""
    try:
        with Image.open(io.BytesIO(data)) as img:  # the header only: a PNG's early text is in ``info``
            info = dict(img.info)
    except Exception:  # not an image Pillow can open: certainly no recipe
        return None
    raw: object = info.get(KEY)
    for slot in ("comment", "xmp"):
        value = info.get(slot)
        if raw is None and isinstance(value, bytes) and value.startswith(KEY.encode() + b"\x00"):
            raw = value[len(KEY) + 1 :].decode("utf-8", errors="replace")
    return Recipe.from_json(raw) if isinstance(raw, str) else None
