"""Backfilling sizes added to the outputs configuration (``python -m media_vm backfill``).

A size (or a preset output) added to ``MEDIA_OUTPUTS_FILE`` is made for new uploads at once; for
the images already processed, this finds each finished image that lacks one of the outputs its
data type (and its ``source_tool``) now has, and puts it back in the queue for two steps only:
``resize_optimize``, which makes just the missing outputs from the original it keeps (the sizes
already made are left as they are, same media id, same URLs), and ``update_callback``, which
sends the main API the longer list of variants. The workers do the work as they do any other
(claims, retries, the healer).

Resumable: an image is queued once its outputs are checked; running it again after an
interruption skips the images already complete or already queued. ``--dry-run`` counts only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from media_vm.checklist import Step
from media_vm.db import Repository
from shared.sizes import sizes_for

#: The steps a backfilled image goes through again.
BACKFILL_STEPS: tuple[str, ...] = (Step.RESIZE_OPTIMIZE.value, Step.UPDATE_CALLBACK.value)


@dataclass
class BackfillResult:
    """What one :func:`backfill` run found: finished images ``checked``, ``missing`` an output,
    ``queued`` (fewer than missing when a worker took one meanwhile, or with ``dry_run``)."""

    checked: int = 0
    missing: int = 0
    queued: int = 0


def missing_outputs(row, have: set[str]) -> list[str]:  # noqa: ANN001 - a media_files RowMapping
    """The names of the outputs the finished image ``row`` should have by the current outputs
    configuration (its data type's sizes and its source tool's preset) but has no variant of;
    ``have``: the sizes it has (``Repository.variant_sizes``)."""
    return [s.name for s in sizes_for(row["data_type"], row["source_tool"]) if s.name not in have]


def backfill(repo: Repository, *, dry_run: bool = False, batch: int = 200,
             progress: Callable[[BackfillResult], None] | None = None) -> BackfillResult:
    """Queue every finished image that lacks an output for :data:`BACKFILL_STEPS`; ``progress``
    is called after each full page of ``batch`` images with the counts so far."""
    result = BackfillResult()
    after = 0
    while rows := repo.done_after(after, batch):
        sizes = repo.variant_sizes(row["media_id"] for row in rows)  # one query a page
        for row in rows:
            result.checked += 1
            if missing_outputs(row, sizes.get(row["media_id"], set())):
                result.missing += 1
                if not dry_run and repo.requeue_steps(row["id"], BACKFILL_STEPS):
                    result.queued += 1
        after = rows[-1]["id"]
        if progress is not None and len(rows) == batch:  # the last, short page: the caller's summary
            progress(result)
    return result
