"""Telling the main API what became of an image: the one place outcomes are reported.

The callback step, the give-up path and the healer all report through :class:`Reporter`:
``complete`` (``POST /api/media/complete/{id}`` with the rich payload) for a processed image,
``cleanup`` (``DELETE /api/media/cleanup/{id}`` with the reason) for one given up. Both are
idempotent on the main API's side, so a report may be repeated; ``reported`` on the media
file row records that the main API acknowledged it. ``deletion_done`` acknowledges a deleted
upload the VM has erased (``POST /api/media/deletions/{id}/done``, idempotent too).
``progress`` reports a stage as it is reached (``POST /api/media/progress/{id}``): best effort,
never retried and never failing the step (the final report carries the outcome).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import RowMapping

from media_vm.api_client import MainAPIClient
from media_vm.checklist import JobStatus
from media_vm.db import Claim, Repository
from media_vm.exceptions import MainAPIError
from media_vm.imaging.sizing import size_order
from media_vm.logging_setup import job_context
from shared.payloads import CompletePayload
from shared.statuses import UploadStage

log = logging.getLogger("media_vm.reporting")  # the name its log lines have always carried

#: The stages reached once the thumbnail is written and registered (``make_thumbnail`` runs
#: before the analysis and the other sizes): the media id goes with them.
THUMBNAIL_SERVABLE = frozenset({UploadStage.THUMBNAIL_READY, UploadStage.ANALYSED, UploadStage.VARIANTS_READY})


class Reporter:
    """Reports outcomes of the images in ``repo`` to the main API through ``client``;
    ``public_url`` is this VM's base URL as browsers reach it (``MEDIA_VM_PUBLIC_URL``)."""

    def __init__(self, repo: Repository, client: MainAPIClient, *, public_url: str) -> None:
        self.repo = repo
        self.client = client
        self.public_url = public_url.rstrip("/")

    def complete_payload(self, row: RowMapping) -> CompletePayload:
        """The rich payload of ``POST /api/media/complete/{id}`` for a processed image (its
        ``media_files`` row): permanent URL, formats and sizes available, the analysis, and
        every variant with its real pixel size (in the data type's order of sizes, smallest first,
        then format and bg), and the processing ``metrics`` (``media_vm.processing_metrics``;
        null for an image processed before they were recorded)."""
        variants = self.repo.variants(row["media_id"])
        analysis = self.repo.analysis(row["id"]) or {}
        present = {v["size"] for v in variants}
        order = size_order(row["data_type"])
        return {
            "media_id": row["media_id"],
            "permanent_url": f"{self.public_url}/serve/{row['media_id']}",
            "processing_complete": True,
            "ai_enhanced": bool(analysis),
            "formats_available": sorted({v["format"] for v in variants}),
            "sizes_available": sorted(present, key=lambda name: order.get(name, len(order))),
            "ai_analysis": analysis,
            # time per step, bytes in and out (media_vm.processing_metrics); also in the analysis
            "metrics": analysis.get("processing"),
            "variants": [
                {"size": v["size"], "format": v["format"], "bg": v["bg"], "width": int(v["width"]),
                 "height": int(v["height"]), "bytes": int(v["bytes"])}
                for v in sorted(variants, key=lambda v: (order.get(v["size"], len(order)), v["format"], v["bg"]))
            ],
        }

    def progress(self, row: RowMapping, stage: UploadStage) -> bool:
        """Tell the main API the image (its ``media_files`` row) reached ``stage``, with its
        media id once its thumbnail is servable (``thumbnail_ready``, ``variants_ready``: the
        main API then shows the id and the thumbnail URL); True when delivered. A failure is
        logged, not raised: progress is for people watching, and the callback reports the
        outcome anyway."""
        media_id = row["media_id"] if stage in THUMBNAIL_SERVABLE else None
        try:
            self.client.progress(row["main_api_id"], stage.value, media_id)
        except MainAPIError as e:
            log.info("progress %s of %s not delivered (%s)", stage.value, row["main_api_id"], e)
            return False
        return True

    def complete(self, row: RowMapping) -> dict[str, Any]:
        """Call back with the image's payload; raises :class:`MainAPIError` when not delivered."""
        return self.client.complete(row["main_api_id"], self.complete_payload(row))

    def give_up(self, claim: Claim, reason: str, *, report: bool = True) -> None:
        """Mark the claimed image failed with ``reason`` and, with ``report``, tell the main API
        (``cleanup``). An undelivered cleanup is left to the healer; without ``report`` the
        image counts as reported at once (the main API refused to hear of it)."""
        self.repo.fail(claim, reason)
        row = self.repo.media_file(claim.media_file_id)
        if not report:
            self.repo.mark_reported(claim.media_file_id)
            return
        try:
            self.client.cleanup(row["main_api_id"], reason)
            self.repo.mark_reported(claim.media_file_id)
        except MainAPIError as e:
            log.warning("worker %s: cleanup of %s not delivered (%s); the healer will retry",
                        claim.worker_id, row["main_api_id"], e)

    def deliver(self, row: RowMapping) -> str:
        """Report the final state of a finished or failed row (the healer's job) and mark it
        reported; returns ``"called_back"`` or ``"cleaned_up"``. Raises :class:`MainAPIError`
        when the main API cannot be reached or refuses (``permanent``); the caller decides."""
        with job_context(job_id=row["media_id"], request_id=row["request_id"]):
            if row["status"] == JobStatus.DONE.value:
                self.complete(row)
                outcome = "called_back"
            else:
                self.client.cleanup(row["main_api_id"], row["failure_reason"] or "failed on the media VM")
                outcome = "cleaned_up"
        self.repo.mark_reported(row["id"])
        return outcome

    def deletion_done(self, deletion_id: int) -> None:
        """Tell the main API the deletion ``deletion_id`` is erased here; raises
        :class:`MainAPIError` when not delivered (the deletion stays listed, and the next
        pass erases nothing more and acknowledges it again)."""
        self.client.deletion_done(deletion_id)
