"""Status values that cross the wire or are shared by both services."""

from __future__ import annotations

from enum import Enum


class PendingStatus(str, Enum):
    """Life of a row in the main API's ``pending_images`` table.

    ``pending -> processed -> complete`` (complete once every reference to the temp
    path has been rewritten to its smart URL) and ``pending -> failed``.
    """

    PENDING = "pending"
    PROCESSED = "processed"
    COMPLETE = "complete"
    FAILED = "failed"


class UserType(str, Enum):
    ARTIST = "artist"
    PROMOTER = "promoter"
    COMMUNITY = "community"
