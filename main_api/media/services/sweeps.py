"""Sweeps: failed uploads' originals after their grace, uploads stuck past their time, and
uploads left ``processed`` (completed, their references rewritten)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from main_api.media.intake import temp_storage
from main_api.media.models import Upload
from main_api.media.selectors.maintenance import upload_ids_processed, upload_processed_lock
from main_api.media.services.lifecycle import upload_fail, upload_mark_complete

log = logging.getLogger(__name__)

Status = Upload.Status


@transaction.atomic
def failed_original_sweep_one(*, image_id: int, older_than: timedelta) -> bool:
    """Delete the temp original of the failed row ``image_id`` if it has been failed (untouched)
    for longer than ``older_than``; True when a file was deleted. A row retried meanwhile is
    left alone (it is locked, and re-checked)."""
    image = Upload.objects.select_for_update().filter(pk=image_id).first()
    if image is None or image.status != Status.FAILED or image.updated_at >= timezone.now() - older_than:
        return False
    removed = temp_storage.remove(image.image_path)
    if removed:
        log.info("pending image %s: failed over %s ago, temp original deleted", image.pk, older_than)
    return removed


def failed_originals_sweep(*, image_ids: list[int], older_than: timedelta) -> int:
    """:func:`failed_original_sweep_one` for each id, one transaction each; the files deleted."""
    return sum(failed_original_sweep_one(image_id=image_id, older_than=older_than) for image_id in image_ids)


@dataclass
class SweepResult:
    """What one :func:`uploads_stuck_sweep` did."""

    requeued: int = 0
    failed: int = 0
    skipped: int = 0


@transaction.atomic
def upload_stuck_sweep_one(*, image_id: int, older_than: timedelta, fail: bool) -> str:
    """Deal with one stuck row: ``"requeued"``, ``"failed"``, or ``"skipped"`` when it has moved
    on (or been touched) since it was found.

    Re-queueing keeps the row ``pending`` and restarts its clock (``updated_at``): the media VM
    lists pending rows by upload time, so it keeps its place in the queue, and it shows as stuck
    again only if another ``older_than`` passes without the VM taking it. A row whose temp
    original is gone can never be processed and is failed either way.
    """
    image = Upload.objects.select_for_update().filter(pk=image_id).first()
    if image is None or image.status != Status.PENDING or image.updated_at >= timezone.now() - older_than:
        return "skipped"
    minutes = int(older_than.total_seconds() // 60)
    if fail or not temp_storage.exists(image.image_path or ""):
        reason = f"stuck: pending for over {minutes} minute(s)" if fail else "stuck, and the temp original is gone"
        upload_fail(image_id=image.pk, reason=reason)
        return "failed"
    image.failure_reason = ""
    image.save(update_fields=["failure_reason", "updated_at"])
    log.info("pending image %s re-queued after being stuck for over %s minute(s)", image.pk, minutes)
    return "requeued"


def uploads_stuck_sweep(
    *, image_ids: list[int], older_than: timedelta, fail: bool, progress: Callable[[str], None] | None = None
) -> SweepResult:
    """:func:`upload_stuck_sweep_one` for each id, one transaction each."""
    result = SweepResult()
    for image_id in image_ids:
        outcome = upload_stuck_sweep_one(image_id=image_id, older_than=older_than, fail=fail)
        setattr(result, outcome, getattr(result, outcome) + 1)
        if progress is not None:
            progress(outcome)
    return result


# --- rows left processed ----------------------------------------------------------------------


@dataclass
class ReplaceResult:
    """What :func:`uploads_processed_complete` did: rows completed, references rewritten, rows
    skipped (another run held them, or had completed them already)."""

    completed: int = 0
    references: int = 0
    skipped: int = 0


def uploads_processed_complete(*, batch_size: int = 1000,
                               progress: Callable[[int | None], None] | None = None) -> ReplaceResult:
    """Complete every row still ``processed``: the seed's URL replacement (``replace_temp_urls``
    and ``run_scheduler``), now a sweeper. A completion accepted from the media VM completes its
    row at once (``services.lifecycle.upload_complete``); what is left here is what a crash
    between the two or a version from before that left behind, and the first sweep after an
    upgrade completes it.

    Each row gets its own transaction and is locked with ``SKIP LOCKED`` where the database
    has it, so two runs at once split the work instead of doing it twice or waiting.
    ``progress`` is called after each row with the references it rewrote (None: skipped).
    """
    result = ReplaceResult()
    after = 0
    while True:
        ids = upload_ids_processed(after=after, limit=batch_size)
        if not ids:
            return result
        for image_id in ids:
            rewritten = upload_processed_complete_one(image_id=image_id)
            if progress is not None:
                progress(rewritten)
            if rewritten is None:
                result.skipped += 1
            else:
                result.completed += 1
                result.references += rewritten
        after = ids[-1]


@transaction.atomic
def upload_processed_complete_one(*, image_id: int) -> int | None:
    """Complete one ``processed`` row (:func:`~main_api.media.services.lifecycle.upload_mark_complete`:
    ``upload.completed`` rewrites its references); the number of references rewritten, or None
    when another run holds it or has completed it already."""
    image = upload_processed_lock(image_id=image_id)
    if image is None:
        return None
    return upload_mark_complete(image=image).references
