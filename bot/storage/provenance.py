"""Put the A1111-style parameters text (:mod:`bot.core.provenance`) into an image file without
re-encoding its pixels: the encoded image data is copied byte for byte, only metadata is added.

- PNG: a ``parameters`` text chunk right after IHDR (``tEXt`` when the text is Latin-1, else ``iTXt``,
  UTF-8, uncompressed: what Pillow's ``PngInfo.add_text`` writes and A1111 reads); an older
  ``parameters`` chunk (a provider's own) is replaced.
- JPEG: an APP1 ``Exif`` segment after SOI and the JFIF APP0, whose Exif IFD holds UserComment
  ``b"UNICODE\\0"`` + UTF-16-BE text in a big-endian TIFF (what A1111 writes through piexif, whose
  reader always decodes UTF-16-BE); a file's own EXIF is kept (orientation …) and the comment set in it.
- WebP: an ``EXIF`` chunk with the same TIFF, and the extended ``VP8X`` header that announces it
  (made from the VP8/VP8L frame header for a simple file).

Anything else (GIF) is returned unchanged. A file that is not what its type says raises
:class:`ProvenanceError`; the caller stores the image without the text then.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

from PIL import ExifTags, Image

__all__ = ["ProvenanceError", "embed_parameters", "exif_user_comment"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"parameters"
_TEXT_CHUNKS = {b"tEXt", b"iTXt", b"zTXt"}
_USER_COMMENT = 0x9286
_MAKER_NOTE = 0x927C
_UNICODE = b"UNICODE\x00"
_EXIF_HEADER = b"Exif\x00\x00"
_MAX_SEGMENT = 0xFFFF - 2  # a JPEG segment's payload: its length field counts itself
_VP8X_EXIF, _VP8X_ALPHA = 0x08, 0x10


class ProvenanceError(ValueError):
    """The file's structure is not what its type says; nothing is embedded."""


def embed_parameters(data: bytes, mime: str, text: str) -> bytes:
    """``data`` with ``text`` in it; the encoded pixels are untouched."""
    match mime.lower():
        case "image/png":
            return _png(data, text)
        case "image/jpeg":
            return _jpeg(data, text)
        case "image/webp":
            return _webp(data, text)
        case _:
            return data


def exif_user_comment(text: str) -> bytes:
    """The UserComment value A1111 writes: ``UNICODE\\0`` and the text in UTF-16, big-endian."""
    return _UNICODE + text.encode("utf-16-be")


# --------------------------------------------------------------------------------------------- PNG


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, whole chunk) from after the signature to IEND, then (b"", what follows IEND)."""
    pos = len(PNG_SIGNATURE)
    while pos < len(data):
        if pos + 12 > len(data):
            raise ProvenanceError("PNG chunk header cut short")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, end = data[pos + 4 : pos + 8], pos + 12 + length
        if end > len(data):
            raise ProvenanceError(f"PNG chunk {kind!r} runs past the end of the file")
        yield kind, data[pos:end]
        pos = end
        if kind == b"IEND":
            yield b"", data[pos:]
            return
    raise ProvenanceError("PNG without IEND")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_text(text: str) -> bytes:
    try:
        return _png_chunk(b"tEXt", KEYWORD + b"\x00" + text.encode("latin-1"))
    except UnicodeEncodeError:  # keyword, compression flag and method, language, translated keyword
        return _png_chunk(b"iTXt", KEYWORD + b"\x00\x00\x00" + b"\x00" + b"\x00" + text.encode("utf-8"))


def _png(data: bytes, text: str) -> bytes:
    if not data.startswith(PNG_SIGNATURE):
        raise ProvenanceError("not a PNG file")
    chunks = list(_png_chunks(data))
    if chunks[0][0] != b"IHDR":
        raise ProvenanceError("PNG does not start with IHDR")
    kept = [
        chunk
        for kind, chunk in chunks[1:]
        if not (kind in _TEXT_CHUNKS and chunk[8:].split(b"\x00", 1)[0] == KEYWORD)
    ]
    return b"".join([PNG_SIGNATURE, chunks[0][1], _png_text(text), *kept])


# -------------------------------------------------------------------------------------------- EXIF


def _tiff_with_comment(existing: bytes | None, text: str) -> bytes:
    """A big-endian TIFF (EXIF without the ``Exif\\0\\0`` header) holding ``existing``'s tags and
    UserComment ``text``."""
    exif = Image.Exif()
    if existing:
        try:
            exif.load(existing)
            inner = exif.get_ifd(ExifTags.IFD.Exif) if ExifTags.IFD.Exif in exif else None
        except Exception as exc:  # Pillow's TIFF reader raises many kinds on a damaged block
            raise ProvenanceError(f"unreadable EXIF: {exc}") from exc
        if exif.endian == "<":
            exif.endian = ">"  # one byte order, so UTF-16-BE is right for every reader
            if inner is not None:
                inner.pop(_MAKER_NOTE, None)  # opaque bytes in the old byte order
    else:
        inner = None
    comment = exif_user_comment(text)
    if inner is None:
        exif[ExifTags.IFD.Exif] = {_USER_COMMENT: comment}
    else:
        inner[_USER_COMMENT] = comment
    try:
        written: bytes = exif.tobytes()
    except Exception as exc:
        raise ProvenanceError(f"cannot rewrite EXIF: {exc}") from exc
    return written.removeprefix(_EXIF_HEADER)


# -------------------------------------------------------------------------------------------- JPEG


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """The marker segments after SOI up to the first SOS, and everything from SOS on (as is)."""
    segments: list[tuple[int, bytes]] = []
    pos = 2
    while True:
        if pos + 2 > len(data) or data[pos] != 0xFF:
            raise ProvenanceError("JPEG marker expected")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan, end of image: the rest is copied
            return segments, data[pos:]
        if pos + 4 > len(data):
            raise ProvenanceError("JPEG segment cut short")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise ProvenanceError(f"JPEG segment {marker:#x} has a bad length")
        segments.append((marker, data[pos : pos + 2 + length]))
        pos += 2 + length


def _is_exif(marker: int, segment: bytes) -> bool:
    return marker == 0xE1 and segment[4:10] == _EXIF_HEADER


def _jpeg(data: bytes, text: str) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise ProvenanceError("not a JPEG file")
    segments, rest = _jpeg_segments(data)
    existing = next((seg[10:] for marker, seg in segments if _is_exif(marker, seg)), None)
    payload = _EXIF_HEADER + _tiff_with_comment(existing, text)
    if len(payload) > _MAX_SEGMENT:
        raise ProvenanceError(f"EXIF of {len(payload)} bytes does not fit one JPEG segment")
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    kept = [(marker, seg) for marker, seg in segments if not _is_exif(marker, seg)]
    at = 0
    while at < len(kept) and kept[at][0] == 0xE0:  # JFIF wants its APP0 right after SOI
        at += 1
    parts = [seg for _, seg in kept[:at]] + [app1] + [seg for _, seg in kept[at:]]
    return b"\xff\xd8" + b"".join(parts) + rest


# -------------------------------------------------------------------------------------------- WebP


def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(FourCC, payload) of each chunk after ``RIFF size WEBP``."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ProvenanceError("not a WebP file")
    (size,) = struct.unpack("<I", data[4:8])
    end = min(len(data), 8 + size)
    chunks, pos = [], 12
    while pos + 8 <= end:
        kind = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        if pos + 8 + length > end:
            raise ProvenanceError(f"WebP chunk {kind!r} runs past the end of the file")
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 8 + length + (length & 1)
    if not chunks:
        raise ProvenanceError("WebP without chunks")
    return chunks


def _riff_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")


def _vp8x_for(kind: bytes, frame: bytes) -> bytes:
    """The VP8X payload a simple (VP8 or VP8L) file needs to carry EXIF: flags and canvas size."""
    flags = _VP8X_EXIF
    if kind == b"VP8 " and len(frame) >= 10 and frame[3:6] == b"\x9d\x01\x2a":
        width = struct.unpack("<H", frame[6:8])[0] & 0x3FFF
        height = struct.unpack("<H", frame[8:10])[0] & 0x3FFF
    elif kind == b"VP8L" and len(frame) >= 5 and frame[0] == 0x2F:
        (bits,) = struct.unpack("<I", frame[1:5])
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if bits >> 28 & 1:
            flags |= _VP8X_ALPHA
    else:
        raise ProvenanceError(f"unexpected WebP frame {kind!r}")
    if not width or not height:
        raise ProvenanceError("WebP frame without a size")
    size = int(width - 1).to_bytes(3, "little") + int(height - 1).to_bytes(3, "little")
    return bytes([flags, 0, 0, 0]) + size


def _webp(data: bytes, text: str) -> bytes:
    chunks = _riff_chunks(data)
    kind, first = chunks[0]
    if kind == b"VP8X":
        if len(first) < 10:
            raise ProvenanceError("short VP8X chunk")
        header = bytes([first[0] | _VP8X_EXIF]) + first[1:]
        body = chunks[1:]
    elif kind in (b"VP8 ", b"VP8L"):
        header, body = _vp8x_for(kind, first), chunks
    else:
        raise ProvenanceError(f"WebP starts with {kind!r}")
    existing = next((payload for kind, payload in body if kind == b"EXIF"), None)
    exif = _tiff_with_comment(existing, text)
    kept = [(k, p) for k, p in body if k != b"EXIF"]
    at = next((i for i, (k, _) in enumerate(kept) if k == b"XMP "), len(kept))  # EXIF goes before XMP
    kept.insert(at, (b"EXIF", exif))
    riff = b"WEBP" + _riff_chunk(b"VP8X", header) + b"".join(_riff_chunk(k, p) for k, p in kept)
    return b"RIFF" + struct.pack("<I", len(riff)) + riff
