"""Who may delete or hide a generation, and doing it: ``/delete`` (and the Delete buttons, the web
gallery's Delete) removes it for good; ``/hide`` keeps its rows and files but leaves it out of the
history, the gallery and "the last image"; ``/unhide`` shows it again.

The rights are the same for all three: the person who asked for it, or an administrator of its chat;
the operator's own consoles (the web chat and the terminal) any chat's, as the gallery shows every
chat. A hidden generation named by number, by a reply or by a button is acted on (Original, Reroll,
Vary, Upscale, Edit) only for those same people; for anyone else it is not there. Every decision is
read from the stored generation, never from what a client sent.

One exception makes an admin's takedown stick: a generation an admin (or the operator) hid is stored
``hidden_by_admin``. Only an admin may show it again (its requester's ``/hide`` or ``/unhide`` is
refused with :data:`ADMIN_HID`), and its requester no longer sees it either (no Original, Reroll,
Vary, Upscale or Edit of it, so it cannot be shared again that way); they may still delete it. One a
requester hid themselves is theirs to show again, as before.
"""

from __future__ import annotations

import logging

from bot.core.errors import InvalidInput, NotFound, StorageError
from bot.core.i18n import N_, _
from bot.core.identity import Directory
from bot.core.jobs.limits import LOCAL_PLATFORMS
from bot.core.messages import Incoming
from bot.core.ports import ArtifactStore, HistoryStore, JobStore
from bot.core.rights import may_manage
from bot.core.types import Deletion, GenerationRecord

log = logging.getLogger(__name__)
GONE = N_("That image is gone.")
NOT_SENT_YET = N_("That image is still being sent; try again in a moment.")
DELETE_REFUSED = N_("Only the person who asked for it or an admin can delete this.")
HIDE_REFUSED = N_("Only the person who asked for it or an admin can hide this.")
UNHIDE_REFUSED = N_("Only the person who asked for it or an admin can show this again.")
ADMIN_HID = N_("A chat admin hid this; only an admin can show it again.")
NOT_HERE = N_("I can't find image #{id} in this chat.")
HIDDEN = N_(
    "Hidden #{id}: it is left out of the history, the gallery and edits of the last image; its files "
    "are kept. /unhide #{id} shows it again."
)
UNHIDDEN = N_("#{id} is shown again in the history and the gallery.")


def is_operator(message: Incoming) -> bool:
    """The operator's own consoles (web chat, terminal): they administer every chat."""
    return message.is_admin and message.platform in LOCAL_PLATFORMS


def administers(message: Incoming) -> bool:
    """Whether the sender may delete, hide or show again anyone's generation of the chat."""
    return may_manage(message) or is_operator(message)


def may_change(message: Incoming, record: GenerationRecord, user_id: int) -> bool:
    """Whether the sender (Easel id ``user_id``) may delete, hide or show ``record`` again."""
    return record.user_id == user_id or administers(message)


def may_use(message: Incoming, record: GenerationRecord, user_id: int) -> bool:
    """Whether the sender may act on ``record``: anyone on a shown one, those who may hide it on a
    hidden one, only admins on one an admin hid."""
    if not record.hidden or administers(message):
        return True
    return record.user_id == user_id and not record.hidden_by_admin


class Takedown:
    def __init__(
        self,
        *,
        directory: Directory,
        history: HistoryStore,
        jobs: JobStore,
        artifacts: ArtifactStore | None = None,
    ) -> None:
        self._directory = directory
        self._history = history
        self._jobs = jobs
        self._artifacts = artifacts

    async def _allowed(self, message: Incoming, generation_id: int, refused: str) -> GenerationRecord:
        """The generation, if the sender may change it; ``NotFound`` (not in this chat) or
        ``InvalidInput`` with ``refused`` (someone else's, and the sender is no admin) otherwise."""
        user_id, chat_id, _settings = await self._directory.identify(message)
        record = await self._history.get_generation(generation_id=generation_id)
        if record is None or (record.chat_id != chat_id and not is_operator(message)):
            raise NotFound(f"generation {generation_id} not in chat {chat_id}", user_message=_(GONE))
        if not may_change(message, record, user_id):
            raise InvalidInput(f"change of {generation_id} refused", user_message=_(refused))
        return record

    async def check_use(self, message: Incoming, generation_id: int) -> None:
        """``NotFound`` (the resolver's answer for an image not in this chat) when ``generation_id`` is
        hidden and the sender is not one who may show it again."""
        record = await self._history.get_generation(generation_id=generation_id)
        if record is None or not record.hidden:
            return  # the job's resolver answers for missing ones
        user_id, _chat, _settings = await self._directory.identify(message)
        if not may_use(message, record, user_id):
            raise NotFound(
                f"generation {generation_id} is hidden", user_message=_(NOT_HERE).format(id=generation_id)
            )

    async def hide(self, message: Incoming, generation_id: int, *, hidden: bool) -> str:
        """``/hide #12`` or ``/unhide #12``: the answer to say. An admin's (the operator's) hide is
        stored as such; one an admin hid is refused to anyone else (:data:`ADMIN_HID`)."""
        record = await self._allowed(message, generation_id, HIDE_REFUSED if hidden else UNHIDE_REFUSED)
        by_admin = administers(message)
        if record.hidden_by_admin and not by_admin:
            raise InvalidInput(f"{generation_id} was hidden by an admin", user_message=_(ADMIN_HID))
        try:
            await self._history.set_hidden(generation_id=generation_id, hidden=hidden, by_admin=by_admin)
        except NotFound as exc:  # deleted meanwhile
            raise NotFound(str(exc), user_message=_(GONE)) from exc
        except InvalidInput as exc:  # an admin hid it meanwhile: the store refused the unhide
            raise InvalidInput(str(exc), user_message=_(ADMIN_HID)) from exc
        return (_(HIDDEN) if hidden else _(UNHIDDEN)).format(id=generation_id)

    async def delete(self, message: Incoming, generation_id: int) -> Deletion:
        """Delete a generation: its rows go from the history and the gallery, its files from
        ``media_dir``. Returns the messages that showed it in this chat, for the adapter to remove."""
        await self._allowed(message, generation_id, DELETE_REFUSED)
        shown = [
            (target, tuple(ids))
            for target, ids in await self._jobs.result_messages(generation_id=generation_id)
            if (target.platform, target.chat_id) == (message.platform, message.chat_id) and ids
        ]
        try:
            images = await self._history.delete_generation(generation_id=generation_id)
        except NotFound as exc:  # deleted meanwhile (two presses at once)
            raise NotFound(str(exc), user_message=_(GONE)) from exc
        except InvalidInput as exc:  # its result is still on its way: deleted once it arrived
            raise InvalidInput(str(exc), user_message=_(NOT_SENT_YET)) from exc
        if self._artifacts is not None:
            try:
                await self._artifacts.remove(images)
            except StorageError:  # the rows are gone: the image is deleted for everyone; files left over
                log.exception("generation %s deleted, but not all of its files", generation_id)
        return Deletion(generation_id, tuple(shown))
