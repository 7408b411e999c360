"""An upload's life: create (and a duplicate's), progress, complete, fail, retry, the logo's
background, mark complete.

The rows know nothing of who refers to their images: ``target`` is an opaque key of the app
that owns the reference (``main_api.users.references``), stored and copied, never read here;
``previous_reference`` (what that reference held before the upload) likewise. That app hears
of an upload's failure, retry, completion and deletion through ``main_api.media.domain_events``
(connected in its ``AppConfig.ready()``) and answers the one question asked of it, whether a
user keeps their photos' locations, through :func:`location_policy_install`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from main_api.common.exceptions import ApplicationError
from main_api.media.domain_events import (
    UPLOAD_COMPLETED,
    UPLOAD_FAILED,
    UPLOAD_RETRIED,
    UploadCompleted,
    UploadFailed,
    UploadRetried,
)
from main_api.media.errors import (
    MEDIA_ALREADY_PROCESSED,
    MEDIA_COMPLETE_FAILED,
    MEDIA_FAIL_FINISHED,
    MEDIA_ID_TAKEN,
    UPLOAD_BACKGROUND_NOT_LOGO,
    UPLOAD_NOT_FOUND,
    UPLOAD_ORIGINAL_GONE,
    UPLOAD_RETRY_DUPLICATE,
    UPLOAD_RETRY_NOT_FAILED,
)
from main_api.media.intake import temp_storage
from main_api.media.intake.gate import CheckedUpload
from main_api.media.live.records import upload_event_record
from main_api.media.models import Upload
from main_api.media.upload_object import analysis_location_strip
from main_api.media.wakeup import media_wakeup_on_commit
from shared.payloads import smart_url
from shared.sizes import BACKGROUNDS
from shared.statuses import PROGRESS_STAGES, UPLOAD_STAGE_ORDER, UploadStage

log = logging.getLogger(__name__)

Status = Upload.Status
MAX_REASON_CHARS = 2000


@transaction.atomic
def upload_create(
    *,
    user_id: int,
    upload: CheckedUpload,
    target: str,
    written: list[str],
    request_id: str | None = None,
    previous_reference: str | None = None,
    source_tool: str = "",
) -> Upload:
    """Write the temp original of ``upload`` (which passed ``intake.gate.upload_check``) and its
    ``pending`` row (with ``target``, the owner's key of the field that will refer to it,
    ``previous_reference``, what that field held before, None when the upload replaces
    nothing, and the upload's request id); returns the row. Both keys are the owner's: stored,
    never read here, and handed back to the failure handlers if the upload fails.
    ``source_tool``: the tool the upload says made it (a name of ``shared.sizes.SOURCE_TOOLS``,
    checked by the caller; empty: none).

    The original goes to the temp storage (``intake.temp_storage``: this host's disk, or the bucket every
    host shares); its URL path is appended to ``written`` so that the caller, which owns the whole
    request's transaction, can remove it if anything later fails
    (``temp_storage.removed_on_error``). Storage errors propagate.
    """
    url_path = temp_storage.new_temp_name(user_id=user_id, data_type=upload.data_type, extension=upload.image.extension)
    written.append(url_path)
    temp_storage.save(url_path, upload.file)
    image = Upload.objects.create(
        user_id=user_id,
        image_path=url_path,
        original_name=upload.original_name,
        mime_type=upload.image.mime_type,
        data_type=upload.data_type.value,
        field=upload.field,
        target=target,
        previous_reference=previous_reference,
        status=Status.PENDING,
        request_id=request_id,
        sha256=upload.sha256,
        source_tool=source_tool,
    )
    upload_event_record(image)
    media_wakeup_on_commit(image_id=image.pk)
    return image


@transaction.atomic
def upload_duplicate_create(
    *, user_id: int, upload: CheckedUpload, of: Upload, target: str, previous_reference: str | None = None
) -> Upload:
    """Record ``upload`` (which passed ``intake.gate.upload_check``) as a duplicate of the user's
    earlier upload ``of`` (same bytes, same data type; ``selectors.uploads.upload_duplicate_find``):
    a ``complete`` row with ``duplicate_of`` set and no temp original, so that the media VM
    never lists it. ``target`` and ``previous_reference`` as for :func:`upload_create`;
    the caller points the field at ``selectors.uploads.upload_reference_value(of)``."""
    image = Upload.objects.create(
        user_id=user_id,
        image_path=None,
        original_name=upload.original_name,
        mime_type=upload.image.mime_type,
        data_type=upload.data_type.value,
        field=upload.field,
        target=target,
        previous_reference=previous_reference,
        status=Status.COMPLETE,
        sha256=upload.sha256,
        duplicate_of=of,
    )
    log.info("upload %s is a duplicate of upload %s (same bytes): no processing", image.pk, of.pk)
    upload_event_record(image)
    return image


def _locked(image_id: int) -> Upload:
    image = Upload.objects.select_for_update().filter(pk=image_id).first()
    if image is None:
        raise UPLOAD_NOT_FOUND.error({"id": image_id})
    return image


#: Answers whether a user keeps the GPS position of their photos (``keep_location``).
LocationPolicy = Callable[[int], bool]
_location_policy: LocationPolicy | None = None


def location_policy_install(policy: LocationPolicy) -> None:
    """Make ``policy(user_id)`` the one answer to whether the EXIF GPS position of that user's
    photos is stored (the users app installs the profile's ``keep_location``; installing again
    replaces it). A question, not an event: it has one answer, asked while a completion is
    recorded. With none installed the position is dropped: the private default."""
    global _location_policy
    _location_policy = policy


def location_kept(user_id: int) -> bool:
    """Whether the EXIF GPS position of ``user_id``'s photos may be stored: what the installed
    :data:`LocationPolicy` says (none installed: no)."""
    return _location_policy is not None and bool(_location_policy(user_id))


@dataclass(frozen=True)
class ProgressResult:
    """What :func:`upload_progress` did: the row, and whether the report moved it."""

    image: Upload
    changed: bool


@transaction.atomic
def upload_progress(*, image_id: int, stage: str, media_id: str | None = None) -> ProgressResult:
    """Record that the media VM reached ``stage`` (one of ``shared.statuses.PROGRESS_STAGES``)
    with the upload ``image_id``. Stages only move forward: a stage at or before the one
    recorded, or a report on a row that is no longer pending (processed, complete, failed),
    changes nothing (``changed`` False), so late and repeated reports are harmless. From
    ``thumbnail_ready`` on, ``media_id`` (validated by the caller) is recorded with the
    thumbnail URL, so the upload shows both before it is processed.

    An unknown id is a :class:`NotFoundError`; a stage that is not a progress stage an
    :class:`ApplicationError` (400); a media id that belongs to another upload a
    :class:`ConflictError`."""
    try:
        reported = UploadStage(stage)
    except ValueError:
        reported = None
    if reported not in PROGRESS_STAGES:
        raise ApplicationError("stage must be one of " + ", ".join(s.value for s in PROGRESS_STAGES),
                               {"field": "stage", "value": stage})
    image = _locked(image_id)
    if image.status != Status.PENDING:
        return ProgressResult(image, False)
    current = UploadStage(image.progress) if image.progress else UploadStage.QUEUED
    if UPLOAD_STAGE_ORDER[reported] <= UPLOAD_STAGE_ORDER[current]:
        return ProgressResult(image, False)
    image.progress = reported.value
    fields = ["progress", "updated_at"]
    if media_id and UPLOAD_STAGE_ORDER[reported] >= UPLOAD_STAGE_ORDER[UploadStage.THUMBNAIL_READY]:
        if Upload.objects.filter(media_id=media_id).exclude(pk=image.pk).exists():
            raise MEDIA_ID_TAKEN.error({"media_id": media_id})
        image.media_id = media_id
        image.thumbnail_url = smart_url(settings.SMART_MEDIA_BASE_URL, media_id, size="thumbnail")
        fields += ["media_id", "thumbnail_url"]
    image.save(update_fields=fields)
    upload_event_record(image)
    log.info("pending image %s: %s", image.pk, reported.value)
    return ProgressResult(image, True)


@transaction.atomic
def upload_complete(
    *,
    image_id: int,
    media_id: str,
    permanent_url: str,
    formats_available: list[str],
    sizes_available: list[str],
    ai_analysis: dict[str, Any],
    variants: list[dict[str, Any]] | None = None,
) -> Upload:
    """Record the media VM's result: the row becomes ``processed``. ``variants`` (each file
    the VM made: size, format, bg, width, height, bytes; validated by the caller) is stored
    when given; None (an older VM) keeps what the row has. The EXIF GPS position in
    ``ai_analysis`` is stored only when the owner keeps locations (:func:`location_policy_install`).

    The references follow at once: in the same transaction the row is recorded ``processed``
    (an event for the owner's stream) and then completed (:func:`upload_mark_complete`: every
    reference to it rewritten to its smart URL, ``upload.completed`` sent, a second event), so
    the upload is ``complete`` when this returns; the caller answers the media VM that its work
    is recorded (``processed``, the seed's word).

    Idempotent: the same media id again changes nothing (a ``complete`` row stays
    complete), except that variants it names that the row does not have yet are recorded (the
    media VM's ``backfill`` of outputs added to the outputs file). A different media id for
    finished work, or a failed row, is a conflict.
    """
    image = _locked(image_id)
    if image.is_finished:
        if image.media_id == media_id:
            _variants_backfilled(image, formats_available, sizes_available, variants)
            return image
        raise MEDIA_ALREADY_PROCESSED.error({"id": image.pk, "status": image.status, "media_id": image.media_id})
    if image.status == Status.FAILED:
        raise MEDIA_COMPLETE_FAILED.error({"id": image.pk, "status": image.status})
    if Upload.objects.filter(media_id=media_id).exclude(pk=image.pk).exists():
        raise MEDIA_ID_TAKEN.error({"media_id": media_id})

    image.status = Status.PROCESSED
    image.media_id = media_id
    image.permanent_url = permanent_url or smart_url(settings.SMART_MEDIA_BASE_URL, media_id)
    image.thumbnail_url = smart_url(settings.SMART_MEDIA_BASE_URL, media_id, size="thumbnail")
    keep_location = location_kept(image.user_id)
    image.ai_analysis = ai_analysis if keep_location else analysis_location_strip(ai_analysis)
    image.formats_available = formats_available
    image.sizes_available = sizes_available
    if variants is not None:
        image.variants = variants
    image.processed_at = timezone.now()
    image.failure_reason = ""
    image.save()
    upload_event_record(image)
    log.info("pending image %s processed as media %s", image.pk, media_id)
    return upload_mark_complete(image=image).image


def _variants_backfilled(image: Upload, formats: list[str], sizes: list[str],
                         variants: list[dict[str, Any]] | None) -> None:
    """Record on the finished ``image`` a repeated completion's variants when it names some the
    row lacks (a backfill adds outputs; none are ever taken away here)."""
    if not variants:
        return
    known = {(v.get("size"), v.get("format"), v.get("bg")) for v in image.variants or [] if isinstance(v, dict)}
    if all((v["size"], v["format"], v["bg"]) in known for v in variants):
        return
    image.variants = variants
    image.sizes_available = sizes
    image.formats_available = formats
    image.save(update_fields=["variants", "sizes_available", "formats_available", "updated_at"])
    upload_event_record(image)
    log.info("pending image %s: %s variant(s) recorded after a backfill", image.pk, len(variants) - len(known))


@transaction.atomic
def upload_fail(*, image_id: int, reason: str = "") -> Upload:
    """Mark an unfinished image ``failed`` and send ``upload.failed`` for it and each duplicate
    (``domain_events``: the users app gives back what referred to it). Every path that fails a row comes
    here: the media VM's cleanup, the admin action and ``sweep_stuck``.

    The temp original is kept, so that the upload can be retried
    (:func:`upload_retry`), until :func:`failed_originals_sweep` deletes it
    ``FAILED_RETENTION_DAYS`` later.

    Repeating it is harmless (the handlers run again and find nothing left to undo). Finished
    work (processed/complete) is never destroyed: :class:`ConflictError`; an unknown id is a
    :class:`NotFoundError`.
    """
    image = _locked(image_id)
    if image.is_finished:
        raise MEDIA_FAIL_FINISHED.error({"id": image.pk, "status": image.status})
    image.status = Status.FAILED
    image.failure_reason = (reason or image.failure_reason or "cleaned up")[:MAX_REASON_CHARS]
    image.save(update_fields=["status", "failure_reason", "updated_at"])
    for failed in (image, *image.duplicates.all()):  # a duplicate's field referred to this image too
        UPLOAD_FAILED.send(UploadFailed(failed))
    upload_event_record(image)
    log.info("pending image %s failed (temp original kept for a retry): %s", image.pk, image.failure_reason)
    return image


@transaction.atomic
def upload_retry(*, image_id: int, user_id: int | None = None, failed_only: bool = False) -> Upload:
    """Put an unfinished image back to ``pending`` for the media VM, clearing its failure.

    A failed row starts a new processing round (``attempts`` + 1) and ``upload.retried`` is
    sent for it and each duplicate (``domain_events``); the media VM takes a failed row listed as
    pending again from scratch, with a fresh media id. A pending row (stuck, from the admin)
    only has its clock restarted.

    ``user_id``: only that user's row (another's is a :class:`NotFoundError`, as an unknown
    id is); ``failed_only``: anything but a failed row is a :class:`ConflictError` (the
    owner's retry), as finished work always is. The temp original is needed: once it is gone
    (swept, or deleted), :class:`GoneError` (410); only a new upload helps then.
    """
    image = _locked(image_id)
    if user_id is not None and image.user_id != user_id:
        raise UPLOAD_NOT_FOUND.error({"id": image_id})
    if image.duplicate_of_id is not None:
        raise UPLOAD_RETRY_DUPLICATE.error({"id": image.pk, "duplicate_of": image.duplicate_of_id})
    if image.is_finished or (failed_only and image.status != Status.FAILED):
        raise UPLOAD_RETRY_NOT_FAILED.error({"id": image.pk, "status": image.status})
    if not temp_storage.exists(image.image_path or ""):
        raise UPLOAD_ORIGINAL_GONE.error({"id": image.pk})
    was_failed = image.status == Status.FAILED
    image.status = Status.PENDING
    image.failure_reason = ""
    if was_failed:
        # a new round: the media VM starts over with a fresh media id
        image.attempts += 1
        image.progress, image.media_id, image.thumbnail_url = "", None, ""
    image.queued_at = timezone.now()  # the media VM's next poll lists it (pending/all?since=)
    image.save(update_fields=["status", "failure_reason", "attempts", "progress", "media_id", "thumbnail_url",
                              "queued_at", "updated_at"])
    if was_failed:
        for retried in (image, *image.duplicates.all()):
            UPLOAD_RETRIED.send(UploadRetried(retried))
        log.info("pending image %s retried (attempt %s)", image.pk, image.attempts)
    upload_event_record(image)
    media_wakeup_on_commit(image_id=image.pk)
    return image


@transaction.atomic
def upload_background_set(*, image_id: int, user_id: int | None, background: str) -> Upload:
    """Choose the background the smart URLs of the logo ``image_id`` serve by default:
    ``original`` or ``removed`` (``shared.sizes.BACKGROUNDS``; ``bg=`` in a URL still overrides).
    ``user_id``: only that user's upload (another's is a :class:`NotFoundError`; None: any).
    Any other data type, or another value, is an :class:`ApplicationError` (400) naming the
    ``background`` field.

    A duplicate has no image of its own: the background is set on the upload it repeats (one
    image, one background). Returns the upload ``image_id`` itself, the duplicate included, so
    that the answer is the object the request named."""
    asked = image = _locked(image_id)
    if user_id is not None and image.user_id != user_id:
        raise UPLOAD_NOT_FOUND.error({"id": image_id})
    if image.duplicate_of_id is not None:  # one image: its background is the earlier upload's
        image = _locked(image.duplicate_of_id)
    if background not in BACKGROUNDS:
        raise ApplicationError("background must be one of " + ", ".join(BACKGROUNDS),
                               {"field": "background", "value": background})
    if image.data_type != Upload.DataTypes.LOGO:
        raise UPLOAD_BACKGROUND_NOT_LOGO.error({"field": "background", "data_type": image.data_type})
    image.background = background
    image.save(update_fields=["background", "updated_at"])
    upload_event_record(image)
    if asked.pk != image.pk:
        asked.duplicate_of = image  # shows the background just chosen
    return asked


# --- the end of the URL replacement ------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    """What :func:`upload_mark_complete` did: the row, now ``complete``, and how many references
    the handlers of ``upload.completed`` rewrote to its smart URL."""

    image: Upload
    references: int


def upload_mark_complete(*, image: Upload) -> Completion:
    """Move a ``processed`` row, locked by the caller's transaction, to ``complete`` and send
    ``upload.completed`` (``domain_events``): the users app rewrites every reference to the
    upload (and, for a re-processing, to the run it re-did) to its smart URL, the artworks app
    moves an artwork to a re-processing's run. Called by :func:`upload_complete` as the media
    VM's completion is accepted, and by the sweep of rows a crash or an older version left
    ``processed`` (``services.sweeps.uploads_processed_complete``)."""
    image.status = Status.COMPLETE
    image.save(update_fields=["status", "updated_at"])
    results = UPLOAD_COMPLETED.send(UploadCompleted(image))
    upload_event_record(image)
    return Completion(image, sum(r for r in results if isinstance(r, int)))
