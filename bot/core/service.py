"""Use cases: what happens for each intent. Platform-free; talks to ports only."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any

from bot.core import imaging, texts
from bot.core.chain import ProviderChain
from bot.core.errors import EaselError, InvalidInput, NotFound
from bot.core.ports import ArtifactStore, Clock, HistoryStore, ProgressCallback, Responder
from bot.core.requests import (
    Defaults,
    build_request,
    new_seed,
    options_of,
    params_of,
    validate_chat_setting,
)
from bot.core.router import Router
from bot.core.types import (
    Action,
    Cancel,
    Done,
    Edit,
    Failed,
    Generate,
    GenerationKind,
    GenerationOptions,
    GenerationRecord,
    GenerationResult,
    Help,
    History,
    Ignore,
    ImageRequest,
    Incoming,
    Intent,
    Progress,
    Reply,
    Reroll,
    Settings,
    Started,
    Status,
    StoredImage,
    Vary,
)

log = logging.getLogger(__name__)

RESULT_ACTIONS = (Action.REROLL, Action.VARY, Action.EDIT, Action.ORIGINAL, Action.DELETE)
HISTORY_PAGE = 10
UNEXPECTED = "Something went wrong on my side; it has been logged. Please try again."


@dataclass(frozen=True, slots=True)
class Conversation:
    """Who asked, where, and how to answer."""

    message: Incoming
    user_id: int
    chat_id: int
    chat_settings: dict[str, Any]
    responder: Responder


class EaselService:
    def __init__(
        self,
        *,
        router: Router,
        history: HistoryStore,
        artifacts: ArtifactStore,
        chain: ProviderChain,
        clock: Clock,
        defaults: Defaults,
        rng: random.Random | None = None,
    ) -> None:
        self._router = router
        self._history = history
        self._artifacts = artifacts
        self._chain = chain
        self._clock = clock
        self._defaults = defaults
        self._rng = rng or random.Random()
        self._running: dict[int, set[asyncio.Task[Any]]] = {}

    async def handle(self, message: Incoming, responder: Responder, *, addressed: bool = True) -> None:
        """Route one incoming message and answer it. Never raises for the user's mistakes."""
        try:
            intent = self._router.route(message, addressed=addressed)
            await self.execute(intent, message, responder)
        except EaselError as exc:
            log.info("request refused: %s", exc)
            await responder.send(Reply(text=exc.user_message, is_error=True))
        except Exception:
            log.exception("unexpected error handling %s message %s", message.platform, message.message_id)
            await responder.send(Reply(text=UNEXPECTED, is_error=True))

    async def execute(self, intent: Intent, message: Incoming, responder: Responder) -> None:
        if isinstance(intent, Ignore):
            return
        if isinstance(intent, Help):
            await responder.send(Reply(text=texts.HELP))
            return
        conv = await self._conversation(message, responder)
        match intent:
            case Generate():
                await self._generate(conv, intent)
            case Edit():
                await self._edit(conv, intent)
            case Reroll():
                await self._reroll(conv, intent.generation_id)
            case Vary():
                await self._vary(conv, intent.generation_id)
            case History():
                await self._show_history(conv, intent.page)
            case Status():
                await self._status(conv)
            case Settings():
                await self._settings(conv, intent)
            case Cancel():
                await self._cancel(conv)

    # ------------------------------------------------------------------------------------ use cases

    async def _generate(self, conv: Conversation, intent: Generate) -> None:
        request = self._request(conv, intent.prompt, intent.options)
        await self._run(conv, request, parent_id=None)

    async def _edit(self, conv: Conversation, intent: Edit) -> None:
        if intent.reference is not None:
            await asyncio.to_thread(imaging.open_image, intent.reference.data)
            reference, source_prompt, parent = intent.reference.data, None, None
        else:
            parent = await self._target(conv, intent.generation_id, required=not intent.from_free_text)
            if parent is None:  # free text that reads like an edit, but nothing to edit yet
                await self._generate(conv, Generate(intent.instruction, intent.options))
                return
            reference, source_prompt = await self._first_image(parent), parent.prompt
        fallback_aspect = options_of(parent).aspect if parent else None
        request = self._request(
            conv,
            intent.instruction,
            intent.options,
            kind=GenerationKind.EDIT,
            reference_images=(reference,),
            source_prompt=source_prompt,
            fallback_aspect=fallback_aspect,
        )
        await self._run(conv, request, parent_id=parent.id if parent else None)

    async def _reroll(self, conv: Conversation, generation_id: int | None) -> None:
        target = await self._target(conv, generation_id, required=True)
        assert target is not None
        references: tuple[bytes, ...] = ()
        if target.kind in (GenerationKind.EDIT, GenerationKind.VARY) and target.parent_id is not None:
            source = await self._history.get_generation(generation_id=target.parent_id)
            if source is not None and source.images:
                references = (await self._first_image(source),)
        kind = target.kind if references else GenerationKind.REROLL
        request = self._request(
            conv,
            target.prompt,
            options_of(target),
            kind=kind,
            reference_images=references,
            source_prompt=target.params.get("source_prompt"),
        )
        await self._run(conv, request, parent_id=target.id)

    async def _vary(self, conv: Conversation, generation_id: int | None) -> None:
        target = await self._target(conv, generation_id, required=True)
        assert target is not None
        prompt = target.params.get("source_prompt") or target.prompt
        request = self._request(
            conv,
            prompt,
            options_of(target),
            kind=GenerationKind.VARY,
            reference_images=(await self._first_image(target),),
            source_prompt=prompt,
        )
        await self._run(conv, request, parent_id=target.id)

    async def _show_history(self, conv: Conversation, page: int) -> None:
        records = await self._history.list_generations(
            chat_id=conv.chat_id, limit=HISTORY_PAGE, offset=(page - 1) * HISTORY_PAGE
        )
        await conv.responder.send(Reply(text=texts.history_lines(records, page)))

    async def _status(self, conv: Conversation) -> None:
        usage = await self._history.usage(user_id=conv.user_id, day=self._clock.now().date())
        running = sum(1 for task in self._running.get(conv.chat_id, ()) if not task.done())
        lines = [
            f"Provider: {' → '.join(self._chain.names)}",
            f"Your images today: {usage.images_today} (all time: {usage.images_total})",
            f"Running in this chat: {running}",
        ]
        await conv.responder.send(Reply(text="\n".join(lines)))

    async def _settings(self, conv: Conversation, intent: Settings) -> None:
        settings = dict(conv.chat_settings)
        if intent.key == "reset":
            settings = {}
        elif intent.key is not None and intent.value is None:
            settings.pop(intent.key, None)
        elif intent.key is not None and intent.value is not None:
            settings[intent.key] = validate_chat_setting(intent.key, intent.value, self._defaults)
        if intent.key is not None:
            await self._history.set_chat_settings(chat_id=conv.chat_id, settings=settings)
        await conv.responder.send(Reply(text=texts.settings_lines(settings)))

    async def _cancel(self, conv: Conversation) -> None:
        tasks = [task for task in self._running.get(conv.chat_id, ()) if not task.done()]
        for task in tasks:
            task.cancel()
        text = f"Cancelled {len(tasks)} request(s)." if tasks else "Nothing is running in this chat."
        await conv.responder.send(Reply(text=text))

    # ------------------------------------------------------------------------------------- running

    async def _run(self, conv: Conversation, request: ImageRequest, *, parent_id: int | None) -> None:
        now = self._clock.now()
        generation_id = await self._history.create_generation(
            chat_id=conv.chat_id,
            user_id=conv.user_id,
            kind=request.kind,
            prompt=request.prompt,
            negative=request.negative,
            params=params_of(request),
            parent_id=parent_id,
            now=now,
        )
        responder = conv.responder
        await responder.event(Started(provider=self._chain.primary.name))

        async def on_progress(fraction: float, preview: bytes | None) -> None:
            await responder.event(Progress(fraction=fraction, preview=preview))

        work = asyncio.create_task(
            self._produce(request, generation_id, parent_id, conv.user_id, on_progress)
        )
        running = self._running.setdefault(conv.chat_id, set())
        running.add(work)
        try:
            result, stored = await work
        except asyncio.CancelledError:
            await self._history.fail_generation(
                generation_id=generation_id, error="cancelled", now=self._clock.now(), cancelled=True
            )
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # we are being shut down, not cancelled by the user
            await responder.event(Failed(reason="Cancelled."))
            return
        except Exception as exc:
            await self._history.fail_generation(
                generation_id=generation_id, error=repr(exc), now=self._clock.now()
            )
            reason = exc.user_message if isinstance(exc, EaselError) else UNEXPECTED
            if not isinstance(exc, EaselError):
                log.exception("generation %s failed unexpectedly", generation_id)
            await responder.event(Failed(reason=reason))
            await responder.send(Reply(text=reason, generation_id=generation_id, is_error=True))
            return
        finally:
            running.discard(work)
        notes = tuple(result.notes) + tuple(
            img.revised_prompt
            for img in result.images[:1]
            if img.revised_prompt and img.provider == "builtin"
        )
        await responder.event(Done(generation_id=generation_id))
        await responder.send(
            Reply(
                text=texts.caption(request, result, generation_id),
                images=tuple(stored),
                generation_id=generation_id,
                actions=RESULT_ACTIONS,
                notes=notes,
            )
        )

    async def _produce(
        self,
        request: ImageRequest,
        generation_id: int,
        parent_id: int | None,
        user_id: int,
        on_progress: ProgressCallback,
    ) -> tuple[GenerationResult, list[StoredImage]]:
        """Generate, save the files and record them: the part of a request that /cancel can stop."""
        result = await self._chain.generate(request, on_progress=on_progress)
        stored: list[StoredImage] = []
        for image in result.images:
            metadata = {
                "generation_id": generation_id,
                "prompt": request.prompt,
                "params": params_of(request),
                "provider": result.provider,
                "model": image.model,
                "parent": parent_id,
                "revised_prompt": image.revised_prompt,
            }
            stored.append(await self._artifacts.save(image, metadata=metadata, now=self._clock.now()))
        finished = self._clock.now()
        await self._history.complete_generation(
            generation_id=generation_id,
            provider=result.provider,
            model=result.model,
            images=stored,
            now=finished,
        )
        await self._history.add_usage(user_id=user_id, day=finished.date(), images=len(stored))
        return result, stored

    # ------------------------------------------------------------------------------------- helpers

    async def _conversation(self, message: Incoming, responder: Responder) -> Conversation:
        user_id = await self._history.upsert_user(
            platform=message.platform, external_id=message.user_id, display_name=message.display_name
        )
        chat_id = await self._history.upsert_chat(platform=message.platform, external_id=message.chat_id)
        settings = await self._history.get_chat_settings(chat_id=chat_id)
        return Conversation(message, user_id, chat_id, settings, responder)

    def _request(
        self, conv: Conversation, prompt: str, options: GenerationOptions, **kwargs: Any
    ) -> ImageRequest:
        return build_request(
            prompt, options, conv.chat_settings, self._defaults, seed=new_seed(self._rng), **kwargs
        )

    async def _target(
        self, conv: Conversation, generation_id: int | None, *, required: bool
    ) -> GenerationRecord | None:
        """The generation a command refers to: a named one in this chat, else the chat's last image."""
        if generation_id is not None:
            record = await self._history.get_generation(generation_id=generation_id)
            if record is None or record.chat_id != conv.chat_id or not record.images:
                raise NotFound(
                    f"generation {generation_id} not in chat {conv.chat_id}",
                    user_message=f"I can't find image #{generation_id} in this chat.",
                )
            return record
        record = await self._history.last_generation(chat_id=conv.chat_id)
        if record is None and required:
            raise InvalidInput(
                "no last image",
                user_message="There is no image here yet. Make one with /imagine, or send a photo to edit.",
            )
        return record

    async def _first_image(self, record: GenerationRecord) -> bytes:
        return await self._artifacts.load(record.images[0])


__all__ = ["Conversation", "Defaults", "EaselService"]
