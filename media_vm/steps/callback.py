"""``update_callback``: tell the main API the image is processed."""

from __future__ import annotations

import logging

from media_vm.checklist import Step
from media_vm.processing_metrics import image_metrics
from media_vm.steps.context import StepContext

log = logging.getLogger(__name__)


class UpdateCallback:
    """The image's processing metrics (``media_vm.processing_metrics``) are kept and logged, then
    ``POST /api/media/complete/{id}`` with the rich payload, which carries them (idempotent on
    the main API's side); raises :class:`MainAPIError` when not delivered."""

    step = Step.UPDATE_CALLBACK

    def run(self, ctx: StepContext) -> None:
        row = ctx.row()
        metrics = image_metrics(ctx.repo, row)
        ctx.repo.save_metrics(ctx.claim, metrics)
        log.info("job metrics: %s ms over %s step(s), %s bytes in, %s out", metrics["processing_ms"],
                 len(metrics["steps_ms"]), metrics["original_bytes"],
                 sum(group["output_bytes"] for group in metrics["outputs"].values()),
                 extra={"metrics": metrics, "data_type": row["data_type"], "source_tool": row["source_tool"]})
        ctx.reporter.complete(row)
