"""Deleting an upload: its row (and its duplicates' and later runs'), its temp original, and the
``media_deletions`` row the media VM erases its files by and acknowledges."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from main_api.media.domain_events import UPLOAD_DELETED, UploadDeleted
from main_api.media.errors import MEDIA_DELETION_NOT_FOUND, UPLOAD_NOT_FOUND
from main_api.media.intake import temp_storage
from main_api.media.models import MediaDeletion, Upload

log = logging.getLogger(__name__)


# --- deletion -----------------------------------------------------------------------------------

@transaction.atomic
def upload_delete(*, image_id: int, user_id: int | None, missing_ok: bool = False) -> MediaDeletion | None:
    """Delete the upload ``image_id`` for good; returns the deletion request recorded for the
    media VM, or None for a duplicate (``duplicate_of``), whose image is the earlier upload's
    and stays: only the duplicate's row goes, and its field is cleared by the handlers of ``upload.deleted``.
    Deleting the earlier upload deletes its duplicates with it.

    In one transaction: ``upload.deleted`` is sent (``domain_events``: the users app clears
    what refers to it, the artworks app deletes the artwork and its other runs), a
    ``media_deletions`` row asks the media VM to erase what it holds of it (whatever its
    status: a pending upload may be on its way through the VM, and a failed one may have left
    its original there), and the ``pending_images`` row
    is deleted (the VM never lists it again). The temp original is removed once the
    transaction has committed (a rolled-back deletion keeps it).

    ``user_id``: only that user's upload; another's, an unknown id and an upload already
    deleted are a :class:`NotFoundError` (so deleting twice answers 404 the second time).
    ``missing_ok``: an upload already gone is None instead (a batch whose earlier deletions took
    later rows along: duplicates, an artwork's other runs).
    """
    image = Upload.objects.select_for_update().filter(pk=image_id).first()
    if image is None:
        if missing_ok:
            return None
        raise UPLOAD_NOT_FOUND.error({"id": image_id})
    if user_id is not None and image.user_id != user_id:
        raise UPLOAD_NOT_FOUND.error({"id": image_id})
    UPLOAD_DELETED.send(UploadDeleted(image))
    if image.duplicate_of_id is not None:
        image.delete()
        log.info("upload %s deleted (a duplicate of upload %s: its image stays)", image_id, image.duplicate_of_id)
        return None
    deletion = MediaDeletion.objects.create(media_id=image.media_id, upload_id=image.pk)
    image_path = image.image_path
    # a re-processing of this upload keeps its own row and media id; it only loses its link
    image.delete()
    transaction.on_commit(lambda: temp_storage.remove(image_path))
    log.info("upload %s deleted (media %s); deletion %s requested of the media VM",
             image_id, image.media_id or "-", deletion.pk)
    return deletion


@transaction.atomic
def media_deletion_done(*, deletion_id: int) -> MediaDeletion:
    """The media VM has erased what it held of the deletion ``deletion_id``: ``done_at`` is set.
    Idempotent (a repeated acknowledgement keeps the first time); an unknown id is a
    :class:`NotFoundError`."""
    deletion = MediaDeletion.objects.select_for_update().filter(pk=deletion_id).first()
    if deletion is None:
        raise MEDIA_DELETION_NOT_FOUND.error({"id": deletion_id})
    if deletion.done_at is None:
        deletion.done_at = timezone.now()
        deletion.save(update_fields=["done_at"])
        log.info("deletion %s (upload %s, media %s) done on the media VM", deletion.pk,
                 deletion.upload_id, deletion.media_id or "-")
    return deletion
