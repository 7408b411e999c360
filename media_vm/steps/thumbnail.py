"""``make_thumbnail``: the thumbnail set (every format of the ``thumbnail`` size) before anything
else, so that a browser has a sharp image within about a second of the upload."""

from __future__ import annotations

from media_vm.checklist import Step
from media_vm.steps.context import StepContext
from shared.data_types import DataType
from shared.sizes import SIZES_BY_NAME
from shared.statuses import UploadStage

#: The size made first.
THUMBNAIL = SIZES_BY_NAME["thumbnail"]


class MakeThumbnail:
    """The ``thumbnail`` size of the original background in every format, cut around the faces
    or the salient region measured on the analysis' shrink-on-load copy
    (``imaging.measure_focus``: the full analysis comes later and finds the same), published
    and registered at once: ``/serve`` answers it while the other sizes are still to come.
    Reports ``thumbnail_ready`` with the media id. A logo's background-removed set comes with
    the other sizes."""

    step = Step.MAKE_THUMBNAIL

    def run(self, ctx: StepContext) -> None:
        from media_vm.imaging import make_variants, measure_focus

        row = ctx.row()
        original = ctx.original()
        focus = ctx.isolated(measure_focus, original, max_pixels=ctx.settings.max_image_pixels)
        reldir = ctx.storage.library_reldir(row["user_id"], row["data_type"])
        variants = ctx.isolated(
            make_variants, original, ctx.storage.path(reldir), stem=row["media_id"],
            data_type=DataType(row["data_type"]), max_pixels=ctx.settings.max_image_pixels, focus=focus,
            sizes=(THUMBNAIL,), removed_sizes=(), watermark=row["watermark"],
        )
        ctx.variants_publish(row["media_id"], reldir, variants)
        ctx.reporter.progress(row, UploadStage.THUMBNAIL_READY)
