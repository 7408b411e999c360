"""``retrieve_file``: the temp original from the main API into ``bulk/YYYY-MM-DD/``, untouched."""

from __future__ import annotations

from media_vm.checklist import Step
from media_vm.defaults import MAX_ORIGINAL_BYTES
from media_vm.exceptions import OriginalRejected
from media_vm.steps.context import StepContext
from shared.statuses import UploadStage


class RetrieveFile:
    """Download the temp original into ``bulk/YYYY-MM-DD/{media_id}.{ext}``, byte for byte.

    Raises :class:`OriginalRejected` for an empty original and :class:`TooLarge` for one over
    ``MAX_ORIGINAL_BYTES`` (neither is kept), :class:`MainAPIError` when the download fails."""

    step = Step.RETRIEVE_FILE

    def run(self, ctx: StepContext) -> None:
        row = ctx.row()
        relpath = ctx.storage.bulk_relpath(row["media_id"], row["mime_type"], row["created_at"].date())
        with ctx.client.download(row["image_path"]) as chunks:
            size = ctx.storage.write_stream(relpath, chunks, max_bytes=MAX_ORIGINAL_BYTES)
        if size == 0:
            ctx.storage.delete(relpath)
            raise OriginalRejected("the main API sent an empty original")
        ctx.repo.save_original(ctx.claim, relpath, size)
        ctx.reporter.progress(row, UploadStage.RETRIEVED)
