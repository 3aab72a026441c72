"""The state behind the fake Bot API: users, chats, messages, files, and the Update JSON people cause.

Everything is plain Telegram JSON (dicts), built the way the real server shapes it, so the real
python-telegram-bot parses it. :mod:`tests.fakes.telegram` serves it over HTTP.
"""

from __future__ import annotations

import base64
import io
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from PIL import Image as PILImage

BOT_ID = 700_000_001
BOT_USERNAME = "EaselTestBot"
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_INLINE_QUERY = 256
"""An inline query's text: Telegram's clients send at most 256 characters."""


@dataclass
class StoredFile:
    file_id: str
    unique_id: str
    path: str
    data: bytes


@dataclass
class ChatState:
    id: int
    type: str
    title: str | None = None
    is_forum: bool = False
    admins: set[int] = field(default_factory=set)
    blocked: bool = False
    """A private chat whose user blocked the bot (403 on every send)."""
    migrated_to: int | None = None
    """A group upgraded to a supergroup: every call naming the old id answers 400 with the new id."""
    next_message_id: int = 1

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title:
            data["title"] = self.title
        if self.is_forum:
            data["is_forum"] = True
        return data


USER_LANGUAGES: dict[int, str] = {}
"""A user's app language (``language_code``; en unless a test sets it, with ``monkeypatch.setitem``)."""


def user_json(user_id: int, name: str | None = None) -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": name or f"User{user_id}",
        "language_code": USER_LANGUAGES.get(user_id, "en"),
    }


BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Easel", "username": BOT_USERNAME}


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of encoded image bytes, or None when they are not an image."""
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            return img.size
    except (OSError, ValueError, SyntaxError):
        return None


class World:
    """Chats and their messages, uploaded files, and the update log."""

    def __init__(self) -> None:
        self.chats: dict[int, ChatState] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self.callback_ids: set[str] = set()
        self._callback_ids = itertools.count(1)
        self._media_groups = itertools.count(1)
        self.inline_queries: dict[str, dict[str, Any]] = {}
        """Inline query id → the query (``from``, ``query``)."""
        self.inline_messages: dict[str, dict[str, Any]] = {}
        """inline_message_id → the message a chosen inline result put in some chat (its content)."""
        self._inline_ids = itertools.count(1)

    # -------------------------------------------------------------------------------------- chats

    def chat(self, chat_id: int) -> ChatState:
        """A known chat; private chats (positive ids) spring into being when first used."""
        if chat_id not in self.chats:
            kind = "private" if chat_id > 0 else "supergroup"
            self.chats[chat_id] = ChatState(chat_id, kind, None if chat_id > 0 else f"Group {chat_id}")
        return self.chats[chat_id]

    def new_message(
        self, chat: ChatState, sender: dict[str, Any], *, thread_id: int | None = None, **content: Any
    ) -> dict[str, Any]:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat.as_json(),
            "from": sender,
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        message.update({k: v for k, v in content.items() if v is not None})
        self.messages[(chat.id, message_id)] = message
        return message

    def get_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        return self.messages.get((chat_id, message_id))

    # -------------------------------------------------------------------------------------- files

    def store_file(self, data: bytes, kind: str, ext: str) -> StoredFile:
        n = next(self._file_ids)
        stored = StoredFile(f"{kind.upper()}-FILE-{n:06d}", f"U{n:06d}", f"{kind}s/file_{n}.{ext}", data)
        self.files[stored.file_id] = stored
        self.files_by_path[stored.path] = stored
        return stored

    def photo_sizes(self, data: bytes) -> list[dict[str, Any]]:
        stored = self.store_file(data, "photo", "jpg")
        width, height = image_size(data) or (0, 0)
        return [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.unique_id,
                "width": width,
                "height": height,
                "file_size": len(data),
            }
        ]

    def photo_sizes_of(self, stored: StoredFile) -> list[dict[str, Any]]:
        """A photo already on the server, sent again by its file_id."""
        width, height = image_size(stored.data) or (0, 0)
        size = {"width": width, "height": height, "file_size": len(stored.data)}
        return [{"file_id": stored.file_id, "file_unique_id": stored.unique_id} | size]

    def document_of(self, stored: StoredFile) -> dict[str, Any]:
        """A document already on the server, sent again by its file_id."""
        return {"file_id": stored.file_id, "file_unique_id": stored.unique_id, "file_size": len(stored.data)}

    def document(self, data: bytes, filename: str, mime: str) -> dict[str, Any]:
        stored = self.store_file(data, "document", filename.rsplit(".", 1)[-1] if "." in filename else "bin")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_name": filename,
            "mime_type": mime,
            "file_size": len(data),
        }

    # ------------------------------------------------------------------------------------ updates

    def add_update(self, **payload: Any) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **payload}
        self.updates.append(update)
        return update

    def user_message(
        self,
        chat_id: int,
        user_id: int,
        *,
        text: str | None = None,
        photo: bytes | None = None,
        caption: str | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """A message a person sends, with entities as Telegram's clients attach them."""
        chat = self.chat(chat_id)
        content: dict[str, Any] = {}
        if text is not None:
            content["text"] = text
            content["entities"] = entities_of(text)
        if photo is not None:
            content["photo"] = self.photo_sizes(photo)
            if caption is not None:
                content["caption"] = caption
                content["caption_entities"] = entities_of(caption)
        if reply_to is not None:
            replied = self.get_message(chat_id, reply_to)
            assert replied is not None, f"no message {reply_to} in chat {chat_id}"
            content["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        message = self.new_message(chat, user_json(user_id), thread_id=thread_id, **content)
        self.add_update(message=message)
        return message

    def callback(self, chat_id: int, message_id: int, user_id: int, data: str) -> str:
        """A button press on one of the bot's messages; returns the callback query id."""
        message = self.get_message(chat_id, message_id)
        assert message is not None, f"no message {message_id} in chat {chat_id}"
        query_id = f"CQ{next(self._callback_ids)}"
        self.callback_ids.add(query_id)
        query = {
            "id": query_id,
            "from": user_json(user_id),
            "message": message,
            "chat_instance": f"ci{chat_id}",
            "data": data,
        }
        self.add_update(callback_query=query)
        return query_id

    def inline_callback(
        self, inline_message_id: str, user_id: int, data: str, *, forged: bool = False
    ) -> str:
        """A press on a button of an inline message (anyone in the chat it landed in may press): the
        query carries ``inline_message_id`` and ``chat_instance``, no ``message``, and only data one of
        its buttons has (the official clients send nothing else), unless ``forged``: a modified client
        (MTProto's ``messages.getBotCallbackAnswer`` takes the data as bytes) sends what it likes.
        Returns the callback query id."""
        message = self.inline_messages[inline_message_id]
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        keys = [key.get("callback_data") for row in rows for key in row]
        assert forged or data in keys, f"no button {data!r}"
        query_id = f"CQ{next(self._callback_ids)}"
        self.callback_ids.add(query_id)
        query = {
            "id": query_id,
            "from": user_json(user_id),
            "inline_message_id": inline_message_id,
            "chat_instance": f"ci-inline-{inline_message_id[:8]}",
            "data": data,
        }
        self.add_update(callback_query=query)
        return query_id

    def inline_query(self, user_id: int, query: str, *, chat_type: str = "private") -> str:
        """A user types ``@bot <query>`` in some chat; returns the inline query id."""
        assert len(query) <= MAX_INLINE_QUERY, "Telegram's clients send at most 256 characters"
        query_id = str(8_000_000_000 + next(self._inline_ids))
        inline = {
            "id": query_id,
            "from": user_json(user_id),
            "query": query,
            "offset": "",
            "chat_type": chat_type,
        }
        self.inline_queries[query_id] = inline
        self.add_update(inline_query=inline)
        return query_id

    def chosen_inline_result(
        self, query: dict[str, Any], result: dict[str, Any], *, feedback: bool = True
    ) -> str | None:
        """The user taps a result: its message goes to the chat (an opaque ``inline_message_id``, which
        the update carries only when the result has an inline keyboard); with inline feedback on
        (@BotFather /setinlinefeedback) the bot gets a ``chosen_inline_result``. Returns the id."""
        content = dict(result.get("input_message_content") or {})
        markup = result.get("reply_markup")
        message: dict[str, Any] = {"via_bot": BOT_USER, "text": content.get("message_text")}
        if isinstance(markup, dict):
            message["reply_markup"] = markup
        inline_message_id = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")
        self.inline_messages[inline_message_id] = message
        if feedback:
            chosen: dict[str, Any] = {
                "result_id": result["id"],
                "from": query["from"],
                "query": query["query"],
            }
            if isinstance(markup, dict) and markup.get("inline_keyboard"):
                chosen["inline_message_id"] = inline_message_id
            self.add_update(chosen_inline_result=chosen)
        return inline_message_id

    def media_group_id(self) -> str:
        return f"MG{next(self._media_groups)}"


def entities_of(text: str) -> list[dict[str, Any]]:
    """``bot_command`` and ``mention`` entities, as clients mark them (UTF-16 offsets)."""
    entities: list[dict[str, Any]] = []
    offset = 0
    for word in text.split(" "):
        length = len(word.encode("utf-16-le")) // 2
        if word.startswith("/") and len(word) > 1 and offset == 0:
            entities.append({"type": "bot_command", "offset": 0, "length": length})
        elif word.startswith("@") and len(word) > 1:
            entities.append({"type": "mention", "offset": offset, "length": length})
        offset += length + 1
    return entities
