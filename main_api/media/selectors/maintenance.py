"""What the sweeps, the URL replacement and re-processing read: processed and failed uploads,
an image's runs, the candidates for a re-processing."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from main_api.media.models import Upload

Status = Upload.Status


# --- the URL replacement ---------------------------------------------------------------------


def upload_ids_processed(*, after: int, limit: int) -> list[int]:
    """Ids of ``processed`` rows above ``after``, ascending, at most ``limit`` (keyset pages:
    rows another run holds stay "processed" and are passed, not re-read)."""
    rows = Upload.objects.filter(status=Status.PROCESSED, pk__gt=after).order_by("pk")
    return list(rows.values_list("pk", flat=True)[:limit])


def upload_processed_lock(*, image_id: int) -> Upload | None:
    """The ``processed`` row ``image_id`` with a media id, locked until the caller's transaction
    ends; None when there is none or (``SKIP LOCKED``, where the database has it) another
    transaction holds it. Must run inside ``transaction.atomic``."""
    rows = Upload.objects.filter(pk=image_id, status=Status.PROCESSED)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    else:
        rows = rows.select_for_update()
    image = rows.first()
    return image if image is not None and image.media_id else None


def upload_ids_failed(*, older_than: timedelta, now: datetime | None = None) -> list[int]:
    """Ids of the rows failed (and untouched) for longer than ``older_than``, oldest first:
    the candidates whose temp originals ``services.sweeps.failed_originals_sweep`` deletes."""
    cutoff = (now or timezone.now()) - older_than
    rows = Upload.objects.filter(status=Status.FAILED, updated_at__lt=cutoff).order_by("updated_at", "pk")
    return list(rows.values_list("pk", flat=True))


def upload_runs(*, upload_id: int) -> list[int]:
    """The ids of every run of one image (:func:`main_api.media.services.reprocessing.upload_reprocess`):
    ``upload_id`` first, then the runs it re-did (``reprocess_of``, back to the first upload), then
    the re-processings of any of them (pending, finished or failed), breadth first. One query a
    step of the chain; an unknown id is ``[upload_id]``."""
    runs = [upload_id]
    earlier = Upload.objects.filter(pk=upload_id).values_list("reprocess_of_id", flat=True).first()
    while earlier is not None and earlier not in runs:
        runs.append(earlier)
        earlier = Upload.objects.filter(pk=earlier).values_list("reprocess_of_id", flat=True).first()
    frontier = list(runs)
    while frontier:
        later = list(Upload.objects.filter(reprocess_of_id__in=frontier).exclude(pk__in=runs)
                     .values_list("pk", flat=True))
        runs.extend(later)
        frontier = later
    return runs


def reprocess_candidates(
    *, since: datetime | None = None, username: str | None = None, data_type: str | None = None
) -> QuerySet[Upload]:
    """Finished images (uploaded since ``since``, of ``username``, of ``data_type``) that have not
    already been re-processed, oldest first. A re-processing that failed does not count, so its
    original can be tried again."""
    rows = Upload.objects.filter(status__in=(Status.PROCESSED, Status.COMPLETE), duplicate_of__isnull=True)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if username is not None:
        rows = rows.filter(user__username=username)
    if data_type is not None:
        rows = rows.filter(data_type=data_type)
    superseded = Upload.objects.filter(reprocess_of__isnull=False).exclude(status=Status.FAILED)
    return rows.exclude(pk__in=superseded.values("reprocess_of")).order_by("created_at", "pk")
