"""From a job's intent to the exact ``ImageRequest``: which image to edit, which seed, which options.

Resolution happens when the job runs, not when it is queued, so "make it warmer" sent while the
previous image is still being made edits that image.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.errors import InvalidInput, NotFound
from bot.core.generation.requests import Defaults, build_request, options_of
from bot.core.generation.upscale import check_upscale_size
from bot.core.i18n import _
from bot.core.messages import Edit, Generate, GenerationOptions, JobIntent, Reroll, Upscale, Vary
from bot.core.ports import ArtifactStore, HistoryStore
from bot.core.types import GenerationKind, GenerationRecord, ImageRequest, StoredImage


@dataclass(frozen=True, slots=True)
class Resolved:
    request: ImageRequest
    parent_id: int | None
    source: Mapping[str, Any] | None = None
    """The image an edit or variation starts from, recorded with the generation so that a reroll
    starts from it again: ``{"generation": 12, "image": 1}`` (0-based) or ``{"upload": {...}}``."""


SEES_HIDDEN = "sees_hidden"
"""A job payload's entry: its requester administers the chat (:attr:`Viewer.sees_hidden`)."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who a job is for, as far as hidden generations go (``/hide``): its requester's Easel id, and
    whether they administer the chat (decided when the job was accepted). A hidden generation named by
    number is theirs to use only if they asked for it (and no admin hid it: ``hidden_by_admin``) or
    ``sees_hidden``; for anyone else it is not found, as it was not when they asked
    (``bot.core.chat.takedown``)."""

    user_id: int
    sees_hidden: bool = False


def hidden(record: GenerationRecord, viewer: Viewer | None) -> bool:
    """Whether ``record`` is hidden from ``viewer`` (None: nobody's rights to check)."""
    if not record.hidden or viewer is None:
        return False
    return not viewer.sees_hidden and (record.user_id != viewer.user_id or record.hidden_by_admin)


class RequestResolver:
    def __init__(self, *, history: HistoryStore, artifacts: ArtifactStore, defaults: Defaults) -> None:
        self._history = history
        self._artifacts = artifacts
        self._defaults = defaults

    async def resolve(
        self,
        intent: JobIntent,
        *,
        chat_id: int,
        chat_settings: Mapping[str, Any],
        seed: int,
        upload: StoredImage | None = None,
        viewer: Viewer | None = None,
    ) -> Resolved:
        """``viewer``: whom the job is for, so a generation hidden since it was asked for is not used
        for someone who may not see it (None: no such check)."""
        match intent:
            case Generate(prompt=prompt, options=options):
                return Resolved(self._request(prompt, options, chat_settings, seed), None)
            case Edit():
                return await self._edit(intent, chat_id, chat_settings, seed, upload, viewer)
            case Reroll(generation_id=generation_id):
                return await self._reroll(generation_id, chat_id, chat_settings, seed, viewer)
            case Vary(generation_id=generation_id, image=image):
                return await self._vary(generation_id, image, chat_id, chat_settings, seed, viewer)
            case Upscale(generation_id=generation_id, image=image):
                return await self._upscale(generation_id, image, chat_id, viewer)

    async def target(
        self, generation_id: int | None, *, chat_id: int, required: bool, viewer: Viewer | None = None
    ) -> GenerationRecord | None:
        """The generation a command refers to: a named one in this chat (not one hidden from
        ``viewer``), else the chat's last image (never a hidden one)."""
        if generation_id is not None:
            record = await self._history.get_generation(generation_id=generation_id)
            if record is None or record.chat_id != chat_id or not record.images or hidden(record, viewer):
                raise NotFound(
                    f"generation {generation_id} not in chat {chat_id}",
                    user_message=_("I can't find image #{id} in this chat.").format(id=generation_id),
                )
            return record
        record = await self._history.last_generation(chat_id=chat_id)
        if record is None and required:
            raise InvalidInput(
                "no last image",
                user_message=_(
                    "There is no image here yet. Make one with /imagine, or send a photo to edit."
                ),
            )
        return record

    async def _edit(
        self,
        intent: Edit,
        chat_id: int,
        chat_settings: Mapping[str, Any],
        seed: int,
        upload: StoredImage | None,
        viewer: Viewer | None,
    ) -> Resolved:
        source: dict[str, Any] | None = None
        if upload is not None:
            reference, source_prompt, parent = await self._artifacts.load(upload), None, None
            source = {"upload": upload.to_json()}
        else:
            parent = await self.target(
                intent.generation_id, chat_id=chat_id, required=not intent.from_free_text, viewer=viewer
            )
            if parent is None:  # free text that reads like an edit, but nothing to edit yet
                return Resolved(self._request(intent.instruction, intent.options, chat_settings, seed), None)
            index = image_index(parent, intent.image)
            reference, source_prompt = await self._artifacts.load(parent.images[index]), parent.prompt
            source = {"generation": parent.id, "image": index}
        request = self._request(
            intent.instruction,
            intent.options,
            chat_settings,
            seed,
            kind=GenerationKind.EDIT,
            reference_images=(reference,),
            source_prompt=source_prompt,
            fallback_aspect=options_of(parent).aspect if parent else None,
        )
        return Resolved(request, parent.id if parent else None, source)

    async def _reroll(
        self,
        generation_id: int | None,
        chat_id: int,
        chat_settings: Mapping[str, Any],
        seed: int,
        viewer: Viewer | None,
    ) -> Resolved:
        target = await self.target(generation_id, chat_id=chat_id, required=True, viewer=viewer)
        assert target is not None
        references: tuple[bytes, ...] = ()
        source: dict[str, Any] | None = None
        if target.kind in (GenerationKind.EDIT, GenerationKind.VARY):
            source, reference = await self._source_of(target, viewer)
            references = (reference,) if reference is not None else ()
        request = self._request(
            target.prompt,
            options_of(target),
            chat_settings,
            seed,
            kind=target.kind if references else GenerationKind.REROLL,
            reference_images=references,
            source_prompt=target.params.get("source_prompt"),
        )
        return Resolved(request, target.id, source)

    async def _source_of(
        self, record: GenerationRecord, viewer: Viewer | None
    ) -> tuple[dict[str, Any] | None, bytes | None]:
        """The image an edit or variation started from, again (None when it is gone, or hidden from
        ``viewer``): as recorded with it, else (generations recorded before sources were) its parent's
        first image."""
        recorded = record.params.get("source")
        source = dict(recorded) if isinstance(recorded, Mapping) else None
        if source is not None and isinstance(source.get("upload"), Mapping):
            return source, await self._artifacts.load(StoredImage.from_json(source["upload"]))
        generation = source.get("generation") if source is not None else record.parent_id
        if not isinstance(generation, int):
            return None, None
        parent = await self._history.get_generation(generation_id=generation)
        if parent is None or parent.chat_id != record.chat_id or not parent.images or hidden(parent, viewer):
            return None, None
        index = source.get("image") if source is not None else 0
        at = index if isinstance(index, int) and 0 <= index < len(parent.images) else 0
        return {"generation": parent.id, "image": at}, await self._artifacts.load(parent.images[at])

    async def _vary(
        self,
        generation_id: int | None,
        image: int | None,
        chat_id: int,
        chat_settings: Mapping[str, Any],
        seed: int,
        viewer: Viewer | None,
    ) -> Resolved:
        target = await self.target(generation_id, chat_id=chat_id, required=True, viewer=viewer)
        assert target is not None
        index = image_index(target, image)
        prompt = target.params.get("source_prompt") or target.prompt
        request = self._request(
            prompt,
            options_of(target),
            chat_settings,
            seed,
            kind=GenerationKind.VARY,
            reference_images=(await self._artifacts.load(target.images[index]),),
            source_prompt=prompt,
        )
        return Resolved(request, target.id, {"generation": target.id, "image": index})

    async def _upscale(
        self, generation_id: int | None, image: int | None, chat_id: int, viewer: Viewer | None
    ) -> Resolved:
        """The asked image, to be made larger: the same prompt and seed, by the provider that made it
        if it can (``ImageRequest.made_by``), else another that can, else Lanczos (the chain)."""
        target = await self.target(generation_id, chat_id=chat_id, required=True, viewer=viewer)
        assert target is not None
        index = image_index(target, image)
        stored = target.images[index]
        factor = 2
        check_upscale_size(stored.width, stored.height, factor, name=f"#{target.id}")
        options = options_of(target)
        request = ImageRequest(
            prompt=target.prompt,
            aspect=options.aspect or self._defaults.aspect,
            n=1,
            seed=stored.seed,
            negative=target.negative,
            model=options.model,
            provider=options.provider,
            made_by=target.provider,
            kind=GenerationKind.UPSCALE,
            reference_images=(await self._artifacts.load(stored),),
            source_prompt=target.params.get("source_prompt"),
            upscale_factor=factor,
        )
        return Resolved(request, target.id, {"generation": target.id, "image": index})

    def _request(
        self,
        prompt: str,
        options: GenerationOptions,
        chat_settings: Mapping[str, Any],
        seed: int,
        **kwargs: Any,
    ) -> ImageRequest:
        return build_request(prompt, options, chat_settings, self._defaults, seed=seed, **kwargs)


def image_index(record: GenerationRecord, image: int | None) -> int:
    """The position of the asked image in the generation's set (None: the first), checked against the
    stored set: the number may come from a button or a typed ``#12/9``."""
    index = 0 if image is None else image
    if not 0 <= index < len(record.images):
        count = len(record.images)
        raise NotFound(
            f"generation {record.id} has {count} images, not image {index + 1}",
            user_message=(
                _("Picture #{id} has {count} image; there is no image {number}.")
                if count == 1
                else _("Picture #{id} has {count} images; there is no image {number}.")
            ).format(id=record.id, count=count, number=index + 1),
        )
    return index
