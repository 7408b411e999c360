"""The per-image checklist: each step is a small class with a name and a ``run()``.

Steps read what earlier steps stored (the original's path, the analysis) from the media
DB, so a step that failed can be run again on its own without redoing the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from media_vm.api_client import MainAPIClient
from media_vm.checklist import Step
from media_vm.config import Settings
from media_vm.db import Claim, Repository, utcnow
from media_vm.isolation import ImageProcesses
from media_vm.storage import LocalStorage
from shared.data_types import DataType
from shared.payloads import CompletePayload

log = logging.getLogger(__name__)
T = TypeVar("T")

#: An original larger than this is refused while downloading (the API caps uploads far lower).
MAX_ORIGINAL_BYTES = 64 * 1024 * 1024


@dataclass
class StepContext:
    settings: Settings
    repo: Repository
    storage: LocalStorage
    client: MainAPIClient
    claim: Claim
    images: ImageProcesses | None = None

    def isolated(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run image work in this thread's child process, under the per-image time limit."""
        if self.images is None:
            return func(*args, **kwargs)
        return self.images.call(func, *args, **kwargs)

    def row(self) -> Any:
        return self.repo.media_file(self.claim.media_file_id)

    def original(self) -> Path:
        row = self.row()
        if not row["bulk_path"]:
            raise RuntimeError("the original has not been retrieved")
        return self.storage.fetch(row["bulk_path"])  # downloaded when another host retrieved it


class RetrieveFile:
    """Download the temp original into ``bulk/YYYY-MM-DD/``, untouched."""

    step = Step.RETRIEVE_FILE

    def run(self, ctx: StepContext) -> None:
        row = ctx.row()
        relpath = ctx.storage.bulk_relpath(row["media_id"], row["mime_type"], row["created_at"].date())
        with ctx.client.download(row["image_path"]) as chunks:
            size = ctx.storage.write_stream(relpath, chunks, max_bytes=MAX_ORIGINAL_BYTES)
        if size == 0:
            raise ValueError("the main API sent an empty original")
        ctx.repo.save_original(ctx.claim, relpath)


class VisualAnalysis:
    """Analysis of the original (local, plus the vision providers configured), stored in
    ``media_ai_analysis``; its fingerprint in ``media_fingerprints``, and a duplicate of an
    earlier upload of the same user flagged (``duplicate_of``)."""

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
        ctx.repo.save_analysis(ctx.claim, analysis)


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


def complete_payload(repo: Repository, row: Any, public_url: str) -> CompletePayload:
    """The rich payload of ``POST /api/media/complete/{id}`` for a processed image."""
    variants = repo.variants(row["media_id"])
    analysis = repo.analysis(row["id"]) or {}
    formats = sorted({v["format"] for v in variants})
    sizes = [s for s in ("thumbnail", "grid", "small", "detail", "header", "zoom")
             if any(v["size"] == s for v in variants)]
    return {
        "media_id": row["media_id"],
        "permanent_url": f"{public_url}/serve/{row['media_id']}",
        "processing_complete": True,
        "ai_enhanced": bool(analysis),
        "formats_available": formats,
        "sizes_available": sizes,
        "ai_analysis": analysis,
    }


class UpdateCallback:
    """Tell the main API the image is processed (idempotent on its side)."""

    step = Step.UPDATE_CALLBACK

    def run(self, ctx: StepContext) -> None:
        row = ctx.row()
        ctx.client.complete(row["main_api_id"], complete_payload(ctx.repo, row, ctx.settings.public_url))


CHECKLIST = (RetrieveFile(), VisualAnalysis(), ResizeOptimize(), UpdateCallback())

__all__ = ["CHECKLIST", "StepContext", "complete_payload", "utcnow"]
