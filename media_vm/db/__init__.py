"""The media DB: every table, migration and query of the VM, split by concept.

``schema`` (tables), ``migrations``, ``engine`` (engines, ``utcnow``), and the records of each
concept: ``queue`` (registering, claims, leases, final state), ``checklist`` (steps),
``results`` (original, analysis, variants), ``fingerprints``, ``heartbeats`` (and the counts
of ``/metrics``), ``deletions`` (erasing a deleted upload). :class:`Repository` is all of them
over one engine; nothing outside this package writes SQL.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from media_vm.db.base import Claim
from media_vm.db.checklist import ChecklistRecords
from media_vm.db.deletions import DeletionRecords
from media_vm.db.engine import make_engine, ping, utcnow
from media_vm.db.fingerprints import FingerprintRecords
from media_vm.db.heartbeats import HeartbeatRecords, ProcessIdentity
from media_vm.db.migrations import MIGRATIONS, current_version, migrate
from media_vm.db.queue import QueueRecords
from media_vm.db.results import ResultsRecords
from media_vm.db.schema import (
    media_ai_analysis,
    media_files,
    media_fingerprints,
    media_variants,
    metadata,
    processing_checklist,
    schema_version,
    worker_heartbeats,
)


class Repository(QueueRecords, ChecklistRecords, ResultsRecords, FingerprintRecords, HeartbeatRecords,
                 DeletionRecords):
    """Every read and write of the media DB the worker, the healer and the server make."""

    def __init__(self, engine: Engine, *, lease_seconds: int = 300) -> None:
        super().__init__(engine, lease_seconds=lease_seconds)


__all__ = [
    "MIGRATIONS", "Claim", "ProcessIdentity", "Repository", "current_version", "make_engine", "media_ai_analysis",
    "media_files", "media_fingerprints", "media_variants", "metadata", "migrate", "ping", "processing_checklist",
    "schema_version", "utcnow", "worker_heartbeats",
]
