"""Telegram messages → :class:`Incoming`: the one place Telegram's update shapes are translated.

Decides whether a message is meant for the bot (private chats: always; groups: commands, @mentions and
replies to the bot), which image it carries or replies to, and which of the bot's generations a reply
points at (the ``#<id>`` the bot writes on a line of its own under every image), and which image of
its set (an album's later photos are captioned ``#12 · 2/3``; the Edit question of image 2 starts with
``#12/2``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import Message

from bot.core.messages import Incoming

PLATFORM = "telegram"
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
"""The Bot API serves files up to 20 MB to bots."""
_LINE_REF = re.compile(r"(?m)^(?:\S+: )?#([0-9]{1,12})\b")
_ANY_REF = re.compile(r"(?<![\w#])#([0-9]{1,12})\b")
_IMAGE_REF = re.compile(r"#([0-9]{1,12})(?:/([0-9]{1,2})(?:\n|$)| · ([0-9]{1,2})/[0-9]{1,2}$)")


@dataclass(frozen=True, slots=True)
class FileRef:
    """An image to download before routing: a Telegram ``file_id`` and its size when known."""

    file_id: str
    size: int | None
    mime: str | None = None


@dataclass(frozen=True, slots=True)
class Inbound:
    incoming: Incoming
    addressed: bool
    image: FileRef | None = None


def chat_key(chat_id: int, thread_id: int | None) -> str:
    """The core's chat id: a forum topic is a conversation of its own (own last image, own history)."""
    return f"{chat_id}/{thread_id}" if thread_id is not None else str(chat_id)


def split_chat_key(key: str) -> tuple[int, int | None]:
    chat, _, thread = key.partition("/")
    return int(chat), int(thread) if thread else None


def generation_ref(text: str | None) -> int | None:
    """The generation a bot message is about: ``#12`` starting a line, else the first ``#12``."""
    if not text:
        return None
    match = _LINE_REF.search(text) or _ANY_REF.search(text)
    return int(match[1]) if match else None


def image_ref(text: str | None, generation: int | None) -> int | None:
    """Which image of ``generation``'s set a bot message shows (0-based), when it says: ``#12 · 2/3``
    (an album's photo) or ``#12/2`` (the Edit question); None for the first image or the whole set."""
    match = _IMAGE_REF.match(text or "")
    if match is None or generation is None or int(match[1]) != generation:
        return None
    number = int(match[2] or match[3])
    return number - 1 if number >= 1 else None


def image_of(message: Message) -> FileRef | None:
    """The largest photo of a message, or an image sent as a file."""
    if message.photo:
        best = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return FileRef(best.file_id, best.file_size, "image/jpeg")
    document = message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        return FileRef(document.file_id, document.file_size, document.mime_type)
    return None


def translate(message: Message, *, bot_id: int, bot_username: str) -> Inbound | None:
    """The ``Incoming`` for a message, or None when the bot should not even look at it."""
    user = message.from_user
    if user is None or user.is_bot:
        return None
    raw = message.text if message.text is not None else message.caption or ""
    text, mentioned = strip_mentions(raw, bot_username)
    own_image = image_of(message)
    if not text.strip() and own_image is None:
        return None
    private = message.chat.type == "private"
    replied = message.reply_to_message
    to_bot = replied is not None and replied.from_user is not None and replied.from_user.id == bot_id
    addressed = private or mentioned or to_bot
    if not addressed and not text.lstrip().startswith("/"):
        return None  # group chatter: not for us, and nothing is downloaded
    reply_generation = reply_image = None
    image = own_image
    if replied is not None:
        if to_bot:
            reply_generation = generation_ref(replied.caption or replied.text)
            reply_image = image_ref(replied.caption or replied.text, reply_generation)
        if image is None and reply_generation is None:
            image = image_of(replied)
    thread_id = message.message_thread_id if message.is_topic_message else None
    incoming = Incoming(
        platform=PLATFORM,
        chat_id=chat_key(message.chat.id, thread_id),
        user_id=str(user.id),
        display_name=user.full_name,
        text=text,
        message_id=str(message.message_id),
        reply_to_message_id=str(replied.message_id) if replied is not None else None,
        reply_to_generation_id=reply_generation,
        reply_to_image=reply_image,
        locale=user.language_code,
        extra={"thread_id": thread_id} if thread_id is not None else {},
    )
    return Inbound(incoming, addressed, image)


def strip_mentions(text: str, bot_username: str) -> tuple[str, bool]:
    """Remove "@ThisBot" words (not "/cmd@ThisBot"); say whether there was one."""
    if not bot_username:
        return text, False
    pattern = re.compile(rf"(?<!\S)@{re.escape(bot_username)}\b[,:;!]?", re.IGNORECASE)
    stripped, count = pattern.subn("", text)
    return (" ".join(stripped.split()), True) if count else (text, False)
