"""``resize_optimize``: every size and format of the contract (the variants)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from media_vm.checklist import Step
from media_vm.steps.context import StepContext
from shared.data_types import DataType
from shared.statuses import UploadStage


class ResizeOptimize:
    """Every size and format of the contract into ``library/user_{id}/{type}/img/``, published
    to the store before the media DB names them (``/serve`` never points at a missing object)."""

    step = Step.RESIZE_OPTIMIZE

    def run(self, ctx: StepContext) -> None:
        from media_vm.imaging import crop_focus, make_variants

        row = ctx.row()
        reldir = ctx.storage.library_reldir(row["user_id"], row["data_type"])
        out_dir = ctx.storage.path(reldir)
        variants = ctx.isolated(
            make_variants, ctx.original(), out_dir, stem=row["media_id"], data_type=DataType(row["data_type"]),
            max_pixels=ctx.settings.max_image_pixels, focus=crop_focus(ctx.repo.analysis(row["id"])),
        )
        rows: list[dict[str, Any]] = [
            {"size": v.size, "format": v.format, "bg": v.bg, "path": f"{reldir}/{Path(v.path).name}",
             "width": v.width, "height": v.height, "bytes": v.bytes}
            for v in variants
        ]
        ctx.storage.publish([r["path"] for r in rows])
        ctx.repo.save_variants(ctx.claim, row["media_id"], rows)
        # the thumbnail is servable from here (it is made with the other sizes, not before them)
        ctx.reporter.progress(row, UploadStage.VARIANTS_READY)
