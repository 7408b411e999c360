"""The upload handler that enforces ``MAX_UPLOAD_BYTES`` while the body is being read.

Django's ``FILE_UPLOAD_MAX_MEMORY_SIZE`` only decides between memory and a temp file; it
caps nothing. This handler sits first in ``FILE_UPLOAD_HANDLERS`` and stops the parse the
moment one file passes the limit, so an oversized body is never spooled to disk.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler

from main_api.common.exceptions import UploadTooLarge
from shared.data_types import UPLOAD_FIELDS

#: Room for the multipart framing and the text fields around the files.
FORM_OVERHEAD_BYTES = 1024 * 1024


def too_large(field: str | None, limit: int) -> UploadTooLarge:
    """The 413 error for ``field`` (None when the whole request is too large)."""
    return UploadTooLarge(
        f"file is larger than the limit of {limit} bytes",
        {"field": field, "max_bytes": limit},
    )


class SizeLimitUploadHandler(FileUploadHandler):
    """Counts the bytes of each uploaded file and raises 413 past ``MAX_UPLOAD_BYTES``."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.limit = int(settings.MAX_UPLOAD_BYTES)
        self.received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # A body that cannot fit within the per-file limits is refused before it is read.
        ceiling = self.limit * len(UPLOAD_FIELDS) + FORM_OVERHEAD_BYTES
        if content_length and content_length > ceiling:
            raise too_large(None, self.limit)
        return None

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise too_large(self.field_name, self.limit)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
