"""Which form a result takes on Telegram: a photo (fitted to Telegram's photo limits, and recompressed
by Telegram) or a document (the original bytes, up to 50 MB).

A chat's ``/settings format file`` asks for documents. Otherwise an image goes as a photo, unless it
cannot be one: Easel cannot fit it (it cannot be decoded within the pixel budget), or Telegram refuses
the photo (``PHOTO_INVALID_DIMENSIONS``, or ``IMAGE_PROCESS_FAILED``, which it answers for some PNGs
within every documented limit); then the original goes as a document instead of failing. An image over
the photo limits (10 MB, width + height 10000, ratio 20) is fitted as before (scaled, padded, JPEG): it
stays a picture in the chat, and the 📄 Original button or ``format file`` gives the file itself.
Albums take one kind only: a set with one document goes as documents.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InputMediaDocument, InputMediaPhoto
from telegram.error import BadRequest

from bot.core import imaging_fit
from bot.core.errors import DeliveryFailed, ImageError
from bot.core.jobs.delivery import FORMAT
from bot.core.types import Reply, StoredImage

log = logging.getLogger(__name__)
PHOTO_LIMITS = imaging_fit.PhotoLimits(
    max_bytes=10 * 1024 * 1024, max_side_sum=10_000, max_ratio=20.0, recompress_over=512 * 1024
)
"""sendPhoto: at most 10 MB, width + height at most 10000, a side ratio of at most 20; Telegram makes a
JPEG of every photo, so a PNG over 512 KiB goes as JPEG (the 📄 Original button sends the file itself)."""
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
"""sendDocument (and every upload but a photo): at most 50 MB."""
PHOTO_REFUSALS = ("photo_invalid_dimensions", "image_process_failed")
"""Telegram's answers (lower-cased; PTB shows ``PHOTO_INVALID_DIMENSIONS`` as "Photo_invalid_dimensions")
for an image that cannot be a photo."""


@dataclass(frozen=True, slots=True)
class Upload:
    """One image as it is sent: its bytes, its file name, and whether it goes as a document."""

    data: bytes
    filename: str
    document: bool
    spoiler: bool = False
    """A photo shown hidden until tapped (``has_spoiler``; documents cannot be)."""


def wants_files(reply: Reply) -> bool:
    """The chat asked for files (``/settings format file``). A result to hide (a spoiler) stays a
    photo: only photos can be hidden (``has_spoiler``)."""
    return reply.extra.get(FORMAT) == "file" and not getattr(reply, "spoiler", False)


def file_name(reply: Reply, index: int, image: StoredImage) -> str:
    """``easel-<generation>-<n>.<ext>``, as the 📄 Original button names it."""
    generation = reply.generation_id if reply.generation_id is not None else "image"
    return f"easel-{generation}-{index + 1}{image.path.suffix}"


def prepare(image: StoredImage, filename: str, *, as_file: bool) -> Upload:
    """The image as a document (asked for, or it cannot be fitted as a photo) or a fitted photo.
    CPU-bound (reads and may re-encode): call it in a thread."""
    original = image.path.read_bytes()
    if as_file and len(original) <= MAX_DOCUMENT_BYTES:
        return Upload(original, filename, document=True)
    try:
        return Upload(imaging_fit.fit_photo(original, PHOTO_LIMITS), filename, document=False)
    except (ImageError, OSError, ValueError) as exc:
        if len(original) > MAX_DOCUMENT_BYTES:
            raise DeliveryFailed(
                f"{filename} can be neither a photo ({exc}) nor a document (over 50 MB)", permanent=True
            ) from exc
        log.info("telegram: %s cannot be a photo (%s); sending it as a document", filename, exc)
        return Upload(original, filename, document=True)


def as_document(image: StoredImage, upload: Upload) -> Upload | None:
    """The original file of an image Telegram refused as a photo, or None when it is over 50 MB."""
    original = image.path.read_bytes()
    return Upload(original, upload.filename, document=True) if len(original) <= MAX_DOCUMENT_BYTES else None


def as_documents(images: Sequence[StoredImage], uploads: Sequence[Upload]) -> list[Upload] | None:
    """Every upload as its original file, or None when one is over 50 MB (it cannot go as a file)."""
    documents = [as_document(image, upload) for image, upload in zip(images, uploads, strict=True)]
    files = [d for d in documents if d is not None]
    return files if len(files) == len(documents) else None


def refused_as_photo(exc: DeliveryFailed) -> bool:
    """Telegram said this image cannot be a photo (its dimensions, or it could not process it)."""
    cause = exc.__cause__
    return isinstance(cause, BadRequest) and any(r in cause.message.lower() for r in PHOTO_REFUSALS)


def input_media(upload: Upload, caption: str | None) -> InputMediaPhoto | InputMediaDocument:
    """An album item of the upload's kind."""
    if upload.document:
        return InputMediaDocument(upload.data, caption=caption, filename=upload.filename)
    return InputMediaPhoto(upload.data, caption=caption, has_spoiler=upload.spoiler or None)
