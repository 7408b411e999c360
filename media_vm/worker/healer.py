"""The self-healing cycle: stalled steps, undelivered reports, and (with object storage)
working copies a killed worker left in the host's scratch space.

Runs inside every worker (every ``HEAL_INTERVAL_SECONDS``) and on its own with
``python -m media_vm heal`` (which then works the images it made due). One cycle touches at
most ``HEAL_BATCH`` images of each kind. Like rq's maintenance, it takes the collaborators,
not the worker: it never processes an image itself.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from media_vm.config import Settings
from media_vm.db import Repository, utcnow
from media_vm.defaults import REPORT_RETRY_SECONDS
from media_vm.exceptions import MainAPIError
from media_vm.storage import Storage
from media_vm.worker.reporting import Reporter

log = logging.getLogger("media_vm.healer")  # the name its log lines have always carried


def scratch_max_age(lease_seconds: int) -> float:
    """Age (seconds) past which a working copy is nobody's: an hour, or two leases if longer."""
    return float(max(3600, 2 * lease_seconds))


def heal(*, settings: Settings, repo: Repository, storage: Storage, reporter: Reporter) -> dict[str, int]:
    """One cycle. Returns counts: ``stalled`` (steps a dead worker left running, now failed
    and due again), ``called_back`` / ``cleaned_up`` (outcomes delivered now),
    ``report_failed`` (not delivered, retried after ``REPORT_RETRY_SECONDS``) and, with object
    storage, ``swept`` (stale working copies removed)."""
    report = {"stalled": 0, "called_back": 0, "cleaned_up": 0, "report_failed": 0}

    report["stalled"] = len(repo.reset_stalled(settings.heal_batch, settings.stall_seconds))
    if storage.remote:
        # the bucket has them; a step that still wants one downloads it again
        report["swept"] = storage.sweep_working_copies(older_than=scratch_max_age(settings.lease_seconds))

    for row in repo.unreported(settings.heal_batch):
        try:
            report[reporter.deliver(row)] += 1
        except MainAPIError as e:
            if e.permanent:
                # the main API refuses this outcome for good (e.g. the row is gone): stop asking
                log.warning("heal: main API refused the report for %s: %s", row["main_api_id"], e)
                repo.mark_reported(row["id"])
            else:
                report["report_failed"] += 1
                repo.postpone_report(row["id"], utcnow() + timedelta(seconds=REPORT_RETRY_SECONDS))
    log.info("heal: %s", report)
    return report
