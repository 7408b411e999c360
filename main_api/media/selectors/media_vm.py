"""What the media VM reads: the pending list (and its long poll), an image by media id, a temp
original, the deletions it has yet to erase."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from main_api.common.exceptions import NotFoundError
from main_api.common.serving import on_server_shutdown
from main_api.media.errors import PROCESSED_IMAGE_NOT_FOUND
from main_api.media.intake import temp_storage
from main_api.media.intake.temp_storage import TempObject
from main_api.media.models import MediaDeletion, Upload
from shared.naming import is_media_id

Status = Upload.Status


def _pending(*, after: int | None, since: datetime | None) -> QuerySet[Upload]:
    """Pending rows with an id above ``after`` (None: any), or put back in the queue after
    ``since`` (a retried row keeps its old id)."""
    rows = Upload.objects.filter(status=Status.PENDING)
    if after is None:
        return rows
    newer = Q(pk__gt=after)
    if since is not None:
        newer |= Q(queued_at__gt=since)
    return rows.filter(newer)


def uploads_for_media_vm(*, limit: int, after: int | None = None,
                             since: datetime | None = None) -> QuerySet[Upload]:
    """What the media VM should process next: pending rows (``after``: only ids above it, and
    with ``since`` also the rows a retry put back after that time), at most ``limit``, fair
    between users: every user's oldest row first, then every user's
    second oldest, and so on, each round oldest first. A user with a thousand rows waiting thus
    takes one place per round, and another user's upload is in the first ``limit`` rows
    whenever fewer than ``limit`` users are waiting. (Rank within user with ``ROW_NUMBER()``:
    SQLite 3.25+, MariaDB 10.2+, MySQL 8.0+.)"""
    ranked = _pending(after=after, since=since).annotate(user_rank=Window(
        expression=RowNumber(), partition_by=[F("user_id")], order_by=[F("created_at").asc(), F("pk").asc()],
    ))
    return ranked.order_by("user_rank", "created_at", "pk")[:limit]


#: How often a long poll looks again while it waits.
LONG_POLL_INTERVAL_SECONDS = 0.2
#: Set when this process's server begins to shut down: held long polls answer at once.
_stop_waiting = threading.Event()
on_server_shutdown(_stop_waiting.set)


def uploads_for_media_vm_wait(*, limit: int, after: int | None, wait: float,
                                   since: datetime | None = None) -> list[Upload]:
    """Like :func:`uploads_for_media_vm`, but when nothing matches, look again every
    ``LONG_POLL_INTERVAL_SECONDS`` for up to ``wait`` seconds: an idle worker then asks once
    per ``wait`` and still hears of an upload within a fraction of a second. While it waits it
    only asks whether a row exists; the fair order is worked out once, for the answer."""
    deadline = time.monotonic() + wait
    waiting = _pending(after=after, since=since)
    while not waiting.exists() and time.monotonic() < deadline and not _stop_waiting.is_set():
        _stop_waiting.wait(min(LONG_POLL_INTERVAL_SECONDS, max(0.0, deadline - time.monotonic())))
    return list(uploads_for_media_vm(limit=limit, after=after, since=since))


def upload_by_media_id(*, media_id: str, user_id: int | None = None) -> Upload:
    """The processed (or complete) image with ``media_id``, of the user ``user_id`` when given
    (None: anyone's); :class:`NotFoundError` otherwise, also for another user's image, so
    nobody learns which media ids exist."""
    image = None
    if is_media_id(media_id):
        image = Upload.objects.filter(
            media_id=media_id, status__in=(Status.PROCESSED, Status.COMPLETE)
        ).first()
    if image is None or (user_id is not None and image.user_id != user_id):
        raise PROCESSED_IMAGE_NOT_FOUND.error({"media_id": media_id})
    return image


def temp_image_get(*, url_path: str, user_id: int | None, media_key: bool) -> tuple[Upload, TempObject]:
    """The row and the opened temp original (``temp_storage.TempObject``: close its ``file``)
    behind a ``/temp_images/...`` path, if this caller may read it; from whichever storage holds
    it (this host's disk, or the shared bucket, streamed).

    The media key reads every temp file; a user only the ones their own rows name. Anything
    else (another user, no file, a path that is not ours) is a plain not-found, so nobody
    learns which files exist.
    """
    not_found = NotFoundError("Not found.")
    if temp_storage.storage_name(url_path) is None or not url_path.startswith(temp_storage.URL_PREFIX) or (
            user_id is None and not media_key):
        raise not_found
    image = Upload.objects.filter(image_path=url_path).first()
    if image is None or not (media_key or image.user_id == user_id):
        raise not_found
    opened = temp_storage.open_stream(url_path)
    if opened is None:
        raise not_found
    return image, opened


def media_deletions_open(*, limit: int) -> list[MediaDeletion]:
    """Deletions the media VM has not acknowledged yet, oldest first."""
    return list(MediaDeletion.objects.filter(done_at__isnull=True).order_by("id")[:limit])
