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


class UploadStage(str, Enum):
    """Where an upload's processing is, in the order it moves (``UPLOAD_STAGE_ORDER``): the
    upload object's ``stage``. The media VM reports the middle four as they happen
    (``POST /api/media/progress/{id}``); ``processed`` comes with the ``complete`` callback and
    ``failed`` (at any point) with ``cleanup``. A stage never moves backwards."""

    QUEUED = "queued"
    RETRIEVED = "retrieved"
    THUMBNAIL_READY = "thumbnail_ready"
    ANALYSED = "analysed"
    VARIANTS_READY = "variants_ready"
    PROCESSED = "processed"
    FAILED = "failed"


#: ``UploadStage`` -> its rank; ``failed`` is outside the order (it can come at any point).
UPLOAD_STAGE_ORDER: dict[UploadStage, int] = {
    stage: rank for rank, stage in enumerate(UploadStage) if stage is not UploadStage.FAILED
}

#: The stages the media VM reports with ``POST /api/media/progress/{id}``.
PROGRESS_STAGES: tuple[UploadStage, ...] = (
    UploadStage.RETRIEVED, UploadStage.THUMBNAIL_READY, UploadStage.ANALYSED, UploadStage.VARIANTS_READY,
)
