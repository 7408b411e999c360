"""File and id naming both services agree on."""

from __future__ import annotations

import re
import secrets
import time

from shared.data_types import DataType

#: Image types the upload accepts, by sniffed content: mime type -> file extension.
ACCEPTED_TYPES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/avif": "avif",
    "image/heif": "heic",
    "image/tiff": "tif",
}

_TEMP_NAME = re.compile(r"^(?P<user>\d+)-(?P<type>[a-z]+)-(?P<ts>\d+)-(?P<rand>[0-9a-f]+)\.(?P<ext>[a-z]+)$")
_MEDIA_ID = re.compile(r"^[0-9a-f]{32}$")


def temp_file_name(user_id: int, data_type: DataType, extension: str, *, now: float | None = None) -> str:
    """``{userId}-{type}-{timestamp}-{random}.{ext}``: the generated name of an upload."""
    if extension not in ACCEPTED_TYPES.values():
        raise ValueError(f"not an accepted extension: {extension!r}")
    ts = int((time.time() if now is None else now) * 1000)
    return f"{int(user_id)}-{DataType(data_type).value}-{ts}-{secrets.token_hex(8)}.{extension}"


def is_temp_file_name(name: str) -> bool:
    return _TEMP_NAME.match(name) is not None


def new_media_id() -> str:
    """A media id: 32 lowercase hex characters, unguessable."""
    return secrets.token_hex(16)


def is_media_id(value: str) -> bool:
    return bool(_MEDIA_ID.match(value))
