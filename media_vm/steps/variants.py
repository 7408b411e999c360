"""``resize_optimize``: every size and format of the image's data type not made yet (the variants)."""

from __future__ import annotations

from media_vm.checklist import Step
from media_vm.steps.context import StepContext
from shared.data_types import DataType
from shared.sizes import presets_for, sizes_for
from shared.statuses import UploadStage


class ResizeOptimize:
    """Every size and format of the data type (``shared.sizes.sizes_for``: an artwork's three, the
    contract's six otherwise) into ``library/user_{id}/{type}/img/``, published
    to the store before the media DB names them (``/serve`` never points at a missing object).
    The sizes of the original background already registered (the thumbnail, made first by
    ``make_thumbnail``) are not made again; a logo's background-removed set is made whole. The
    sizes of ``WATERMARKED_SIZES`` carry the row's ``watermark`` (an artwork's artist) if it has one.
    An upload that names its ``source_tool`` also gets that tool's preset outputs (``normal``,
    ``hq``: ``shared.sizes.presets_for``), in their own formats and qualities, watermarked too
    when the row has a watermark (an artwork's are public and larger than a grid tile)."""

    step = Step.RESIZE_OPTIMIZE

    def run(self, ctx: StepContext) -> None:
        from media_vm.imaging import crop_focus, make_variants

        row = ctx.row()
        reldir = ctx.storage.library_reldir(row["user_id"], row["data_type"])
        out_dir = ctx.storage.path(reldir)
        sizes = sizes_for(row["data_type"])
        outputs = (*sizes, *presets_for(row["source_tool"]))
        made = {v["size"] for v in ctx.repo.variants(row["media_id"]) if v["bg"] == "original"}
        variants = ctx.isolated(
            make_variants, ctx.original(), out_dir, stem=row["media_id"], data_type=DataType(row["data_type"]),
            max_pixels=ctx.settings.max_image_pixels, focus=crop_focus(ctx.repo.analysis(row["id"])),
            sizes=tuple(size for size in outputs if size.name not in made), removed_sizes=sizes,
            watermark=row["watermark"],
        )
        ctx.variants_publish(row["media_id"], reldir, variants)
        ctx.reporter.progress(row, UploadStage.VARIANTS_READY)
