"""Multipart uploads as they stream in: the body's limit, the handler that counts and hashes
each file and cuts one over ``MAX_UPLOAD_BYTES``, and the check of the files' fields."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler

from main_api.common.exceptions import UploadTooLarge
from main_api.media.errors import FILE_TOO_LARGE, ONE_FILE_PER_FIELD, UNKNOWN_UPLOAD_FIELD
from shared.data_types import UPLOAD_FIELDS

# --- 1. size, while the body is read -----------------------------------------------------------

#: Room for the multipart framing and the text fields around the files.
FORM_OVERHEAD_BYTES = 1024 * 1024


def request_body_limit() -> int:
    """The largest request body, in bytes, the main API reads: every upload field at
    ``MAX_UPLOAD_BYTES`` plus :data:`FORM_OVERHEAD_BYTES`. Enforced on the wire by
    ``main_api.common.asgi.RequestBodyGuard`` and again here by the upload handler."""
    return int(settings.MAX_UPLOAD_BYTES) * len(UPLOAD_FIELDS) + FORM_OVERHEAD_BYTES


def too_large(field: str | None, limit: int) -> UploadTooLarge:
    """The 413 error for ``field`` (None when the whole request is too large)."""
    return UploadTooLarge(
        FILE_TOO_LARGE.message.format(limit=limit),
        {"field": field, "max_bytes": limit},
    )


#: The attribute of the request under which :class:`SizeLimitUploadHandler` leaves the SHA-256
#: of each uploaded file: ``{form field: hex digest}``.
DIGESTS_ATTRIBUTE = "upload_sha256"


class SizeLimitUploadHandler(FileUploadHandler):
    """Counts the bytes of each uploaded file and raises :class:`UploadTooLarge` (413) past
    ``MAX_UPLOAD_BYTES``; a body that cannot fit within the per-file limits is refused unread.

    It also hashes each file as it streams in: its SHA-256 (hex) is left on the request as
    ``request.upload_sha256[field]`` (:data:`DIGESTS_ATTRIBUTE`), for duplicate detection."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.limit = int(settings.MAX_UPLOAD_BYTES)
        self.received = 0
        self.digest = hashlib.sha256()

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # A body that cannot fit within the per-file limits is refused before it is read.
        if content_length and content_length > request_body_limit():
            raise too_large(None, self.limit)
        return None

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        self.digest = hashlib.sha256()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise too_large(self.field_name, self.limit)
        self.digest.update(raw_data)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        if self.request is not None:
            digests = getattr(self.request, DIGESTS_ATTRIBUTE, None)
            if digests is None:
                digests = {}
                setattr(self.request, DIGESTS_ATTRIBUTE, digests)
            digests[self.field_name] = self.digest.hexdigest()
        return None


# --- 2. fields ---------------------------------------------------------------------------------


def upload_fields_check(files: Any) -> dict[str, Any]:
    """The uploaded files by field (``files``: Django's ``request.FILES``, a ``MultiValueDict``).

    Raises :class:`ApplicationError` (400, ``extra["field"]``) for a field that is not one of
    ``UPLOAD_FIELDS`` or that carries more than one file.
    """
    for field in files:
        if field not in UPLOAD_FIELDS:
            raise UNKNOWN_UPLOAD_FIELD.error({"field": field, "accepted": sorted(UPLOAD_FIELDS)}, field=field)
        if len(files.getlist(field)) > 1:
            raise ONE_FILE_PER_FIELD.error({"field": field})
    return {field: files[field] for field in files}
