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
from bot.core.messages import Edit, Generate, GenerationOptions, JobIntent, Reroll, Vary
from bot.core.ports import ArtifactStore, HistoryStore
from bot.core.types import GenerationKind, GenerationRecord, ImageRequest, StoredImage


@dataclass(frozen=True, slots=True)
class Resolved:
    request: ImageRequest
    parent_id: int | None


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
    ) -> Resolved:
        match intent:
            case Generate(prompt=prompt, options=options):
                return Resolved(self._request(prompt, options, chat_settings, seed), None)
            case Edit():
                return await self._edit(intent, chat_id, chat_settings, seed, upload)
            case Reroll(generation_id=generation_id):
                return await self._reroll(generation_id, chat_id, chat_settings, seed)
            case Vary(generation_id=generation_id):
                return await self._vary(generation_id, chat_id, chat_settings, seed)

    async def target(
        self, generation_id: int | None, *, chat_id: int, required: bool
    ) -> GenerationRecord | None:
        """The generation a command refers to: a named one in this chat, else the chat's last image."""
        if generation_id is not None:
            record = await self._history.get_generation(generation_id=generation_id)
            if record is None or record.chat_id != chat_id or not record.images:
                raise NotFound(
                    f"generation {generation_id} not in chat {chat_id}",
                    user_message=f"I can't find image #{generation_id} in this chat.",
                )
            return record
        record = await self._history.last_generation(chat_id=chat_id)
        if record is None and required:
            raise InvalidInput(
                "no last image",
                user_message="There is no image here yet. Make one with /imagine, or send a photo to edit.",
            )
        return record

    async def _edit(
        self,
        intent: Edit,
        chat_id: int,
        chat_settings: Mapping[str, Any],
        seed: int,
        upload: StoredImage | None,
    ) -> Resolved:
        if upload is not None:
            reference, source_prompt, parent = await self._artifacts.load(upload), None, None
        else:
            parent = await self.target(
                intent.generation_id, chat_id=chat_id, required=not intent.from_free_text
            )
            if parent is None:  # free text that reads like an edit, but nothing to edit yet
                return Resolved(self._request(intent.instruction, intent.options, chat_settings, seed), None)
            reference, source_prompt = await self._first_image(parent), parent.prompt
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
        return Resolved(request, parent.id if parent else None)

    async def _reroll(
        self, generation_id: int | None, chat_id: int, chat_settings: Mapping[str, Any], seed: int
    ) -> Resolved:
        target = await self.target(generation_id, chat_id=chat_id, required=True)
        assert target is not None
        references: tuple[bytes, ...] = ()
        if target.kind in (GenerationKind.EDIT, GenerationKind.VARY) and target.parent_id is not None:
            source = await self._history.get_generation(generation_id=target.parent_id)
            if source is not None and source.images:
                references = (await self._first_image(source),)
        request = self._request(
            target.prompt,
            options_of(target),
            chat_settings,
            seed,
            kind=target.kind if references else GenerationKind.REROLL,
            reference_images=references,
            source_prompt=target.params.get("source_prompt"),
        )
        return Resolved(request, target.id)

    async def _vary(
        self, generation_id: int | None, chat_id: int, chat_settings: Mapping[str, Any], seed: int
    ) -> Resolved:
        target = await self.target(generation_id, chat_id=chat_id, required=True)
        assert target is not None
        prompt = target.params.get("source_prompt") or target.prompt
        request = self._request(
            prompt,
            options_of(target),
            chat_settings,
            seed,
            kind=GenerationKind.VARY,
            reference_images=(await self._first_image(target),),
            source_prompt=prompt,
        )
        return Resolved(request, target.id)

    def _request(
        self,
        prompt: str,
        options: GenerationOptions,
        chat_settings: Mapping[str, Any],
        seed: int,
        **kwargs: Any,
    ) -> ImageRequest:
        return build_request(prompt, options, chat_settings, self._defaults, seed=seed, **kwargs)

    async def _first_image(self, record: GenerationRecord) -> bytes:
        return await self._artifacts.load(record.images[0])
