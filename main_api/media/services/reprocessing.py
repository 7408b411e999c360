"""Re-processing: a new run of a finished upload's original, which takes over the earlier run's
references once it is processed."""

from __future__ import annotations

import logging

from django.db import transaction

from main_api.common.exceptions import ConflictError
from main_api.media.intake import temp_storage
from main_api.media.live.records import upload_event_record
from main_api.media.models import Upload
from main_api.media.services.lifecycle import _locked
from main_api.media.wakeup import media_wakeup_on_commit
from shared.data_types import DataType

log = logging.getLogger(__name__)

Status = Upload.Status


def upload_reprocess(*, image_id: int, request_id: str | None = None) -> Upload:
    """Have the media VM process a finished image's original again; returns the new row.

    The media VM keys its work by the main API's row id and never takes a finished id up
    again, so a re-processing is a new ``pending`` row: a copy of the temp original under a
    new name, the same user, data type and target, ``reprocess_of`` pointing at the old row.
    The old row is left as it is and its media id keeps serving, so the user's image works
    throughout. When the new row is processed, the URL replacement moves every reference to
    the old row (its temp path or its smart URL) to the new smart URL; a field the user has
    since pointed at another upload is left alone.

    Refused (:class:`ConflictError`) for an unfinished row, when the temp original is gone,
    and while an earlier re-processing of the same row is still pending. Not decorated with
    ``@transaction.atomic``: removing the copied file on failure has to wrap the commit too.
    """
    with temp_storage.removed_on_error() as written, transaction.atomic():
        image = _locked(image_id)
        if image.duplicate_of_id is not None:
            raise ConflictError("a duplicate has no original of its own: re-process the upload it repeats",
                                {"id": image.pk, "duplicate_of": image.duplicate_of_id})
        if not image.is_finished:
            raise ConflictError(
                "only processed or complete images can be re-processed", {"id": image.pk, "status": image.status}
            )
        if not temp_storage.exists(image.image_path or ""):
            raise ConflictError("the temp original is gone; the image must be uploaded again", {"id": image.pk})
        running = image.reprocessed_as.filter(status=Status.PENDING).first()
        if running is not None:
            raise ConflictError(
                "a re-processing of this image is already pending", {"id": image.pk, "pending": running.pk}
            )
        url_path = temp_storage.new_temp_name(
            user_id=image.user_id, data_type=DataType(image.data_type),
            extension=image.image_path.rsplit(".", 1)[-1],
        )
        written.append(url_path)
        if not temp_storage.copy(image.image_path, url_path):
            raise ConflictError("the temp original is gone; the image must be uploaded again", {"id": image.pk})
        again = Upload.objects.create(
            user_id=image.user_id,
            image_path=url_path,
            original_name=image.original_name,
            mime_type=image.mime_type,
            data_type=image.data_type,
            field=image.field,
            target=image.target,
            status=Status.PENDING,
            request_id=request_id,
            reprocess_of=image,
            sha256=image.sha256,  # the same bytes: a later upload of them repeats the newest run
            source_tool=image.source_tool,
        )
    upload_event_record(again)
    media_wakeup_on_commit(image_id=again.pk)
    log.info("pending image %s queued again as %s", image.pk, again.pk)
    return again
