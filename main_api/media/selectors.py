"""Reads of ``pending_images`` (and, through ``vm_client``, of the media VM)."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from main_api.common.exceptions import ApplicationError, NotFoundError
from main_api.common.serving import on_server_shutdown
from main_api.media import temp_files
from main_api.media.failure_reasons import failure_reason_for_owner
from main_api.media.models import MediaDeletion, PendingImage
from main_api.media.temp_files import TempObject
from main_api.media.vm_client import MediaVmStatus, media_vm_status_get, similar_get
from shared.naming import is_media_id
from shared.payloads import smart_url
from shared.sizes import SIZE_ORDER, ImageFormat, default_size_for
from shared.statuses import UploadStage

Status = PendingImage.Status


def _pending(*, after: int | None, since: datetime | None) -> QuerySet[PendingImage]:
    """Pending rows with an id above ``after`` (None: any), or put back in the queue after
    ``since`` (a retried row keeps its old id)."""
    rows = PendingImage.objects.filter(status=Status.PENDING)
    if after is None:
        return rows
    newer = Q(pk__gt=after)
    if since is not None:
        newer |= Q(queued_at__gt=since)
    return rows.filter(newer)


def pending_images_for_media(*, limit: int, after: int | None = None,
                             since: datetime | None = None) -> QuerySet[PendingImage]:
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


def pending_images_for_media_wait(*, limit: int, after: int | None, wait: float,
                                   since: datetime | None = None) -> list[PendingImage]:
    """Like :func:`pending_images_for_media`, but when nothing matches, look again every
    ``LONG_POLL_INTERVAL_SECONDS`` for up to ``wait`` seconds: an idle worker then asks once
    per ``wait`` and still hears of an upload within a fraction of a second. While it waits it
    only asks whether a row exists; the fair order is worked out once, for the answer."""
    deadline = time.monotonic() + wait
    waiting = _pending(after=after, since=since)
    while not waiting.exists() and time.monotonic() < deadline and not _stop_waiting.is_set():
        _stop_waiting.wait(min(LONG_POLL_INTERVAL_SECONDS, max(0.0, deadline - time.monotonic())))
    return list(pending_images_for_media(limit=limit, after=after, since=since))


def pending_image_by_media_id(*, media_id: str, user_id: int | None = None) -> PendingImage:
    """The processed (or complete) image with ``media_id``, of the user ``user_id`` when given
    (None: anyone's); :class:`NotFoundError` otherwise, also for another user's image, so
    nobody learns which media ids exist."""
    image = None
    if is_media_id(media_id):
        image = PendingImage.objects.filter(
            media_id=media_id, status__in=(Status.PROCESSED, Status.COMPLETE)
        ).first()
    if image is None or (user_id is not None and image.user_id != user_id):
        raise NotFoundError("no processed image with this media id", {"media_id": media_id})
    return image


def pending_image_smart_url(image: PendingImage) -> str | None:
    """The smart URL of a processed (or complete) image, else None; with ``&bg=removed`` for a
    logo whose owner chose its removed background (a URL of its own, so no cache keeps the
    other version under it)."""
    if image.is_finished and image.media_id:
        return _image_url(image.media_id, default_size_for(image.data_type), upload_served_background(image))
    return None


def uploads_by_smart_url(*, user_id: int, values: set[str]) -> dict[str, PendingImage]:
    """The user's processed uploads that ``values`` (profile references) name by smart URL
    (``{SMART_MEDIA_BASE_URL}/{media_id}?...``), by value."""
    base = settings.SMART_MEDIA_BASE_URL.rstrip("/") + "/"
    ids = {value[len(base):].split("?", 1)[0]: value for value in values if value.startswith(base)}
    ids = {media_id: value for media_id, value in ids.items() if is_media_id(media_id)}
    if not ids:
        return {}
    rows = PendingImage.objects.filter(user_id=user_id, media_id__in=ids, status__in=(Status.PROCESSED,
                                                                                        Status.COMPLETE))
    return {ids[image.media_id]: image for image in rows if image.media_id}


def pending_images_by_path(*, user_id: int, image_paths: set[str]) -> dict[str, PendingImage]:
    """The user's rows whose temp path is one of ``image_paths``, by that path."""
    rows = PendingImage.objects.filter(user_id=user_id, image_path__in=image_paths)
    return {image.image_path: image for image in rows}


def user_pending_images(*, user_id: int, limit: int = 50) -> list[PendingImage]:
    """The user's most recent uploads, newest first."""
    rows = PendingImage.objects.filter(user_id=user_id).select_related("duplicate_of")
    return list(rows.order_by("-created_at", "-pk")[:limit])


def temp_image_get(*, url_path: str, user_id: int | None, media_key: bool) -> tuple[PendingImage, TempObject]:
    """The row and the opened temp original (``temp_files.TempObject``: close its ``file``)
    behind a ``/temp_images/...`` path, if this caller may read it; from whichever storage holds
    it (this host's disk, or the shared bucket, streamed).

    The media key reads every temp file; a user only the ones their own rows name. Anything
    else (another user, no file, a path that is not ours) is a plain not-found, so nobody
    learns which files exist.
    """
    not_found = NotFoundError("Not found.")
    if temp_files.storage_name(url_path) is None or not url_path.startswith(temp_files.URL_PREFIX) or (
            user_id is None and not media_key):
        raise not_found
    image = PendingImage.objects.filter(image_path=url_path).first()
    if image is None or not (media_key or image.user_id == user_id):
        raise not_found
    opened = temp_files.open_stream(url_path)
    if opened is None:
        raise not_found
    return image, opened


# --- the URL replacement ---------------------------------------------------------------------


def processed_image_ids(*, after: int, limit: int) -> list[int]:
    """Ids of ``processed`` rows above ``after``, ascending, at most ``limit`` (keyset pages:
    rows another run holds stay "processed" and are passed, not re-read)."""
    rows = PendingImage.objects.filter(status=Status.PROCESSED, pk__gt=after).order_by("pk")
    return list(rows.values_list("pk", flat=True)[:limit])


def pending_image_processed_lock(*, image_id: int) -> PendingImage | None:
    """The ``processed`` row ``image_id`` with a media id, locked until the caller's transaction
    ends; None when there is none or (``SKIP LOCKED``, where the database has it) another
    transaction holds it. Must run inside ``transaction.atomic``."""
    rows = PendingImage.objects.filter(pk=image_id, status=Status.PROCESSED)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    else:
        rows = rows.select_for_update()
    image = rows.first()
    return image if image is not None and image.media_id else None


def failed_image_ids(*, older_than: timedelta, now: datetime | None = None) -> list[int]:
    """Ids of the rows failed (and untouched) for longer than ``older_than``, oldest first:
    the candidates whose temp originals ``services.failed_originals_sweep`` deletes."""
    cutoff = (now or timezone.now()) - older_than
    rows = PendingImage.objects.filter(status=Status.FAILED, updated_at__lt=cutoff).order_by("updated_at", "pk")
    return list(rows.values_list("pk", flat=True))


# --- the operations dashboard ----------------------------------------------------------------

#: A pending row untouched this long (since upload or the last retry) has not been picked up.
STUCK_AFTER = timedelta(hours=1)
#: The window of the dashboard's failures, timings and throughput.
DASHBOARD_WINDOW = timedelta(days=1)


def pending_image_counts() -> dict[str, int]:
    """Rows of ``pending_images`` by status, every status present (zero when none)."""
    counts = dict.fromkeys(Status.values, 0)
    for status, count in PendingImage.objects.values_list("status").annotate(n=Count("pk")).order_by():
        counts[status] = count
    return counts


def stuck_images(*, older_than: timedelta = STUCK_AFTER, now: datetime | None = None) -> QuerySet[PendingImage]:
    """Pending rows untouched for longer than ``older_than``, oldest first."""
    cutoff = (now or timezone.now()) - older_than
    return PendingImage.objects.filter(status=Status.PENDING, updated_at__lt=cutoff).order_by("updated_at", "pk")


def recent_failures(*, since: timedelta = DASHBOARD_WINDOW, now: datetime | None = None) -> QuerySet[PendingImage]:
    """Rows that failed within ``since``, newest first."""
    cutoff = (now or timezone.now()) - since
    return PendingImage.objects.filter(status=Status.FAILED, updated_at__gte=cutoff).order_by("-updated_at", "-pk")


def failure_reasons(*, since: timedelta = DASHBOARD_WINDOW, now: datetime | None = None, limit: int = 10
                    ) -> list[tuple[str, int]]:
    """The commonest failure reasons within ``since``: ``(reason, count)``, most frequent first."""
    rows = (
        recent_failures(since=since, now=now)
        .values_list("failure_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "failure_reason")[:limit]
    )
    return [(reason or "(no reason given)", count) for reason, count in rows]


@dataclass(frozen=True)
class ProcessingTimes:
    """Seconds from upload (``created_at``) to processed (``processed_at``)."""

    count: int
    average_seconds: float | None
    p95_seconds: float | None


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` (``fraction`` in (0, 1]); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def processing_times(*, since: timedelta = DASHBOARD_WINDOW, now: datetime | None = None) -> ProcessingTimes:
    """Average and p95 time to processed, over the images processed within ``since``.

    Computed in Python from the two timestamps: the same on SQLite and MariaDB, and a day's
    worth of rows is small.
    """
    now = now or timezone.now()
    pairs = PendingImage.objects.filter(processed_at__gte=now - since, processed_at__lte=now).values_list(
        "created_at", "processed_at"
    )
    seconds = [max(0.0, (processed - created).total_seconds()) for created, processed in pairs.iterator()]
    if not seconds:
        return ProcessingTimes(count=0, average_seconds=None, p95_seconds=None)
    return ProcessingTimes(
        count=len(seconds), average_seconds=sum(seconds) / len(seconds), p95_seconds=percentile(seconds, 0.95)
    )


def throughput_per_hour(*, hours: int = 24, now: datetime | None = None) -> list[tuple[datetime, int]]:
    """Images processed in each of the last ``hours`` clock hours (the current one included),
    oldest first, with the hours that processed nothing as zero. Hours are UTC."""
    now = now or timezone.now()
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first = current - timedelta(hours=hours - 1)
    buckets = {first + timedelta(hours=n): 0 for n in range(hours)}
    stamps = PendingImage.objects.filter(processed_at__gte=first, processed_at__lte=now).values_list(
        "processed_at", flat=True
    )
    for stamp in stamps.iterator():
        hour = stamp.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        if hour in buckets:
            buckets[hour] += 1
    return sorted(buckets.items())


@dataclass(frozen=True)
class Dashboard:
    """Everything the admin dashboard shows."""

    counts: dict[str, int]
    stuck: list[PendingImage]
    stuck_total: int
    failures: list[PendingImage]
    failures_total: int
    failure_reasons: list[tuple[str, int]]
    processing: ProcessingTimes
    throughput: list[tuple[datetime, int]]
    media_vm: MediaVmStatus

    @property
    def queue_length(self) -> int:
        return self.counts.get(Status.PENDING, 0)

    @property
    def throughput_total(self) -> int:
        return sum(n for _, n in self.throughput)

    @property
    def throughput_peak(self) -> int:
        return max((n for _, n in self.throughput), default=0)


def dashboard_get(*, now: datetime | None = None, listed: int = 20) -> Dashboard:
    """The numbers of the admin dashboard; ``listed`` rows of the stuck and failed lists."""
    now = now or timezone.now()
    stuck = stuck_images(now=now).select_related("user")
    failures = recent_failures(now=now).select_related("user")
    return Dashboard(
        counts=pending_image_counts(),
        stuck=list(stuck[:listed]),
        stuck_total=stuck.count(),
        failures=list(failures[:listed]),
        failures_total=failures.count(),
        failure_reasons=failure_reasons(now=now),
        processing=processing_times(now=now),
        throughput=throughput_per_hour(now=now),
        media_vm=media_vm_status_get(),
    )


def upload_runs(*, upload_id: int) -> list[int]:
    """The ids of every run of one image (:func:`main_api.media.services.pending_image_reprocess`):
    ``upload_id`` first, then the runs it re-did (``reprocess_of``, back to the first upload), then
    the re-processings of any of them (pending, finished or failed), breadth first. One query a
    step of the chain; an unknown id is ``[upload_id]``."""
    runs = [upload_id]
    earlier = PendingImage.objects.filter(pk=upload_id).values_list("reprocess_of_id", flat=True).first()
    while earlier is not None and earlier not in runs:
        runs.append(earlier)
        earlier = PendingImage.objects.filter(pk=earlier).values_list("reprocess_of_id", flat=True).first()
    frontier = list(runs)
    while frontier:
        later = list(PendingImage.objects.filter(reprocess_of_id__in=frontier).exclude(pk__in=runs)
                     .values_list("pk", flat=True))
        runs.extend(later)
        frontier = later
    return runs


def reprocess_candidates(
    *, since: datetime | None = None, username: str | None = None, data_type: str | None = None
) -> QuerySet[PendingImage]:
    """Finished images (uploaded since ``since``, of ``username``, of ``data_type``) that have not
    already been re-processed, oldest first. A re-processing that failed does not count, so its
    original can be tried again."""
    rows = PendingImage.objects.filter(status__in=(Status.PROCESSED, Status.COMPLETE), duplicate_of__isnull=True)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if username is not None:
        rows = rows.filter(user__username=username)
    if data_type is not None:
        rows = rows.filter(data_type=data_type)
    superseded = PendingImage.objects.filter(reprocess_of__isnull=False).exclude(status=Status.FAILED)
    return rows.exclude(pk__in=superseded.values("reprocess_of")).order_by("created_at", "pk")


# --- similar images ----------------------------------------------------------------------------


def similar_images_get(
    *, media_id: str, limit: int, scope: str, min_similarity: float | None = None, user_id: int | None = None
) -> dict[str, Any]:
    """The nearest images of the processed image ``media_id``, from the media VM's ``/similar``.

    ``user_id`` is the signed-in user, None for the media key. A user sees only their own
    image (anyone else's is a :class:`NotFoundError`, as for one that does not exist) and only
    ``scope="user"`` (``"all"`` is an :class:`ApplicationError` 403). The VM's errors are
    ``vm_client``'s (502/504; its 400 and 404 become ours).

    Returns ``{"media_id", "scope", "min_similarity", "results", "count"}``; each result is the
    VM's (``media_id``, ``user_id``, ``data_type``, ``similarity``, ``phash_distance``,
    ``duplicate``) plus ``url``, its smart thumbnail URL.
    """
    pending_image_by_media_id(media_id=media_id, user_id=user_id)
    if user_id is not None:
        if scope != "user":
            raise ApplicationError("scope=all needs the media key", {"scope": scope}, status_code=403)
    params = {"limit": str(limit), "scope": scope}
    if min_similarity is not None:
        params["min_similarity"] = str(min_similarity)
    body = similar_get(media_id=media_id, params=params)
    results = [
        {**r, "url": smart_url(settings.SMART_MEDIA_BASE_URL, r["media_id"], "thumbnail")}
        for r in body.get("results") or [] if isinstance(r, dict) and is_media_id(str(r.get("media_id", "")))
    ]
    return {"media_id": media_id, "scope": body.get("scope", scope), "min_similarity": body.get("min_similarity"),
            "results": results, "count": len(results)}


# --- uploads as their owner sees them (GET /api/uploads) ----------------------------------------

#: ``stage`` of an upload: where processing is. This module knows the coarse ones; the stages
#: between ``queued`` and ``processed`` (retrieved, thumbnail_ready, ...) come with live progress.
STAGE_QUEUED = UploadStage.QUEUED.value
STAGE_PROCESSED = UploadStage.PROCESSED.value
STAGE_FAILED = UploadStage.FAILED.value


def uploads_for_user(*, user_id: int, status: str | None = None, data_type: str | None = None
                     ) -> QuerySet[PendingImage]:
    """The user's uploads, newest first (``created_at``, then id), optionally of one ``status``
    and one ``data_type`` (already validated by the caller)."""
    rows = PendingImage.objects.filter(user_id=user_id).select_related("duplicate_of")
    if status is not None:  # a duplicate has the status of the upload it repeats
        rows = rows.filter(Q(status=status, duplicate_of__isnull=True) | Q(duplicate_of__status=status))
    if data_type is not None:
        rows = rows.filter(data_type=data_type)
    return rows.order_by("-created_at", "-pk")


def upload_get(*, upload_id: int, user_id: int | None) -> PendingImage:
    """The upload ``upload_id`` of the user ``user_id`` (None: the media key, which reads any).
    Someone else's upload is a :class:`NotFoundError`, exactly as one that does not exist."""
    rows = PendingImage.objects.filter(pk=upload_id)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    image = rows.first()
    if image is None:
        raise NotFoundError("no such upload", {"id": upload_id})
    return image


def upload_duplicate_find(*, user_id: int, sha256: str, data_type: str) -> PendingImage | None:
    """The user's newest upload of the same bytes (``sha256``, hex) and data type that is pending
    or finished and is not itself a duplicate (a re-processing, which carries the hash, is newer
    than the upload it re-does): a new upload of those bytes repeats it. None when there is none
    (a failed upload is no model: the same bytes are processed again). Locked until the caller's
    transaction ends, so that it cannot complete or fail between this and the new reference."""
    if not sha256:
        return None
    return (PendingImage.objects.select_for_update().filter(
        user_id=user_id, sha256=sha256, data_type=data_type, duplicate_of__isnull=True,
        status__in=(Status.PENDING, Status.PROCESSED, Status.COMPLETE),
    ).order_by("-pk").first())


def upload_owner_name(image: PendingImage) -> str:
    """The username of ``image``'s owner (an artwork's watermark)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.values_list("username", flat=True).get(pk=image.user_id)


def upload_reference_value(image: PendingImage) -> str:
    """What a profile field refers to ``image`` (not a duplicate) by: its smart URL once it is
    complete, else its temp path (the URL replacement rewrites that when it completes)."""
    if image.status == Status.COMPLETE and image.media_id:
        return smart_url(settings.SMART_MEDIA_BASE_URL, image.media_id)
    return image.image_path or ""


def upload_original_kept(image: PendingImage) -> bool:
    """Whether the temp original of ``image`` is still kept (in the temp storage) (a retry needs it); never for a
    duplicate, which has none of its own."""
    return bool(image.image_path) and temp_files.exists(image.image_path or "")


def upload_stage(image: PendingImage) -> str:
    """Where ``image`` is (``shared.statuses.UploadStage``): ``failed``; ``processed`` once
    processed or complete; while pending, the last stage the media VM reported (``retrieved``,
    ``thumbnail_ready``, ``analysed``, ``variants_ready``) or ``queued`` before any."""
    if image.status == Status.FAILED:
        return STAGE_FAILED
    if image.is_finished:
        return STAGE_PROCESSED
    return image.progress or STAGE_QUEUED


def upload_background(image: PendingImage) -> str | None:
    """The background a logo's smart URLs serve by default (``original``/``removed``); None
    for every other data type."""
    if image.data_type != PendingImage.DataTypes.LOGO:
        return None
    return image.background or "original"


def upload_served_background(image: PendingImage) -> str | None:
    """``"removed"`` when the logo ``image``'s smart URLs serve its background-removed set by
    default: its owner chose it and the media VM made that set (or did not say which sets it
    made: an older VM); None otherwise (the original is served)."""
    if upload_background(image) != "removed":
        return None
    reported = [v for v in image.variants or [] if isinstance(v, dict)]
    return "removed" if not reported or any(v.get("bg") == "removed" for v in reported) else None


def default_background_for_media(*, media_id: str) -> str | None:
    """What ``/api/images/{media_id}`` serves without ``bg=``: ``"removed"`` for a logo whose
    owner chose it (:func:`upload_served_background`), else None (the media VM's default)."""
    if not is_media_id(media_id):
        return None
    image = PendingImage.objects.filter(media_id=media_id, data_type=PendingImage.DataTypes.LOGO,
                                        background="removed").first()
    return upload_served_background(image) if image is not None else None


def _image_url(media_id: str, size: str, background: str | None) -> str:
    url = smart_url(settings.SMART_MEDIA_BASE_URL, media_id, size)
    return f"{url}&bg=removed" if background == "removed" else url


def upload_variants(image: PendingImage) -> list[dict[str, Any]]:
    """The sizes of a processed upload, narrowest first: ``{"size", "width", "height",
    "formats", "url"}`` each, for a ``srcset`` with ``w`` descriptors. Width and height are
    the real pixels of the files the media VM made for the upload's background (null when the
    VM did not report them: an older VM); ``url`` is its smart URL for that size. Empty until
    the upload is processed."""
    if not image.is_finished or not image.media_id:
        return []
    background = upload_served_background(image)
    wanted = background or "original"
    reported = [v for v in image.variants or [] if isinstance(v, dict)]
    by_size: dict[str, dict[str, Any]] = {}
    for variant in reported:
        if variant.get("bg") != wanted or variant.get("size") not in SIZE_ORDER:
            continue
        entry = by_size.setdefault(variant["size"], {
            "size": variant["size"], "width": variant.get("width"), "height": variant.get("height"), "formats": [],
        })
        if variant.get("format") not in entry["formats"]:
            entry["formats"].append(variant.get("format"))
    if not by_size:  # an older VM: the sizes without their pixels
        by_size = {size: {"size": size, "width": None, "height": None, "formats": list(image.formats_available)}
                   for size in image.sizes_available if size in SIZE_ORDER}
    entries = sorted(by_size.values(), key=lambda e: (e["width"] or 0, SIZE_ORDER[e["size"]]))
    for entry in entries:
        entry["formats"] = [f.value for f in ImageFormat if f.value in entry["formats"]]
        entry["url"] = _image_url(image.media_id, entry["size"], background)
    return entries


def upload_detail(image: PendingImage, *, owner: bool = True) -> dict[str, Any]:
    """The upload object of ``GET /api/uploads/{id}`` for ``image`` (see the OutputSerializer
    of ``apis.UploadDetailApi`` and the README's "For frontend developers" for each field).
    ``owner``: the reader is the image's owner; anyone else (the media key) gets no GPS position.

    A duplicate (the same bytes uploaded again) shows the state and image of the upload it
    repeats, with its own ``id``, ``field``, ``original_name`` and ``created_at``, and
    ``duplicate_of`` naming that upload; it is not retryable itself (its original is retried)."""
    if image.duplicate_of is not None:
        return {
            **upload_detail(image.duplicate_of, owner=owner),
            "id": image.pk,
            "field": image.field or None,
            "original_name": image.original_name,
            "created_at": image.created_at,
            "retryable": False,
            "duplicate_of": image.duplicate_of_id,
        }
    analysis = image.ai_analysis if image.is_finished and isinstance(image.ai_analysis, dict) else None
    if analysis is not None and not owner:
        analysis = analysis_location_strip(analysis)
    background = upload_background(image)
    served = upload_served_background(image)
    failed = image.status == Status.FAILED
    # the media id is known from thumbnail_ready on (a progress report), and for good once processed
    media_id = image.media_id if image.media_id and (image.is_finished or image.status == Status.PENDING) else None
    duplicate_of = None
    duplicate_media_id = (analysis or {}).get("duplicate_of")
    if isinstance(duplicate_media_id, str) and is_media_id(duplicate_media_id):
        # a re-processing's look-alike is the run it re-did: the same image, not a duplicate
        duplicate_of = (PendingImage.objects.filter(user_id=image.user_id, media_id=duplicate_media_id)
                        .exclude(pk=image.reprocess_of_id or 0).values_list("pk", flat=True).first())
    return {
        "id": image.pk,
        "field": image.field or None,
        "data_type": image.data_type,
        "original_name": image.original_name,
        "status": image.status,
        "stage": upload_stage(image),
        "failure_reason": failure_reason_for_owner(image.failure_reason) if failed else None,
        "attempts": image.attempts,
        "retryable": failed and upload_original_kept(image),
        "created_at": image.created_at,
        "processed_at": image.processed_at,
        "media_id": media_id,
        "thumbnail_url": _image_url(media_id, "thumbnail", served) if media_id else None,
        "smart_url": _image_url(image.media_id, default_size_for(image.data_type), served)
        if image.is_finished and image.media_id else None,
        "width": _positive_int((analysis or {}).get("width")),
        "height": _positive_int((analysis or {}).get("height")),
        "variants": upload_variants(image),
        "background": background,
        "background_removed": (analysis or {}).get("background_removed") if background is not None else None,
        "duplicate_of": duplicate_of,
        "source_tool": image.source_tool or None,
        "placeholder": _dict_or_none((analysis or {}).get("placeholder")),
        "exif": _dict_or_none((analysis or {}).get("exif")),
        "analysis": analysis,
    }


def analysis_location_strip(analysis: dict[str, Any]) -> dict[str, Any]:
    """``analysis`` with ``exif.gps`` set to null (a copy; unchanged when it has no EXIF)."""
    exif = analysis.get("exif")
    if not isinstance(exif, dict) or exif.get("gps") is None:
        return analysis
    return {**analysis, "exif": {**exif, "gps": None}}


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def media_deletions_open(*, limit: int) -> list[MediaDeletion]:
    """Deletions the media VM has not acknowledged yet, oldest first."""
    return list(MediaDeletion.objects.filter(done_at__isnull=True).order_by("id")[:limit])
