"""The self-healing cycle: stalled steps, undelivered reports, failed steps due again, and
(with object storage) working copies a killed worker left in the host's scratch space.

Runs inside every worker (every ``HEAL_INTERVAL_SECONDS``) and on its own with
``python -m media_vm heal``. One cycle touches at most ``HEAL_BATCH`` images of each kind.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from media_vm.api_client import MainAPIError
from media_vm.checklist import JobStatus
from media_vm.db import utcnow
from media_vm.steps import complete_payload

if TYPE_CHECKING:
    from media_vm.worker import Worker

log = logging.getLogger(__name__)


def scratch_max_age(lease_seconds: int) -> float:
    """Age past which a working copy is nobody's: an hour, or two leases if longer."""
    return float(max(3600, 2 * lease_seconds))


def heal(worker: Worker, *, process: bool = True) -> dict[str, int]:
    """One cycle; with ``process`` it also works the images it finds due (the CLI does)."""
    settings, repo, client = worker.settings, worker.repo, worker.client
    report = {"stalled": 0, "called_back": 0, "cleaned_up": 0, "report_failed": 0, "retried": 0}

    report["stalled"] = len(repo.reset_stalled(settings.heal_batch, settings.stall_seconds))
    if worker.storage.remote:
        # the bucket has them; a step that still wants one downloads it again
        report["swept"] = worker.storage.sweep_working_copies(older_than=scratch_max_age(settings.lease_seconds))

    for row in repo.unreported(settings.heal_batch):
        try:
            if row["status"] == JobStatus.DONE.value:
                client.complete(row["main_api_id"], complete_payload(repo, row, settings.public_url))
                report["called_back"] += 1
            else:
                client.cleanup(row["main_api_id"], row["failure_reason"] or "failed on the media VM")
                report["cleaned_up"] += 1
            repo.mark_reported(row["id"])
        except MainAPIError as e:
            if e.permanent:
                # the main API refuses this outcome for good (e.g. the row is gone): stop asking
                log.warning("heal: main API refused the report for %s: %s", row["main_api_id"], e)
                repo.mark_reported(row["id"])
            else:
                report["report_failed"] += 1
                repo.postpone_report(row["id"], utcnow() + timedelta(seconds=worker.retry.cap_seconds / 10))

    if process:
        while report["retried"] < settings.heal_batch:
            claim = repo.claim_next(settings.worker_id)
            if claim is None:
                break
            worker.process(claim)
            report["retried"] += 1
    log.info("heal: %s", report)
    return report
