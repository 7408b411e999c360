"""``ai_visual_analysis``: the local analysis (and the vision providers configured)."""

from __future__ import annotations

from media_vm.checklist import Step
from media_vm.steps.context import StepContext
from shared.statuses import UploadStage


class VisualAnalysis:
    """Analysis of the original stored in ``media_ai_analysis``; its fingerprint in
    ``media_fingerprints``, and a duplicate of an earlier upload of the same user flagged
    (``duplicate_of``)."""

    step = Step.AI_VISUAL_ANALYSIS

    def run(self, ctx: StepContext) -> None:
        from media_vm.providers import analyse_for_storage
        from media_vm.similarity import find_duplicate

        row = ctx.row()
        result = ctx.isolated(
            analyse_for_storage, ctx.original(), data_type=row["data_type"],
            max_pixels=ctx.settings.max_image_pixels, settings=ctx.settings,
        )
        fingerprint = {**result["fingerprint"], "media_id": row["media_id"], "user_id": row["user_id"],
                       "data_type": row["data_type"]}
        ctx.repo.save_fingerprint(ctx.claim, fingerprint)  # before looking: see find_duplicate
        duplicate = find_duplicate(ctx.repo, fingerprint, media_file_id=row["id"])
        analysis = {**result["analysis"], **(duplicate or {"duplicate_of": None})}
        exif = analysis.get("exif")
        if isinstance(exif, dict) and exif.get("gps") is not None and not row.get("keep_location"):
            # the owner does not keep locations: the position is never stored, here or on the main API
            analysis["exif"] = {**exif, "gps": None}
        ctx.repo.save_analysis(ctx.claim, analysis)
        ctx.reporter.progress(row, UploadStage.ANALYSED)
