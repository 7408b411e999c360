"""Storage names: the relative, ``/``-separated names the media DB records and every backend
keeps its objects under (``bulk/2026-11-22/{media_id}.jpg``,
``library/user_7/product/img/{media_id}_grid.avif``).

Every name is built here from ids the VM made itself (media id, user id, data type, date),
never from data in a payload, and every backend refuses a name :func:`check_name` refuses.
"""

from __future__ import annotations

from datetime import date

from shared.data_types import DataType
from shared.naming import ACCEPTED_TYPES
from shared.sizes import ImageFormat

#: The top-level folders of the store: untouched originals, and variants.
TOP_LEVELS = ("bulk", "library")
#: Extension of a stored original by the mime type the main API sniffed.
ORIGINAL_EXTENSIONS = ACCEPTED_TYPES
#: How variants may be cached: a media id's variants never change (re-processing makes a new id).
IMMUTABLE = "public, max-age=31536000, immutable"
#: How originals may be cached: not at all (they are never served).
PRIVATE = "private, no-store"
#: Content type of a stored object by its extension.
CONTENT_TYPES = {ext: mime for mime, ext in ORIGINAL_EXTENSIONS.items()} | {
    fmt.extension: fmt.mime_type for fmt in ImageFormat
}


def bulk_relpath(media_id: str, mime_type: str, day: date) -> str:
    """``bulk/YYYY-MM-DD/{media_id}.{ext}`` for an untouched original (``bin`` for an
    unknown mime type)."""
    ext = ORIGINAL_EXTENSIONS.get(mime_type, "bin")
    return f"bulk/{day.isoformat()}/{media_id}.{ext}"


def library_reldir(user_id: int, data_type: str) -> str:
    """``library/user_{id}/{data_type}/img``, where an image's variants live; ``ValueError``
    for a data type the contract does not know."""
    return f"library/user_{int(user_id)}/{DataType(data_type).value}/img"


def check_name(name: str) -> str:
    """``name`` itself when it is a plain storage name: under ``bulk/`` or ``library/`` (or one
    of the two itself), no ``..``, ``.``, empty or absolute parts, no backslashes (a store may
    normalise them away). ``ValueError`` otherwise."""
    parts = name.split("/")
    if "\\" in name or any(part in ("", ".", "..") for part in parts) or parts[0] not in TOP_LEVELS:
        raise ValueError(f"not a storage name: {name!r}")
    return name


def check_prefix(prefix: str) -> str:
    """``prefix`` itself when it may start storage names: empty (everything), or a storage
    name optionally followed by ``/`` (``library/user_7/``, ``library/user_7/product/img/{media_id}_``).
    ``ValueError`` otherwise."""
    if prefix:
        check_name(prefix.removesuffix("/"))
    return prefix


def content_type(name: str) -> str:
    """The content type an object is stored and served with, by its extension."""
    return CONTENT_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")


def cache_control(name: str) -> str:
    """``Cache-Control`` of a stored object: variants are immutable, originals private."""
    return IMMUTABLE if name.startswith("library/") else PRIVATE
