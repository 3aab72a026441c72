"""Who may do what in a chat, decided from stored facts and the adapter's word on admin status.

Adapters only say who is speaking and whether that person is an administrator where they speak
(``Incoming.is_admin``: Telegram chat administrators, Discord members with Manage Server, the
operator's web chat and terminal; anyone in a private chat or DM). Everything else (whose image it
is, which chat it belongs to, which messages showed it) comes from the database, never from what a
client sent: callback data and custom ids name a generation and an action, nothing more.
"""

from __future__ import annotations

from bot.core.errors import InvalidInput
from bot.core.i18n import N_, _
from bot.core.messages import Incoming

ADMINS_ONLY = N_("Only the chat's administrators can {what} here.")
"""``what`` is one of the :data:`DOINGS` (or any phrase: translated if the catalogues have it)."""
DOINGS = (
    N_("change the settings"),
    N_("manage the ban list"),
    N_("manage scheduled posts"),
    N_("change the birthday card"),
    N_("set someone else's birthday"),
    N_("remove someone else's birthday"),
    N_("preview someone else's card"),
)


def may_manage(message: Incoming) -> bool:
    """Whether the sender administers this chat (a private chat is its user's own)."""
    return message.is_admin or message.chat_id == message.user_id


def require_admin(message: Incoming, what: str) -> None:
    """``InvalidInput`` naming ``what`` unless the sender administers the chat."""
    if not may_manage(message):
        raise InvalidInput(f"not an admin: {what}", user_message=_(ADMINS_ONLY).format(what=_(what)))
