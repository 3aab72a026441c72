"""``Front``: the :class:`~bot.core.front_door.FrontDoor` the adapters are given, and nothing more."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.core import i18n
from bot.core.chat.service import ChatService
from bot.core.chat.takedown import may_use
from bot.core.front_door import ServiceStatus
from bot.core.gallery import GalleryStore
from bot.core.generation.chain import ProviderChain
from bot.core.identity import Directory
from bot.core.jobs.queue import JobQueue
from bot.core.messages import Incoming
from bot.core.ports import ArtifactStore, HistoryStore, JobStore
from bot.core.schedules.board import ScheduleBoard
from bot.core.types import Deletion, GenerationRecord, StoredImage

ANSWERED_IN = "inline_message_id"
"""``Incoming.extra`` key of a press on a message that belongs to no chat (Telegram's inline messages):
its answers replace that message, so the generation it names must be one delivered there."""


class Front:
    def __init__(
        self,
        *,
        service: ChatService,
        directory: Directory,
        history: HistoryStore,
        artifacts: ArtifactStore,
        gallery: GalleryStore,
        chain: ProviderChain,
        queue: JobQueue,
        jobs: JobStore,
        max_waiting: int,
        workers: int,
        limits: Mapping[str, Any],
        schedules: ScheduleBoard,
        models: Sequence[str] = (),
    ) -> None:
        self._service = service
        self._jobs = jobs
        self._directory = directory
        self._history = history
        self._artifacts = artifacts
        self._gallery = gallery
        self._chain = chain
        self._queue = queue
        self._max_waiting = max_waiting
        self._workers = workers
        self._limits = dict(limits)
        self._models = list(dict.fromkeys(models))
        self._schedules = schedules

    async def handle(self, message: Incoming, *, addressed: bool = True) -> int | None:
        return await self._service.handle(message, addressed=addressed)

    async def authorize_delete(self, message: Incoming, generation_id: int) -> Deletion:
        return await self._service.authorize_delete(message, generation_id)

    async def generation_in_chat(self, message: Incoming, generation_id: int) -> GenerationRecord | None:
        """The generation, if it is of this chat, was delivered to the inline message pressed (if the
        press was on one) and, when hidden, the sender may show it again."""
        record = await self._history.get_generation(generation_id=generation_id)
        if record is None or record.chat_id != await self._directory.chat(message.platform, message.chat_id):
            return None
        if (place := message.extra.get(ANSWERED_IN)) is not None and not any(
            target.extra.get(ANSWERED_IN) == place
            for target, _ids in await self._jobs.result_messages(generation_id=generation_id)
        ):
            return None  # a press on an inline message names only what was delivered to that message
        if record.hidden:
            user_id = await self._directory.user(message.platform, message.user_id, message.display_name)
            if not may_use(message, record, user_id):
                return None
        return record

    async def generation(self, generation_id: int) -> GenerationRecord | None:
        return await self._history.get_generation(generation_id=generation_id)

    async def chat_language(self, platform: str, chat_id: str) -> str | None:
        settings = await self._directory.settings(await self._directory.chat(platform, chat_id))
        return i18n.language_of(settings.get(i18n.LANGUAGE_KEY))

    async def image_bytes(self, image: StoredImage) -> bytes:
        return await self._artifacts.load(image)

    def provider_names(self) -> list[str]:
        return list(self._chain.names)

    def model_names(self) -> list[str]:
        return list(self._models)

    def status(self) -> ServiceStatus:
        health = self._chain.health()
        return ServiceStatus(
            providers=tuple((name, str(health.get(name, "closed"))) for name in self._chain.names),
            waiting=self._queue.waiting,
            running=self._queue.working,
            max_waiting=self._max_waiting,
            workers=self._workers,
            limits=self._limits,
        )

    @property
    def gallery(self) -> GalleryStore:
        return self._gallery

    @property
    def schedules(self) -> ScheduleBoard:
        return self._schedules
