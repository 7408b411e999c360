"""Upload events: what changed, for the owner's live stream (``GET /api/uploads/events``).

Every change of an upload's state (uploaded, a stage reported, processed, complete, failed,
retried, its background chosen) records an :class:`~main_api.media.models.UploadEvent` row in
the transaction of the change, holding the upload object as it now is: the JSON text the
stream sends and ``GET /api/uploads/{id}`` answers (``upload_object.upload_json``), stored as
written (compact, UTF-8). The rows are the source of truth: a stream replays them after
``Last-Event-ID`` and each main API process reads new ones with one poller
(``main_api.media.live.event_stream``), never one query per stream.

With ``REDIS_URL`` set, each committed event is also published on Redis (channel
:data:`CHANNEL`, the message is the event id) so that the pollers of every process and host
look at once instead of at their next tick: pub/sub is the wake-up, the table the content.
A Redis that does not answer is logged and ignored: it never fails an upload or a callback,
and the pollers fall back to their own interval.

The events of an upload go with it: when it is deleted (``upload.deleted``, whatever path
deletes it: ``DELETE /api/uploads/{id}``, an artwork's deletion, the admin, an erased account),
:func:`deleted_upload_events_discard` deletes them in the deletion's transaction, so no replay
ever sends its upload object (its analysis, its EXIF) again.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, TextField, Value
from django.utils import timezone

from main_api.media.models import Upload, UploadEvent

if TYPE_CHECKING:
    from main_api.media.domain_events import UploadDeleted

log = logging.getLogger(__name__)

#: The Redis channel events are announced on (prefixed with ``CACHE_KEY_PREFIX``).
CHANNEL = "upload-events"


def channel_name() -> str:
    """The Redis pub/sub channel of this deployment: ``{CACHE_KEY_PREFIX}:upload-events``."""
    return f"{getattr(settings, 'CACHE_KEY_PREFIX', 'oaf')}:{CHANNEL}"


def upload_event_record(image: Upload) -> list[int]:
    """Record that ``image`` changed: one event with its upload object for it and one for each
    of its duplicates (they show its state), in the caller's transaction; announced on Redis
    once that commits. Returns the event ids.

    The payload is the owner's upload object rendered as ``GET /api/uploads/{id}`` renders it
    (``upload_object.upload_json``), and that text is what the row stores: Django's
    ``JSONField`` would write the same JSON value again with ``", "``/``": "`` separators and
    ``\\u`` escapes, 7 to 10 % more bytes for nothing. The text goes in as a plain string
    parameter, as ``JSONField`` itself sends JSON to SQLite and MySQL/MariaDB; read back, the
    field parses it as usual."""
    from main_api.media.upload_object import upload_json, upload_representation

    ids = []
    for upload in (image, *image.duplicates.all()):
        text = upload_json(upload_representation(upload, owner=True)).decode()
        event = UploadEvent.objects.create(
            user_id=upload.user_id, upload_id=upload.pk, payload=Value(text, output_field=TextField()),
        )
        ids.append(event.pk)
    if ids:
        last = ids[-1]
        transaction.on_commit(lambda: announce(last))
    return ids


def upload_events_after(*, after: int, user_id: int | None = None, limit: int = 500) -> list[UploadEvent]:
    """Events with an id above ``after``, oldest first, at most ``limit``; only the user's when
    ``user_id`` is given (a stream's replay), else everyone's (the process's poller)."""
    rows = UploadEvent.objects.filter(pk__gt=after)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    return list(rows.order_by("pk")[:limit])


def upload_events_recent(*, after: int, lookback_seconds: float, user_ids: set[int],
                         limit: int = 500) -> list[UploadEvent]:
    """The events of ``user_ids`` with an id above ``after``, and those recorded in the last
    ``lookback_seconds`` (an event whose transaction committed after one with a higher id),
    oldest first, at most ``limit``: what a process's poller reads (it skips those it has seen)."""
    if not user_ids:
        return []
    since = timezone.now() - timedelta(seconds=lookback_seconds)
    rows = UploadEvent.objects.filter(Q(pk__gt=after) | Q(created_at__gte=since), user_id__in=user_ids)
    return list(rows.order_by("pk")[:limit])


def active_user_ids(user_ids: set[int]) -> set[int]:
    """Which of ``user_ids`` still belong to an active account (one query): the streams of the
    others are ended (an erased or deactivated account)."""
    from django.contrib.auth import get_user_model

    if not user_ids:
        return set()
    return set(get_user_model().objects.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True))


def upload_events_last_id() -> int:
    """The id of the newest event (0 when there is none): where a poller starts."""
    return UploadEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def upload_events_sweep(*, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete the events older than ``older_than`` (``UPLOAD_EVENT_RETENTION_HOURS``); the
    number deleted."""
    cutoff = (now or timezone.now()) - older_than
    deleted, _ = UploadEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def deleted_upload_events_discard(event: UploadDeleted) -> int:
    """``upload.deleted``: delete the events of the upload and of its duplicates (its deletion
    takes them along), in the deletion's transaction; the number deleted. A stream that replays
    after ``Last-Event-ID`` never sends them again (they held its upload object: analysis, EXIF)."""
    upload = event.upload
    ids = [upload.pk, *upload.duplicates.values_list("pk", flat=True)]
    deleted, _ = UploadEvent.objects.filter(user_id=upload.user_id, upload_id__in=ids).delete()
    return deleted


# --- Redis ----------------------------------------------------------------------------------

_redis_lock = threading.Lock()
_redis_client: Any = None


def _redis() -> Any:
    """One sync Redis client per process (None without ``REDIS_URL``), with short timeouts: a
    Redis that hangs must not hold up the request that changed an upload."""
    global _redis_client
    url = getattr(settings, "REDIS_URL", "") or ""
    if not url:
        return None
    with _redis_lock:
        if _redis_client is None:
            import redis

            _redis_client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return _redis_client


def announce(event_id: int) -> bool:
    """Publish ``event_id`` on the Redis channel (nothing without ``REDIS_URL``); True when
    published. A Redis error is logged as a warning and swallowed: the pollers still find the
    event at their next tick."""
    client = _redis()
    if client is None:
        return False
    try:
        client.publish(channel_name(), str(event_id))
    except Exception as e:  # noqa: BLE001 - any Redis failure: the table still holds the event
        log.warning("upload events: Redis did not take event %s (%s); streams get it by polling", event_id, e)
        return False
    return True
