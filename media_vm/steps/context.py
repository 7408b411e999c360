"""What every step works with: the settings, the media DB, the storage, the main API."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy.engine import RowMapping

from media_vm.api_client import MainAPIClient
from media_vm.checklist import Step
from media_vm.config import Settings
from media_vm.db import Claim, Repository
from media_vm.isolation import ImageProcesses
from media_vm.storage import Storage
from media_vm.worker.reporting import Reporter

T = TypeVar("T")


@dataclass
class StepContext:
    """One claimed image's collaborators. ``storage`` is the claim's own view of the store (with
    object storage, a work folder of its own); ``images`` runs image work in a child process
    under the per-image time limit (``None``: in this process, as tests may choose)."""

    settings: Settings
    repo: Repository
    storage: Storage
    client: MainAPIClient
    reporter: Reporter
    claim: Claim
    images: ImageProcesses | None = None

    def isolated(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run image work in this thread's child process, under the per-image time limit."""
        if self.images is None:
            return func(*args, **kwargs)
        return self.images.call(func, *args, **kwargs)

    def row(self) -> RowMapping:
        """The image's ``media_files`` row, read now."""
        return self.repo.media_file(self.claim.media_file_id)

    def original(self) -> Path:
        """A local path of the retrieved original (downloaded when another host retrieved it).
        Raises RuntimeError before ``retrieve_file`` has run."""
        row = self.row()
        if not row["bulk_path"]:
            raise RuntimeError("the original has not been retrieved")
        return self.storage.fetch(row["bulk_path"])

    def variants_publish(self, media_id: str, reldir: str, variants: Iterable[Any]) -> list[dict[str, Any]]:
        """Publish the files ``make_variants`` wrote under the store's ``reldir`` (its
        ``Variant`` objects), then record them as the variants of ``media_id`` in the media DB,
        in that order (``/serve`` never points at a missing object); the variant rows recorded."""
        rows: list[dict[str, Any]] = [
            {"size": v.size, "format": v.format, "bg": v.bg, "path": f"{reldir}/{Path(v.path).name}",
             "width": v.width, "height": v.height, "bytes": v.bytes}
            for v in variants
        ]
        self.storage.publish([r["path"] for r in rows])
        self.repo.add_variants(self.claim, media_id, rows)
        return rows


class StepImpl(Protocol):
    """A step of the checklist: its name and what it does to one image."""

    step: Step

    def run(self, ctx: StepContext) -> None:
        """Do the step; raise to fail it (``media_vm.worker.policy`` judges the error)."""
        ...
