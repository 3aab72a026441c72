"""Job payloads: the intent and its context as plain JSON, so a job survives a restart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.errors import PayloadError
from bot.core.i18n import _
from bot.core.messages import Edit, Generate, GenerationOptions, JobIntent, Reroll, Upscale, Vary
from bot.core.types import Action, Aspect, Reply, StoredImage


def options_to_json(options: GenerationOptions) -> dict[str, Any]:
    return {
        "aspect": str(options.aspect) if options.aspect else None,
        "n": options.n,
        "seed": options.seed,
        "negative": options.negative,
        "model": options.model,
        "provider": options.provider,
        "quality": options.quality,
    }


def options_from_json(data: Mapping[str, Any]) -> GenerationOptions:
    aspect = data.get("aspect")
    width, height = (int(part) for part in str(aspect).split(":")) if aspect else (0, 0)
    return GenerationOptions(
        aspect=Aspect(width, height) if aspect else None,
        n=data.get("n"),
        seed=data.get("seed"),
        negative=data.get("negative"),
        model=data.get("model"),
        provider=data.get("provider"),
        quality=data.get("quality"),
    )


def intent_to_json(intent: JobIntent) -> dict[str, Any]:
    match intent:
        case Generate(prompt=prompt, options=options):
            return {"type": "generate", "prompt": prompt, "options": options_to_json(options)}
        case Edit():
            return {
                "type": "edit",
                "instruction": intent.instruction,
                "options": options_to_json(intent.options),
                "generation_id": intent.generation_id,
                "from_free_text": intent.from_free_text,
                "image": intent.image,
            }
        case Reroll(generation_id=generation_id):
            return {"type": "reroll", "generation_id": generation_id}
        case Vary(generation_id=generation_id, image=image):
            return {"type": "vary", "generation_id": generation_id, "image": image}
        case Upscale(generation_id=generation_id, image=image):
            return {"type": "upscale", "generation_id": generation_id, "image": image}


def intent_from_json(data: Mapping[str, Any]) -> JobIntent:
    """The intent back; an uploaded reference image is not part of it (see ``StoredImage.to_json``)."""
    kind = data.get("type")
    options = options_from_json(data.get("options") or {})
    if kind == "generate":
        return Generate(str(data["prompt"]), options)
    if kind == "edit":
        return Edit(
            str(data["instruction"]),
            options,
            generation_id=data.get("generation_id"),
            from_free_text=bool(data.get("from_free_text")),
            image=_image(data),
        )
    if kind == "reroll":
        return Reroll(data.get("generation_id"))
    if kind == "vary":
        return Vary(data.get("generation_id"), image=_image(data))
    if kind == "upscale":
        return Upscale(data.get("generation_id"), image=_image(data))
    raise PayloadError(
        f"unknown job intent {kind!r}", user_message=_("This request was made by another version.")
    )


def _image(data: Mapping[str, Any]) -> int | None:
    """Which image of the set (jobs queued before images were named have none: the first)."""
    image = data.get("image")
    return image if isinstance(image, int) and not isinstance(image, bool) and image >= 0 else None


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """A reply as a message for another replica (images by their stored files: a shared volume; its
    ``extra``'s plain values, such as the chat's format and the delivery key, and whether it is a
    spoiler go too)."""
    return {
        "text": reply.text,
        "images": [image.to_json() for image in reply.images],
        "generation_id": reply.generation_id,
        "actions": [action.value for action in reply.actions],
        "notes": list(reply.notes),
        "is_error": reply.is_error,
        "extra": {k: v for k, v in reply.extra.items() if isinstance(v, str | int | float | bool)},
        "spoiler": reply.spoiler,
    }


def reply_from_json(data: Mapping[str, Any]) -> Reply:
    return Reply(
        text=str(data.get("text") or ""),
        images=tuple(StoredImage.from_json(image) for image in data.get("images") or ()),
        generation_id=data.get("generation_id"),
        actions=tuple(Action(action) for action in data.get("actions") or ()),
        notes=tuple(str(note) for note in data.get("notes") or ()),
        is_error=bool(data.get("is_error")),
        extra=_scalars(data.get("extra")),
        spoiler=data.get("spoiler") is True,
    )


def _scalars(value: object) -> dict[str, Any]:
    """A reply's ``extra`` as it came over the bus: string keys with plain values only."""
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str | int | float | bool)}
